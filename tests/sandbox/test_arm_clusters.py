"""AKS managed clusters through `ContainerServiceClient`: realistic bodies, the long-running enable of the OIDC
issuer and workload identity, the AKS refusals, kubeconfig credentials, create/delete and a failed operation."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.conftest import Env
from tests.sandbox.arm_support import SCENARIO, Arm, arm, error_code
from wizard.sandbox import Sandbox, clusters


def _record(env: Env, cluster_id: str) -> dict[str, Any]:
    world = env.box.world
    assert world is not None
    record = clusters.by_arm_id(world, cluster_id)
    assert record is not None
    return record


def _new_cluster(location: str = "eastus", count: int = 1, vm_size: str = "Standard_DS2_v2") -> dict[str, Any]:
    return {"location": location, "identity": {"type": "SystemAssigned"},
            "properties": {"dnsPrefix": "wi", "agentPoolProfiles": [
                {"name": "nodepool1", "count": count, "vmSize": vm_size, "mode": "System", "osType": "Linux"}]}}


@pytest.fixture
def private(make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> Callable[..., Env]:
    def start(**kwargs: Any) -> Env:
        return make_env(make_sandbox(**kwargs))
    return start


def test_cluster_body_is_realistic(env: Env) -> None:
    mc = arm(env, "contoso").aks().managed_clusters.get("rg-platform", "aks-platform")
    record = _record(env, mc.id)
    assert mc.provisioning_state == "Succeeded" and mc.power_state.code == "Running"
    assert mc.fqdn == clusters.fqdn(record)
    assert mc.node_resource_group == "MC_rg-platform_aks-platform_westeurope"
    assert mc.kubernetes_version == mc.current_kubernetes_version == clusters.KUBERNETES_VERSION
    assert mc.network_profile.outbound_type == "loadBalancer"
    assert mc.identity_profile["kubeletidentity"].client_id
    assert mc.identity.type == "SystemAssigned" and mc.identity.tenant_id == env.tenant_id("contoso")
    assert mc.oidc_issuer_profile.enabled is True
    assert mc.oidc_issuer_profile.issuer_url == clusters.issuer_url(env.box.world, record)  # type: ignore[arg-type]
    assert mc.oidc_issuer_profile.issuer_url.endswith("/")
    assert mc.security_profile.workload_identity.enabled is True
    assert [p.name for p in mc.agent_pool_profiles] == ["nodepool1"]


def test_clusters_list_by_subscription_and_resource_group(env: Env) -> None:
    aks = arm(env, "contoso").aks().managed_clusters
    assert {(m.name, m.location) for m in aks.list()} >= {("aks-platform", "westeurope"), ("aks-wi-demo", "eastus")}
    assert [m.name for m in aks.list_by_resource_group("rg-wi-demo")] == ["aks-wi-demo"]


def test_missing_cluster_is_resource_not_found(env: Env) -> None:
    with pytest.raises(ResourceNotFoundError) as caught:
        arm(env, "contoso").aks().managed_clusters.get("rg-wi-demo", "aks-nope")
    assert error_code(caught.value) == "ResourceNotFound"


def test_enabling_oidc_and_workload_identity_is_a_long_running_update(private: Callable[..., Env]) -> None:
    env = private()
    contoso = arm(env, "contoso")
    aks = contoso.aks().managed_clusters
    mc = aks.get("rg-wi-demo", "aks-wi-demo")
    assert mc.oidc_issuer_profile.enabled is False and mc.oidc_issuer_profile.issuer_url is None
    from azure.mgmt.containerservice.models import (
        ManagedClusterOIDCIssuerProfile,
        ManagedClusterSecurityProfileWorkloadIdentity,
    )

    mc.oidc_issuer_profile = ManagedClusterOIDCIssuerProfile(enabled=True)
    mc.security_profile.workload_identity = ManagedClusterSecurityProfileWorkloadIdentity(enabled=True)
    poller = aks.begin_create_or_update("rg-wi-demo", "aks-wi-demo", mc)
    assert aks.get("rg-wi-demo", "aks-wi-demo").provisioning_state == "Updating"
    done = poller.result()
    record = _record(env, mc.id)
    assert done.provisioning_state == "Succeeded"
    assert done.oidc_issuer_profile.issuer_url == clusters.issuer_url(env.box.world, record)  # type: ignore[arg-type]
    assert done.oidc_issuer_profile.issuer_url.startswith(env.box.base_url + "/oic/eastus/")
    assert done.oidc_issuer_profile.issuer_url.endswith("/")
    assert done.security_profile.workload_identity.enabled is True
    assert done.fqdn == mc.fqdn and done.node_resource_group == mc.node_resource_group  # read-only fields survive
    assert record["oidc_issuer"] is True and record["workload_identity"] is True
    again = aks.get("rg-wi-demo", "aks-wi-demo")
    assert again.oidc_issuer_profile.issuer_url == done.oidc_issuer_profile.issuer_url


def test_put_answers_with_absolute_operation_urls(private: Callable[..., Env]) -> None:
    env = private()
    contoso = arm(env, "contoso")
    path = f"{contoso.sub_scope}/resourceGroups/rg-wi-demo/providers/Microsoft.ContainerService/managedClusters/" \
           "aks-wi-demo"
    response = contoso.raw("PUT", path, api_version="2026-08-01", json={"location": "eastus", "tags": {"a": "b"}})
    assert response.status_code == 200
    assert response.json()["properties"]["provisioningState"] == "Updating"
    status_url = response.headers["Azure-AsyncOperation"]
    assert status_url.startswith(f"{env.box.base_url}{contoso.sub_scope}/providers/Microsoft.ContainerService/"
                                 "locations/eastus/operations/")
    assert response.headers["Retry-After"] == "1"
    op_path = status_url.removeprefix(env.box.base_url).split("?")[0]
    assert contoso.raw("GET", op_path).json()["status"] == "InProgress"
    busy = contoso.raw("PUT", path, api_version="2026-08-01", json={"location": "eastus"})
    assert (busy.status_code, busy.json()["error"]["code"]) == (409, "OperationNotAllowed")
    time.sleep(env.box.settings.lro_seconds + 0.1)
    finished = contoso.raw("GET", op_path).json()
    assert finished["status"] == "Succeeded" and "endTime" in finished
    result = contoso.raw("GET", response.headers["Location"].removeprefix(env.box.base_url).split("?")[0])
    assert result.status_code == 200


def test_disabling_the_oidc_issuer_is_refused(env: Env) -> None:
    aks = arm(env, "contoso").aks().managed_clusters
    mc = aks.get("rg-platform", "aks-platform")
    mc.oidc_issuer_profile.enabled = False
    mc.security_profile.workload_identity.enabled = False
    with pytest.raises(HttpResponseError) as caught:
        aks.begin_create_or_update("rg-platform", "aks-platform", mc)
    assert caught.value.status_code == 400
    assert "OIDC issuer" in caught.value.error.message
    assert aks.get("rg-platform", "aks-platform").oidc_issuer_profile.enabled is True


def test_workload_identity_without_the_oidc_issuer_is_refused(env: Env) -> None:
    aks = arm(env, "contoso").aks().managed_clusters
    mc = aks.get("rg-wi-demo", "aks-wi-demo")
    mc.security_profile.workload_identity.enabled = True
    with pytest.raises(HttpResponseError) as caught:
        aks.begin_create_or_update("rg-wi-demo", "aks-wi-demo", mc)
    assert caught.value.status_code == 400
    assert "OIDC issuer" in caught.value.error.message
    assert aks.get("rg-wi-demo", "aks-wi-demo").provisioning_state == "Succeeded"


@pytest.mark.parametrize(("action", "name", "admin"), [("user", "clusterUser", False),
                                                       ("admin", "clusterAdmin", True)])
def test_cluster_credentials_are_a_kubeconfig_for_the_sandbox(env: Env, action: str, name: str,
                                                             admin: bool) -> None:
    aks = arm(env, "contoso").aks().managed_clusters
    listing = getattr(aks, f"list_cluster_{action}_credentials")("rg-platform", "aks-platform")
    [credential] = listing.kubeconfigs
    assert credential.name == name
    config = yaml.safe_load(credential.value)
    record = _record(env, aks.get("rg-platform", "aks-platform").id)
    assert config["clusters"][0]["cluster"]["server"] == f"{env.box.base_url}/k8s/{record['key']}"
    assert config["users"][0]["user"]["token"] == record["admin_token" if admin else "user_token"]


def test_cluster_create_list_pages_and_delete(private: Callable[..., Env]) -> None:
    env = private(scenario_ref=SCENARIO)
    northwind = arm(env, "northwind")
    northwind.resources().resource_groups.create_or_update("rg-aks", {"location": "eastus"})
    aks = northwind.aks().managed_clusters
    made = [aks.begin_create_or_update("rg-aks", f"aks-{i}", _new_cluster()) for i in range(3)]
    results = [p.result() for p in made]
    assert [r.provisioning_state for r in results] == ["Succeeded"] * 3
    assert [m.name for m in aks.list()] == ["aks-0", "aks-1", "aks-2"]  # three clusters: two pages
    record = _record(env, results[0].id)
    assert record["oidc_issuer"] is False and record["subscription_id"] == northwind.subscription_id
    groups = northwind.resources().resource_groups
    assert groups.check_existence("MC_rg-aks_aks-0_eastus") is True
    aks.begin_delete("rg-aks", "aks-0").result()
    with pytest.raises(ResourceNotFoundError):
        aks.get("rg-aks", "aks-0")
    world = env.box.world
    assert world is not None
    assert clusters.by_arm_id(world, results[0].id) is None
    assert groups.check_existence("MC_rg-aks_aks-0_eastus") is False


def test_cluster_over_the_vcpu_quota_fails_its_operation(private: Callable[..., Env]) -> None:
    env = private(scenario_ref=SCENARIO)
    contoso = arm(env, "contoso", subscription="contoso-platform")
    aks = contoso.aks().managed_clusters
    poller = aks.begin_create_or_update("rg-wi-demo", "aks-too-big", _new_cluster(count=4))  # 8 vCPUs, 6 left
    with pytest.raises(HttpResponseError) as caught:
        poller.result()
    assert error_code(caught.value) == "QuotaExceeded"
    assert "Current Limit: 12, Current Usage: 6, Additional Required: 8" in caught.value.error.message
    assert aks.get("rg-wi-demo", "aks-too-big").provisioning_state == "Failed"
    fits = aks.begin_create_or_update("rg-wi-demo", "aks-fits", _new_cluster(count=3)).result()
    assert fits.provisioning_state == "Succeeded"
    assert _usage(contoso) == 12


def _usage(client: Arm) -> int:
    usage = client.resources().resources.get_by_id(
        f"{client.sub_scope}/providers/Microsoft.Compute/locations/eastus/providers/Microsoft.Quota/usages/cores",
        api_version="2025-07-15")
    return int(usage.properties["usages"]["value"])


def test_slow_lro_fault_keeps_the_operation_running_longer(private: Callable[..., Env]) -> None:
    env = private(faults="slow-lro=1.5")
    aks = arm(env, "contoso").aks().managed_clusters
    mc = aks.get("rg-wi-demo", "aks-wi-demo")
    mc.tags = {"slow": "yes"}
    started = time.monotonic()
    aks.begin_create_or_update("rg-wi-demo", "aks-wi-demo", mc).result()
    assert time.monotonic() - started >= 1.5
    assert aks.get("rg-wi-demo", "aks-wi-demo").tags == {"slow": "yes"}
