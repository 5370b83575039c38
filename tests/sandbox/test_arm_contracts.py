"""Contract tests against the official ARM spec examples (../shared/azure-rest-examples).

For every example file: make the equivalent request to the sandbox (same operation, the example's api-version,
the example's request body where it has one) and check that the sandbox's response has every field the
example's response has, recursively (lists: the first item). Values are not compared: the examples' are
placeholders. A file with no contract here fails, so a new example cannot be skipped silently.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azure.core.rest import HttpResponse

from tests.conftest import Env, fast_settings
from tests.sandbox.arm_support import SCENARIO, Arm, arm, service_principal_object_id, unique
from wizard.sandbox import Sandbox, clusters

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "azure-rest-examples"
EXAMPLE_FILES = sorted(p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*.json")) if EXAMPLES.is_dir() \
    else []

# Lists the sandbox legitimately leaves empty where an example shows items (no field to compare inside).
EMPTY_IS_FINE = {"managedByTenants"}  # no sandbox subscription is managed from another tenant
# Maps whose keys are the caller's data, not field names: only their presence is compared.
USER_MAPS = {"tags"}


def missing_fields(example: Any, actual: Any, path: str = "") -> list[str]:
    """Field names present in `example` but absent from `actual`, as dotted paths."""
    if isinstance(example, dict):
        if not isinstance(actual, dict):
            return [path or "<root>"]
        missing = []
        for key, value in example.items():
            if key not in actual:
                missing.append(f"{path}.{key}")
            elif key not in USER_MAPS:
                missing.extend(missing_fields(value, actual[key], f"{path}.{key}"))
        return missing
    if isinstance(example, list) and example:
        if not isinstance(actual, list):
            return [path]
        if not actual:
            return [] if path.rsplit(".", 1)[-1] in EMPTY_IS_FINE else [f"{path}[] (empty)"]
        return missing_fields(example[0], actual[0], f"{path}[0]")
    return []


@dataclass
class Ctx:
    env: Env
    north: Arm  # northwind: an empty subscription, so what a contract creates is all there is
    contoso: Arm  # contoso-platform: three subscriptions in the tenant, seeded quota
    rg: str

    def rg_path(self, client: Arm | None = None, rg: str | None = None) -> str:
        return f"{(client or self.north).sub_scope}/resourceGroups/{rg or self.rg}"

    def new_rg(self) -> str:
        name = unique("rg-contract")
        self.north.resources().resource_groups.create_or_update(name, {"location": "eastus"})
        return name

    def wait_cluster(self, path: str) -> None:
        deadline = time.monotonic() + 15
        while self.north.raw("GET", path).json()["properties"]["provisioningState"] != "Succeeded":
            assert time.monotonic() < deadline, "cluster did not finish provisioning"
            time.sleep(0.1)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ctx]:
    box = Sandbox(tmp_path_factory.mktemp("arm-contracts"), scenario_ref=SCENARIO, settings=fast_settings())
    box.start()
    try:
        env = Env(box)
        north = arm(env, "northwind")
        context = Ctx(env, north, arm(env, "contoso", subscription="contoso-platform"), "rg-contract")
        north.resources().resource_groups.create_or_update("rg-contract", {"location": "eastus"})
        yield context
    finally:
        box.stop()


# -- requests equivalent to each example -------------------------------------------------------------------------

Contract = Callable[[Ctx, dict[str, Any], str], HttpResponse]
UAMI = "providers/Microsoft.ManagedIdentity/userAssignedIdentities"
MC = "providers/Microsoft.ContainerService/managedClusters"
AUTH = "providers/Microsoft.Authorization"
QUOTA = "providers/Microsoft.Compute/locations/eastus/providers/Microsoft.Quota"
AKS_RBAC_READER = "7f6c6a51-bcf8-42ba-9220-52d62157d7db"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def _request_body(example: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(example["parameters"].get("parameters") or {})
    if body.get("location") in {"location1", "West US"}:
        body["location"] = "eastus"
    return body


def _identity(c: Ctx, v: str, rg: str | None = None, tags: bool = True) -> str:
    path = f"{c.rg_path(rg=rg)}/{UAMI}/{unique('mi')}"
    body: dict[str, Any] = {"location": "eastus", **({"tags": {"key1": "value1"}} if tags else {})}
    assert c.north.raw("PUT", path, api_version=v, json=body).status_code == 201
    return path


def _fic(c: Ctx, v: str, identity: str) -> str:
    path = f"{identity}/federatedIdentityCredentials/{unique('fic')}"
    props = {"issuer": "https://oidc.example/issuer/", "subject": f"system:serviceaccount:ns:{uuid.uuid4().hex[:6]}",
             "audiences": ["api://AzureADTokenExchange"]}
    assert c.north.raw("PUT", path, api_version=v, json={"properties": props}).status_code == 201
    return path


def _put_assignment(c: Ctx, v: str) -> tuple[str, HttpResponse]:
    """Reader for northwind's automation principal on a fresh resource group (so it is never a duplicate)."""
    principal = service_principal_object_id(c.env, "northwind-automation")
    path = f"{c.rg_path(rg=c.new_rg())}/{AUTH}/roleAssignments/{uuid.uuid4()}"
    body = {"properties": {"roleDefinitionId": f"{c.north.sub_scope}/{AUTH}/roleDefinitions/{READER}",
                           "principalId": principal, "principalType": "ServicePrincipal"}}
    return path, c.north.raw("PUT", path, api_version=v, json=body)


def _assignment(c: Ctx, v: str) -> str:
    path, response = _put_assignment(c, v)
    assert response.status_code == 201, response.text()
    return path


_READ_ONLY = {"eTag", "provisioningState", "fqdn", "azurePortalFQDN", "currentKubernetesVersion", "maxAgentPools",
              "nodeResourceGroup", "powerState", "currentOrchestratorVersion", "nodeImageVersion",
              "effectiveOutboundIPs"}


def _writable(value: Any) -> Any:
    """A response body minus what AKS computes: what a client would PUT to get that cluster."""
    if isinstance(value, dict):
        return {k: _writable(v) for k, v in value.items() if k not in _READ_ONLY}
    if isinstance(value, list):
        return [_writable(v) for v in value]
    return value


def _cluster_like_get_example(c: Ctx, rg: str) -> str:
    """A cluster configured as ManagedClustersGet.json's is (its writable fields), provisioned."""
    shown = json.loads((EXAMPLES / "Microsoft.ContainerService/2026-08-01/ManagedClustersGet.json").read_text())
    body = {k: v for k, v in _writable(shown["responses"]["200"]["body"]).items() if k not in {"id", "name", "type"}}
    body["location"] = "eastus"
    body["properties"]["kubernetesVersion"] = clusters.KUBERNETES_VERSION
    for pool in body["properties"]["agentPoolProfiles"]:
        pool["orchestratorVersion"] = clusters.KUBERNETES_VERSION
    path = f"{c.rg_path(rg=rg)}/{MC}/{unique('aks')}"
    assert c.north.raw("PUT", path, api_version="2026-08-01", json=body).status_code == 201
    c.wait_cluster(path)
    return path


def _create_rg(c: Ctx, ex: dict[str, Any], v: str) -> HttpResponse:
    return c.north.raw("PUT", f"{c.north.sub_scope}/resourcegroups/{unique('rg')}", api_version=v,
                       json=_request_body(ex))


def _identity_create(c: Ctx, ex: dict[str, Any], v: str) -> HttpResponse:
    return c.north.raw("PUT", f"{c.rg_path()}/{UAMI}/{unique('mi')}", api_version=v, json=_request_body(ex))


def _identity_list(c: Ctx, ex: dict[str, Any], v: str) -> HttpResponse:
    rg = c.new_rg()
    for _ in range(3):  # more than a page, so the list has a nextLink as the example does
        _identity(c, v, rg)
    return c.north.raw("GET", f"{c.rg_path(rg=rg)}/{UAMI}", api_version=v)


def _fic_create(c: Ctx, ex: dict[str, Any], v: str) -> HttpResponse:
    path = f"{_identity(c, v)}/federatedIdentityCredentials/{unique('fic')}"
    return c.north.raw("PUT", path, api_version=v, json=_request_body(ex))


def _fic_list(c: Ctx, ex: dict[str, Any], v: str) -> HttpResponse:
    identity = _identity(c, v)
    for _ in range(3):
        _fic(c, v, identity)
    return c.north.raw("GET", f"{identity}/federatedIdentityCredentials", api_version=v)


def _security_profile_create(c: Ctx, ex: dict[str, Any], v: str) -> HttpResponse:
    body = _request_body(ex)
    # The example's 201 shows a disk encryption set its request does not set; ask for one to be comparable.
    body["properties"]["diskEncryptionSetID"] = (f"{c.north.sub_scope}/resourceGroups/{c.rg}/providers/"
                                                 "Microsoft.Compute/diskEncryptionSets/des")
    # Workload identity needs the OIDC issuer; AKS turns it on by default only from Kubernetes 1.34, and the
    # sandbox's clusters run 1.32, so the request asks for it.
    body["properties"]["oidcIssuerProfile"] = {"enabled": True}
    path = f"{c.rg_path(rg=c.new_rg())}/{MC}/{unique('aks')}"
    response = c.north.raw("PUT", path, api_version=v, json=body)
    c.wait_cluster(path)
    return response


def _cluster_list_by_rg(c: Ctx, ex: dict[str, Any], v: str) -> HttpResponse:
    rg = c.new_rg()
    _cluster_like_get_example(c, rg)
    return c.north.raw("GET", f"{c.rg_path(rg=rg)}/{MC}", api_version=v)


def _cluster_list(c: Ctx, ex: dict[str, Any], v: str) -> HttpResponse:
    _cluster_like_get_example(c, c.new_rg())  # every cluster this module makes is configured like the example
    return c.north.raw("GET", f"{c.north.sub_scope}/{MC}", api_version=v)


CONTRACTS: dict[str, Contract] = {
    "GetSubscription.json": lambda c, ex, v: c.contoso.raw("GET", c.contoso.sub_scope, api_version=v),
    "GetSubscriptions.json": lambda c, ex, v: c.contoso.raw("GET", "/subscriptions", api_version=v),
    "GetTenants.json": lambda c, ex, v: c.contoso.raw("GET", "/tenants", api_version=v),
    "CreateResourceGroup.json": _create_rg,
    "GetProvider.json": lambda c, ex, v: c.north.raw(
        "GET", f"{c.north.sub_scope}/providers/Microsoft.ContainerService", api_version=v),
    "getComputeOneSkuQuotaLimit.json": lambda c, ex, v: c.contoso.raw(
        "GET", f"{c.contoso.sub_scope}/{QUOTA}/quotas/cores", api_version=v),
    "getComputeOneSkuUsages.json": lambda c, ex, v: c.contoso.raw(
        "GET", f"{c.contoso.sub_scope}/{QUOTA}/usages/cores", api_version=v),
    "IdentityCreate.json": _identity_create,
    "IdentityGet.json": lambda c, ex, v: c.north.raw("GET", _identity(c, v), api_version=v),
    "IdentityListByResourceGroup.json": _identity_list,
    "IdentityDelete.json": lambda c, ex, v: c.north.raw("DELETE", _identity(c, v), api_version=v),
    "FederatedIdentityCredentialCreate.json": _fic_create,
    "FederatedIdentityCredentialGet.json": lambda c, ex, v: c.north.raw(
        "GET", _fic(c, v, _identity(c, v)), api_version=v),
    "FederatedIdentityCredentialList.json": _fic_list,
    "FederatedIdentityCredentialDelete.json": lambda c, ex, v: c.north.raw(
        "DELETE", _fic(c, v, _identity(c, v)), api_version=v),
    "GetRoleDefinitionAtScope.json": lambda c, ex, v: c.north.raw(  # a role with data actions, as the example's
        "GET", f"{c.north.sub_scope}/{AUTH}/roleDefinitions?$filter=roleName eq 'Azure Kubernetes Service RBAC "
               "Reader'", api_version=v),
    "GetRoleDefinitionByName.json": lambda c, ex, v: c.north.raw(
        "GET", f"{c.north.sub_scope}/{AUTH}/roleDefinitions/{AKS_RBAC_READER}", api_version=v),
    "RoleAssignments_CreateForResourceGroup.json": lambda c, ex, v: _put_assignment(c, v)[1],
    "RoleAssignments_Get.json": lambda c, ex, v: c.north.raw("GET", _assignment(c, v), api_version=v),
    "RoleAssignments_Delete.json": lambda c, ex, v: c.north.raw("DELETE", _assignment(c, v), api_version=v),
    "RoleAssignments_ListForScope.json": lambda c, ex, v: c.north.raw(
        "GET", f"{c.north.sub_scope}/{AUTH}/roleAssignments", api_version=v),
    "ManagedClustersCreate_SecurityProfile.json": _security_profile_create,
    "ManagedClustersGet.json": lambda c, ex, v: c.north.raw(
        "GET", _cluster_like_get_example(c, c.new_rg()), api_version=v),
    "ManagedClustersList.json": _cluster_list,
    "ManagedClustersListByResourceGroup.json": _cluster_list_by_rg,
    "ManagedClustersListClusterUserCredentials.json": lambda c, ex, v: c.north.raw(
        "POST", f"{_cluster_like_get_example(c, c.new_rg())}/listClusterUserCredential", api_version=v),
    "ManagedClustersListClusterAdminCredentials.json": lambda c, ex, v: c.north.raw(
        "POST", f"{_cluster_like_get_example(c, c.new_rg())}/listClusterAdminCredential", api_version=v),
}

# A list whose example shows a nextLink, where the sandbox's list fits one page for a reason of the world, not of
# shape: a caller belongs to one tenant here.
SINGLE_PAGE = {"GetTenants.json"}


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason=f"the ARM spec examples are not at {EXAMPLES}")
@pytest.mark.parametrize("relative", EXAMPLE_FILES or ["<none>"])
def test_sandbox_response_has_every_field_of_the_spec_example(ctx: Ctx, relative: str) -> None:
    example = json.loads((EXAMPLES / relative).read_text())
    contract = CONTRACTS.get(Path(relative).name)
    assert contract is not None, f"no contract test for {relative}: add the equivalent request to CONTRACTS"
    response = contract(ctx, example, example["parameters"]["api-version"])
    responses = example["responses"]
    assert str(response.status_code) in responses, (
        f"{relative}: the sandbox answered {response.status_code} ({response.text()[:300]}), "
        f"the example documents {sorted(responses)}")
    expected = responses[str(response.status_code)].get("body")
    if expected is None:
        return
    if Path(relative).name in SINGLE_PAGE:
        expected = {k: v for k, v in expected.items() if k != "nextLink"}
    missing = missing_fields(expected, response.json())
    assert not missing, f"{relative}: the sandbox's response lacks {missing}"


def test_field_comparison_reports_what_is_missing() -> None:
    example = {"a": 1, "b": {"c": [{"d": 1, "e": 2}]}, "managedByTenants": [{"tenantId": "x"}], "tags": {"k": "v"}}
    assert missing_fields(example, {"a": 0, "b": {"c": [{"d": 0}]}, "managedByTenants": [], "tags": {}}) == [
        ".b.c[0].e"]
    assert missing_fields(example, {"a": 0, "b": {"c": []}, "managedByTenants": [], "tags": {}}) == [
        ".b.c[] (empty)"]
    assert missing_fields(example, {"b": "text"}) == [".a", ".b", ".managedByTenants", ".tags"]
