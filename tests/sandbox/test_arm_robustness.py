"""Whatever a client sends — any method, any ARM-looking path, any JSON or none — the sandbox's ARM answers
with a status below 500 and, for errors, ARM's `{"error":{"code","message"}}` body: never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import Env, fast_settings
from tests.sandbox.arm_support import Arm, arm
from wizard.sandbox import Sandbox

SEGMENTS = ["subscriptions", "SUBSCRIPTIONS", "resourceGroups", "resourcegroups", "rg-wi-demo", "providers",
            "Microsoft.ContainerService", "managedClusters", "aks-wi-demo", "listClusterUserCredential",
            "locations", "eastus", "operations", "operationresults", "Microsoft.ManagedIdentity",
            "userAssignedIdentities", "federatedIdentityCredentials", "mi-x", "Microsoft.Authorization",
            "roleAssignments", "roleDefinitions", "Microsoft.Quota", "quotas", "usages", "cores", "register",
            "Microsoft.Compute", "Microsoft.Nope", "tenants", "metadata", "endpoints", "00000000-0000-0000-0000-0",
            "acdd72a7-3385-48ef-bd42-f606fba81ae7", "ünïcode", "a b", "x" * 300]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
        ["location", "properties", "tags", "issuer", "subject", "audiences", "roleDefinitionId", "principalId",
         "principalType", "agentPoolProfiles", "oidcIssuerProfile", "securityProfile", "enabled", "name", "count"])
        | st.text(max_size=8), inner, max_size=5),
    max_leaves=12)


@pytest.fixture(scope="module")
def owner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Arm]:
    """contoso's Owner in a private world: random PUTs and DELETEs must not disturb other tests."""
    box = Sandbox(tmp_path_factory.mktemp("arm-robustness"), settings=fast_settings())
    box.start()
    try:
        yield arm(Env(box), "contoso")
    finally:
        box.stop()


@settings(max_examples=150, deadline=None)
@given(method=st.sampled_from(["GET", "PUT", "POST", "PATCH", "DELETE", "HEAD"]),
       root=st.sampled_from(["subscriptions", "Subscriptions", "tenants", "providers", "metadata"]),
       segments=st.lists(st.sampled_from(SEGMENTS) | st.just("{sub}"), max_size=12),
       body=st.none() | json_values)
def test_any_request_gets_an_arm_answer_below_500(owner: Arm, method: str, root: str, segments: list[str],
                                                  body: Any) -> None:
    path = "/" + "/".join([root, *(owner.subscription_id if s == "{sub}" else s for s in segments)])
    response = owner.raw(method, path, json=body)
    assert response.status_code < 500, (method, path, body, response.text()[:300])
    if response.status_code >= 400 and method != "HEAD":
        error = response.json()["error"]
        assert isinstance(error["code"], str) and error["code"]
        assert isinstance(error["message"], str) and error["message"]


WRITABLE = {
    "resource group": ("PUT", "resourcegroups/rg-fuzz"),
    "cluster": ("PUT", "resourceGroups/rg-wi-demo/providers/Microsoft.ContainerService/managedClusters/aks-fuzz"),
    "cluster update": ("PUT", "resourceGroups/rg-wi-demo/providers/Microsoft.ContainerService/managedClusters/"
                              "aks-wi-demo"),
    "identity": ("PUT", "resourceGroups/rg-wi-demo/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi-fuzz"),
    "fic": ("PUT", "resourceGroups/rg-wi-demo/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi-fuzz/"
                   "federatedIdentityCredentials/fc-fuzz"),
    "role assignment": ("PUT", "providers/Microsoft.Authorization/roleAssignments/"
                               "3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
    "tags": ("PATCH", "resourcegroups/rg-wi-demo"),
}
properties = st.fixed_dictionaries({}, optional={
    "location": st.sampled_from(["eastus", "westeurope", "nowhere"]) | json_values,
    "tags": json_values,
    "identity": json_values,
    "properties": st.fixed_dictionaries({}, optional={
        "agentPoolProfiles": json_values, "oidcIssuerProfile": json_values, "securityProfile": json_values,
        "kubernetesVersion": json_values, "nodeResourceGroup": json_values, "networkProfile": json_values,
        "issuer": json_values, "subject": json_values, "audiences": json_values, "roleDefinitionId": json_values,
        "principalId": json_values, "principalType": json_values, "dnsPrefix": json_values}),
})


@settings(max_examples=150, deadline=None)
@given(target=st.sampled_from(sorted(WRITABLE)), body=properties)
def test_any_body_written_to_a_resource_gets_an_arm_answer_below_500(owner: Arm, target: str,
                                                                     body: dict[str, Any]) -> None:
    method, path = WRITABLE[target]
    response = owner.raw(method, f"{owner.sub_scope}/{path}", json=body)
    assert response.status_code < 500, (target, body, response.text()[:300])
    if response.status_code >= 400:
        assert response.json()["error"]["code"]
