"""The cluster step against the sandbox: find the cluster, enable OIDC + workload identity through the LRO when the
plan allows it, read the issuer URL verbatim, and fail clearly otherwise."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.engine.support import run, seed_plan, signed_in
from wizard.sandbox import Sandbox, clusters
from wizard.steps.base import StepFailed
from wizard.steps.cluster import ClusterStep


def arm_writes(box: Sandbox, since: int) -> list[str]:
    return [f"{r.method} {r.path}" for r in list(box.world.requests)[since:]
            if r.service == "arm" and r.method in ("PUT", "POST", "PATCH", "DELETE")
            and not r.path.endswith("/listClusterUserCredential")]


def test_cluster_with_oidc_off_gets_it_enabled_and_the_issuer_is_read_verbatim(
        make_sandbox: Callable[..., Sandbox]) -> None:
    box = make_sandbox()
    ctx, events = signed_in(box)
    step = ClusterStep()
    before = step.check(ctx)
    assert before.state == "missing"
    assert before.details == ["the OIDC issuer is off", "workload identity is off"]
    assert "az aks update" in " ".join(step.describe(ctx).commands)

    result = run(ctx, step)

    record = clusters.by_arm_id(box.world, result.values["cluster_id"])
    assert record is not None and record["oidc_issuer"] and record["workload_identity"]
    issuer = clusters.issuer_url(box.world, record)
    assert issuer is not None and issuer.endswith("/")
    assert result.values["issuer_url"] == issuer  # byte for byte, trailing slash kept
    assert result.values["oidc_issuer"] == result.values["workload_identity"] == "true"
    assert result.values["aad"] == "false"
    assert result.values["location"] == "eastus"
    assert result.values["subscription_id"] == ctx.cloud.sandbox["tenants"][0]["subscriptions"][0]["subscription_id"]
    assert result.created == []  # the cluster is changed, never the wizard's own
    assert "Turned on" in result.summary
    assert any("Turning on the OIDC issuer" in e.message for e in events.kinds("progress"))

    again = step.check(ctx)
    assert again.state == "done" and again.values == result.values
    since = len(box.world.requests)
    second = run(ctx, step)
    assert arm_writes(box, since) == []  # a re-run writes nothing
    assert second.values == result.values
    assert "az aks update" not in " ".join(step.describe(ctx).commands)


def test_cluster_already_enabled_is_done_without_any_write(sandbox: Sandbox) -> None:
    ctx, _ = signed_in(sandbox, seed_plan(cluster={"resource_group": "rg-platform", "name": "aks-platform"}))
    step = ClusterStep()
    assert step.check(ctx).state == "done"
    since = len(sandbox.world.requests)
    result = run(ctx, step)
    assert arm_writes(sandbox, since) == []
    assert result.values["issuer_url"].endswith("/")
    assert result.values["kubernetes_version"]


def test_cluster_with_workload_identity_off_fails_with_the_fix_when_the_plan_forbids_enabling(
        make_sandbox: Callable[..., Sandbox]) -> None:
    box = make_sandbox()
    ctx, _ = signed_in(box, seed_plan(cluster={"enable_workload_identity": False}))
    since = len(box.world.requests)
    with pytest.raises(StepFailed) as caught:
        ClusterStep().apply(ctx)
    d = caught.value.diagnosis
    assert (d.code, d.step) == ("WorkloadIdentityOff", "cluster")
    assert "the OIDC issuer is off and workload identity is off" in d.cause
    assert "cluster.enable_workload_identity = true" in d.fix and "--enable-workload-identity" in d.fix
    assert arm_writes(box, since) == []


def test_cluster_not_found_names_the_clusters_the_login_can_see(sandbox: Sandbox) -> None:
    ctx, _ = signed_in(sandbox, seed_plan(cluster={"name": "aks-wi-dmeo"}))
    assert ClusterStep().check(ctx).state == "missing"
    with pytest.raises(StepFailed) as caught:
        ClusterStep().apply(ctx)
    d = caught.value.diagnosis
    assert (d.code, d.step) == ("ClusterNotFound", "cluster")
    assert "'aks-wi-dmeo'" in d.cause
    assert "aks-wi-demo (resource group rg-wi-demo, subscription contoso-platform)" in d.cause
    assert "aks-platform (resource group rg-platform, subscription contoso-platform)" in d.cause


def test_cluster_in_another_resource_group_is_pointed_at(sandbox: Sandbox) -> None:
    ctx, _ = signed_in(sandbox, seed_plan(cluster={"resource_group": "rg-platform"}))
    with pytest.raises(StepFailed) as caught:
        ClusterStep().apply(ctx)
    assert "Set cluster.resource_group = 'rg-wi-demo'" in caught.value.diagnosis.fix


def test_subscription_the_login_cannot_see_fails_naming_the_visible_ones(sandbox: Sandbox) -> None:
    ctx, _ = signed_in(sandbox, seed_plan(cluster={"subscription": "fabrikam-shared"}))
    with pytest.raises(StepFailed) as caught:
        ClusterStep().check(ctx)
    d = caught.value.diagnosis
    assert d.code == "SubscriptionNotFound"
    assert "cannot see a subscription 'fabrikam-shared'" in d.cause and "contoso-platform (" in d.cause
    assert "cluster.subscription" in d.fix


def test_issuer_changed_since_the_last_run_is_drift(make_sandbox: Callable[..., Sandbox]) -> None:
    box = make_sandbox()
    ctx, _ = signed_in(box, seed_plan(cluster={"resource_group": "rg-platform", "name": "aks-platform"}))
    run(ctx, ClusterStep())
    old = "https://oidc.prod-aks.azure.com/00000000-0000-0000-0000-000000000000"
    ctx.session.outcome("cluster").values["issuer_url"] = old
    check = ClusterStep().check(ctx)
    assert check.state == "drifted"
    assert old in check.details[0] and "the federated credential must follow it" in check.details[0]


def test_describe_works_before_login_and_shows_the_commands(sandbox: Sandbox) -> None:
    from tests.engine.support import make_context

    ctx, _ = make_context(sandbox)
    described = ClusterStep().describe(ctx)
    assert "aks-wi-demo" in described.summary and "byte for byte" in described.summary
    assert described.commands[0].startswith("az aks show --subscription contoso-platform -g rg-wi-demo -n aks-wi-demo")
    assert described.commands[1] == ("az aks update --subscription contoso-platform -g rg-wi-demo -n aks-wi-demo "
                                     "--enable-oidc-issuer --enable-workload-identity")


def test_an_update_already_running_is_waited_for_instead_of_started_again(
        make_sandbox: Callable[..., Sandbox]) -> None:
    """A run that crashed while the cluster was updating: the re-run waits for that update, then finds it done."""
    from azure.mgmt.containerservice import ContainerServiceClient, models

    from tests.conftest import Env

    box = make_sandbox(faults="slow-lro=2")
    env = Env(box)
    client = ContainerServiceClient(env.sp_credential("contoso"), env.subscription_id("contoso"),
                                    **env.client_kwargs())
    mc = client.managed_clusters.get("rg-wi-demo", "aks-wi-demo")
    mc.oidc_issuer_profile = models.ManagedClusterOIDCIssuerProfile(enabled=True)
    mc.security_profile = models.ManagedClusterSecurityProfile(
        workload_identity=models.ManagedClusterSecurityProfileWorkloadIdentity(enabled=True))
    client.managed_clusters.begin_create_or_update("rg-wi-demo", "aks-wi-demo", mc)  # not waited for

    ctx, events = signed_in(box)
    since = len(box.world.requests)
    result = run(ctx, ClusterStep())
    assert arm_writes(box, since) == []  # no second update
    assert any("is Updating" in e.message for e in events.kinds("progress"))
    assert result.values["workload_identity"] == "true"
    assert "has its OIDC issuer and workload identity on" in result.summary
