"""The deploy step against a sandbox cluster through HTTP: the ServiceAccount is annotated without clobbering
anyone's keys, the pod carries the label and (cross-tenant) the identity's tenant as explicit env, the mutated pod is
verified, unchanged pods are kept and stale ones recreated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.engine.workload_support import (
    PROBE_IMAGE,
    kube_writes,
    prepared,
    request_mark,
    run,
    unique,
    workload_plan,
    world,
)
from wizard.kube.client import MANAGED_BY_LABEL, Kube, KubeError
from wizard.plan import Plan
from wizard.sandbox import Sandbox
from wizard.steps.base import StepFailed
from wizard.steps.cluster import ClusterStep
from wizard.steps.deploy import CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION, USE_LABEL, DeployStep
from wizard.steps.federation import FederationStep
from wizard.steps.identity import IdentityStep
from wizard.steps.role import RoleStep
from wizard.workloads import CONTAINER

__all__ = ["world"]  # the module-scoped sandbox fixture


def _container(pod: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in pod["spec"]["containers"] if c["name"] == CONTAINER)


def _env(pod: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in _container(pod).get("env") or []}


def test_cross_tenant_deploy_annotates_the_account_and_pins_the_identity_tenant_as_explicit_env(
        world: Sandbox) -> None:
    plan = workload_plan()
    ctx, recorder = prepared(world, plan)
    client_id, fabrikam = ctx.value("identity", "client_id"), ctx.value("identity", "tenant_id")
    assert fabrikam != ctx.value("login", "cluster_tenant_id")

    result = DeployStep().apply(ctx)

    kube = Kube.connect(ctx)
    ns = plan.kubernetes.namespace
    account = kube.get_service_account(ns, "app-sa")
    assert account is not None
    assert account["metadata"]["annotations"][CLIENT_ID_ANNOTATION] == client_id
    assert account["metadata"]["annotations"][TENANT_ID_ANNOTATION] == fabrikam
    pod = kube.get_pod(ns, "app")
    assert pod is not None
    assert pod["metadata"]["labels"][USE_LABEL] == "true"
    assert pod["spec"]["serviceAccountName"] == "app-sa"
    container = _container(pod)
    assert "envFrom" not in container
    tenant_entries = [e for e in container["env"] if e["name"] == "AZURE_TENANT_ID"]
    assert tenant_entries == [{"name": "AZURE_TENANT_ID", "value": fabrikam}], "one explicit entry, the identity's"
    env = _env(pod)
    assert env["AZURE_CLIENT_ID"] == client_id
    assert env["AZURE_SUBSCRIPTION_ID"] == ctx.value("identity", "subscription_id"), "placeholder filled"
    assert env["AZURE_REGION"] == "eastus"
    # The token path is whatever the webhook injected (never assumed), and a projected volume provides it.
    assert result.values["token_file"] == env["AZURE_FEDERATED_TOKEN_FILE"]
    assert any("serviceAccountToken" in source for volume in pod["spec"]["volumes"]
               for source in (volume.get("projected") or {}).get("sources", []))
    assert result.values == {"namespace": ns, "service_account": "app-sa", "pod": "app",
                             "pod_uid": pod["metadata"]["uid"], "token_file": env["AZURE_FEDERATED_TOKEN_FILE"],
                             "tenant_env": fabrikam}
    cluster_id = ctx.value("cluster", "cluster_id")
    assert result.created == [f"{cluster_id}/k8s/api/v1/namespaces/{ns}",
                              f"{cluster_id}/k8s/api/v1/namespaces/{ns}/serviceaccounts/app-sa",
                              f"{cluster_id}/k8s/api/v1/namespaces/{ns}/pods/app"]
    progress = [e.message for e in recorder.events if e.step == "deploy"]
    assert any(m.startswith("Scheduled: ") for m in progress), progress
    assert DeployStep().check(ctx).state == "done"


def test_same_tenant_deploy_leaves_the_tenant_to_the_webhook(world: Sandbox) -> None:
    plan = workload_plan(PROBE_IMAGE, same_tenant=True)
    ctx, _ = prepared(world, plan)
    contoso = ctx.value("login", "cluster_tenant_id")
    assert ctx.value("identity", "tenant_id") == contoso

    result = DeployStep().apply(ctx)

    kube = Kube.connect(ctx)
    account = kube.get_service_account(plan.kubernetes.namespace, "app-sa")
    assert account is not None and TENANT_ID_ANNOTATION not in account["metadata"]["annotations"]
    pod = kube.get_pod(plan.kubernetes.namespace, "app")
    assert pod is not None
    assert pod["spec"]["restartPolicy"] == "Never"
    assert _container(pod)["command"][:2] == ["/bin/sh", "-c"]
    env = _env(pod)
    assert env["WI_PROBE_RESOURCE"] == ctx.value("role", "scopes").splitlines()[0]
    assert env["AZURE_TENANT_ID"] == contoso == result.values["tenant_env"], "injected by the webhook"


def test_existing_service_account_keeps_its_annotations_and_labels_and_is_not_claimed(world: Sandbox) -> None:
    plan = workload_plan()
    ctx, _ = prepared(world, plan)
    kube = Kube.connect(ctx)
    ns = plan.kubernetes.namespace
    kube.ensure_namespace(ns)
    kube.apply_service_account(ns, "app-sa", {"example.com/owner": "team-a"}, {"team": "a"})

    result = DeployStep().apply(ctx)

    account = kube.get_service_account(ns, "app-sa")
    assert account is not None
    assert account["metadata"]["annotations"]["example.com/owner"] == "team-a"
    assert account["metadata"]["annotations"][CLIENT_ID_ANNOTATION] == ctx.value("identity", "client_id")
    assert account["metadata"]["labels"] == {"team": "a"}, "neither removed nor claimed with our managed-by label"
    assert MANAGED_BY_LABEL not in account["metadata"]["labels"]
    assert not any(ref.endswith("/serviceaccounts/app-sa") or ref.endswith(f"/namespaces/{ns}")
                   for ref in result.created), "only what this run created is listed"


def test_running_again_without_changes_writes_nothing_and_keeps_the_pod(world: Sandbox) -> None:
    plan = workload_plan()
    ctx, _ = prepared(world, plan)
    start = request_mark(world)
    first = DeployStep().apply(ctx)
    assert any(method == "POST" and path.endswith(f"/namespaces/{plan.kubernetes.namespace}/pods")
               for method, path in kube_writes(world, start)), "the first run's writes are seen"
    mark = request_mark(world)

    again = DeployStep().apply(ctx)

    assert kube_writes(world, mark) == []
    # Still reported as this session's own (ownership, not novelty: a crash before the save cannot orphan them).
    assert again.created == first.created
    assert again.values["pod_uid"] == first.values["pod_uid"]
    assert "nothing changed" in again.summary


def test_new_identity_client_id_is_drift_and_the_pod_is_recreated(world: Sandbox) -> None:
    plan = workload_plan()
    ctx, _ = prepared(world, plan)
    first = DeployStep().apply(ctx)
    old_client = ctx.value("identity", "client_id")
    # The plan now names another identity: its steps run again, so the ServiceAccount's annotation must change and
    # the pod (mutated at creation with the old client ID) must be recreated.
    ctx.plan = Plan.from_dict({**plan.to_dict(), "identity": {**plan.to_dict()["identity"], "name": unique("mi")}})
    run(ctx, IdentityStep(), RoleStep(), FederationStep())
    new_client = ctx.value("identity", "client_id")
    assert new_client != old_client

    check = DeployStep().check(ctx)
    assert check.state == "drifted"
    assert any(CLIENT_ID_ANNOTATION in d and new_client in d for d in check.details), check.details
    assert any(f"AZURE_CLIENT_ID={old_client}" in d and "only mutates pods at creation" in d
               for d in check.details), check.details

    result = DeployStep().apply(ctx)

    assert result.values["pod_uid"] != first.values["pod_uid"]
    pod = Kube.connect(ctx).get_pod(plan.kubernetes.namespace, "app")
    assert pod is not None and _env(pod)["AZURE_CLIENT_ID"] == new_client
    assert result.created[-1].endswith("/pods/app")
    assert DeployStep().check(ctx).state == "done"


def test_changed_workload_env_is_drift_and_the_pod_is_recreated(world: Sandbox) -> None:
    plan = workload_plan()
    ctx, recorder = prepared(world, plan)
    first = DeployStep().apply(ctx)
    data = plan.to_dict()
    data["workload"]["env"]["AZURE_RESOURCE_NAME"] = "standardDSv3Family"
    ctx.plan = Plan.from_dict(data)

    check = DeployStep().check(ctx)
    assert check.state == "drifted"
    assert check.details == ["its env AZURE_RESOURCE_NAME is 'cores', the plan wants 'standardDSv3Family'"]

    result = DeployStep().apply(ctx)
    assert result.values["pod_uid"] != first.values["pod_uid"]
    assert any(e.message.startswith("recreating pod") and "AZURE_RESOURCE_NAME" in e.message
               for e in recorder.events), "the user is told why the pod is replaced"


def test_same_tenant_account_with_a_foreign_tenant_annotation_is_corrected(world: Sandbox) -> None:
    plan = workload_plan(PROBE_IMAGE, same_tenant=True)
    ctx, recorder = prepared(world, plan)
    kube = Kube.connect(ctx)
    ns = plan.kubernetes.namespace
    kube.ensure_namespace(ns)
    foreign = "0e3ba9c1-6f2d-4c1b-9a7e-2b6d5f4c3a21"
    kube.apply_service_account(ns, "app-sa", {TENANT_ID_ANNOTATION: foreign}, {})

    result = DeployStep().apply(ctx)

    contoso = ctx.value("identity", "tenant_id")
    account = kube.get_service_account(ns, "app-sa")
    assert account is not None and account["metadata"]["annotations"][TENANT_ID_ANNOTATION] == contoso
    assert result.values["tenant_env"] == contoso
    assert any(e.kind == "warning" and foreign in e.message for e in recorder.events)


def test_token_expiration_out_of_range_is_diagnosed_from_the_webhook_denial(world: Sandbox) -> None:
    plan = workload_plan()
    ctx, _ = prepared(world, plan)
    kube = Kube.connect(ctx)
    kube.ensure_namespace(plan.kubernetes.namespace)
    kube.apply_service_account(plan.kubernetes.namespace, "app-sa",
                               {"azure.workload.identity/service-account-token-expiration": "600"}, {})

    with pytest.raises(StepFailed) as failed:
        DeployStep().apply(ctx)

    assert failed.value.diagnosis.code == "TokenExpirationInvalid"
    assert failed.value.diagnosis.step == "deploy"
    assert "token expiration 600 not valid" in failed.value.diagnosis.detail


def test_cluster_with_workload_identity_off_fails_with_env_not_injected_saying_so(
        make_sandbox: Callable[..., Sandbox]) -> None:
    box = make_sandbox()
    plan = workload_plan(cluster={"enable_workload_identity": False})
    ctx, _ = prepared(box, plan, skip=("cluster", "role", "federation"))
    check = ClusterStep().check(ctx)  # records what the cluster is like without changing it
    ctx.session.outcome("cluster").values = dict(check.values)
    assert check.values["workload_identity"] == "false"

    with pytest.raises(StepFailed) as failed:
        DeployStep().apply(ctx)

    diagnosis = failed.value.diagnosis
    assert diagnosis.code == "EnvNotInjected" and diagnosis.step == "deploy"
    assert "Workload identity is off on the cluster" in diagnosis.cause


def test_older_webhook_token_path_is_read_from_the_pod(make_sandbox: Callable[..., Sandbox]) -> None:
    box = make_sandbox(webhook_version="1.5")
    ctx, _ = prepared(box, workload_plan(PROBE_IMAGE, same_tenant=True))

    result = DeployStep().apply(ctx)

    assert result.values["token_file"] == "/var/run/secrets/azure/tokens/azure-identity-token"


def test_describe_shows_the_commands_with_the_real_values(world: Sandbox) -> None:
    plan = workload_plan()
    ctx, _ = prepared(world, plan)
    description = DeployStep().describe(ctx)
    client_id, tenant = ctx.value("identity", "client_id"), ctx.value("identity", "tenant_id")
    annotate = next(c for c in description.commands if c.startswith("kubectl annotate"))
    assert f"{CLIENT_ID_ANNOTATION}={client_id}" in annotate and f"{TENANT_ID_ANNOTATION}={tenant}" in annotate
    manifest = description.commands[-1]
    assert manifest.startswith("kubectl create -f -") and f"value: {tenant}" in manifest
    assert "another tenant" in description.summary


def test_webhook_denial_for_a_missing_account_gets_its_diagnosis(world: Sandbox) -> None:
    plan = workload_plan(PROBE_IMAGE, same_tenant=True)
    ctx, _ = prepared(world, plan)
    kube = Kube.connect(ctx)
    kube.ensure_namespace(plan.kubernetes.namespace)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app", "labels": {USE_LABEL: "true"}},
           "spec": {"serviceAccountName": "nobody", "containers": [{"name": CONTAINER, "image": PROBE_IMAGE}]}}

    with pytest.raises(KubeError) as denied:
        kube.create_pod(plan.kubernetes.namespace, pod)

    diagnosis = DeployStep().fail(denied.value).diagnosis
    assert (diagnosis.code, diagnosis.step) == ("ServiceAccountMissing", "deploy")
