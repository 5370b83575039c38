"""The logs step against sandbox pods through HTTP: it waits for the pod, streams its log live, and decides from what
the workload prints — access proven by the quota reader and the probe (cross- and same-tenant), and each failure
(unpullable image, wrong subject, missing role) ending in its diagnosis."""

from __future__ import annotations

import pytest

from tests.engine.workload_support import PROBE_IMAGE, QUOTA_IMAGE, prepared, run, workload_plan, world
from wizard.kube.client import Kube
from wizard.plan import Plan
from wizard.sandbox import Sandbox
from wizard.steps.base import StepFailed
from wizard.steps.deploy import DeployStep
from wizard.steps.logs import LogsStep
from wizard.steps.podwatch import waiting
from wizard.steps.role import RoleStep

__all__ = ["world"]  # the module-scoped sandbox fixture


def logs_step() -> LogsStep:
    return LogsStep(start_timeout=30, verdict_timeout=30, custom_window=2)


def test_quota_reader_across_tenants_proves_access_with_its_limit_and_usage_lines(world: Sandbox) -> None:
    plan = workload_plan(QUOTA_IMAGE)
    ctx, recorder = prepared(world, plan)
    run(ctx, DeployStep())
    fabrikam_sub = ctx.value("identity", "subscription_id")

    result = logs_step().apply(ctx)

    assert result.values["verdict"] == "proven"
    limit, usage = result.values["evidence"].splitlines()
    assert limit.startswith("limit: ") and usage.startswith("usage: ")
    assert f"/subscriptions/{fabrikam_sub}/providers/Microsoft.Compute/locations/eastus" in limit
    assert len(result.values["evidence"]) <= 500
    logged = [e.message for e in recorder.kinds("log")]
    assert any(line.startswith("limit: ") and '"value":20' in line for line in logged), "fabrikam's cores limit"
    progress = [e.message for e in recorder.events if e.step == "logs" and e.kind == "progress"]
    assert any(m.endswith(": Running") for m in progress), progress
    assert any(m.startswith("Started: ") for m in progress), progress
    # Done stays done on a re-check (it reads the log once, without following).
    check = logs_step().check(ctx)
    assert check.state == "done" and check.values["verdict"] == "proven"


def test_probe_across_tenants_proves_access_with_wi_probe_ok(world: Sandbox) -> None:
    plan = workload_plan(PROBE_IMAGE)
    ctx, recorder = prepared(world, plan)
    run(ctx, DeployStep())
    fabrikam = ctx.value("identity", "tenant_id")
    scope = ctx.value("role", "scopes").splitlines()[0]

    result = logs_step().apply(ctx)

    assert result.values["verdict"] == "proven"
    assert result.values["evidence"].splitlines() == [f"wi-probe: signed in to tenant {fabrikam}",
                                                      f"wi-probe: GET {scope} -> 200", "wi-probe: OK"]
    assert [e.message for e in recorder.kinds("log")][-1] == "wi-probe: OK"


def test_probe_in_one_tenant_proves_access(world: Sandbox) -> None:
    ctx, _ = prepared(world, workload_plan(PROBE_IMAGE, same_tenant=True))
    run(ctx, DeployStep())

    result = logs_step().apply(ctx)

    assert result.values["verdict"] == "proven"
    assert f"signed in to tenant {ctx.value('login', 'cluster_tenant_id')}" in result.values["evidence"]


def test_unknown_image_fails_with_the_image_pull_diagnosis(world: Sandbox) -> None:
    ctx, recorder = prepared(world, workload_plan("ghcr.io/example/not-there:1.0"))
    run(ctx, DeployStep())

    with pytest.raises(StepFailed) as failed:
        logs_step().apply(ctx)

    assert failed.value.diagnosis.code == "ImagePullBackOff"
    assert failed.value.diagnosis.step == "deploy"
    warnings = [e.message for e in recorder.kinds("warning")]
    assert any("Failed to pull image" in m and "not-there" in m for m in warnings), warnings
    assert logs_step().check(ctx).state == "missing"


def test_credential_for_another_service_account_fails_with_the_subject_diagnosis(world: Sandbox) -> None:
    # The federated credential trusts system:serviceaccount:<ns>:other-sa; the pod runs as app-sa.
    plan = workload_plan(PROBE_IMAGE, kubernetes={"service_account": "other-sa"})
    ctx, _ = prepared(world, plan)
    data = plan.to_dict()
    data["kubernetes"]["service_account"] = "app-sa"
    ctx.plan = Plan.from_dict(data)
    run(ctx, DeployStep())

    with pytest.raises(StepFailed) as failed:
        logs_step().apply(ctx)

    diagnosis = failed.value.diagnosis
    assert diagnosis.code in {"AADSTS700213", "AADSTS70021"}, diagnosis
    assert diagnosis.step == "federation"
    assert "AADSTS7002" in diagnosis.detail and "No matching federated identity record" in diagnosis.detail


def test_identity_without_a_role_fails_with_the_authorization_diagnosis(world: Sandbox) -> None:
    plan = workload_plan(PROBE_IMAGE)
    ctx, recorder = prepared(world, plan, skip=("role",))
    data = plan.to_dict()
    data["workload"]["probe_resource"] = f"/subscriptions/{ctx.value('identity', 'subscription_id')}"
    ctx.plan = Plan.from_dict(data)
    run(ctx, DeployStep())

    with pytest.raises(StepFailed) as failed:
        logs_step().apply(ctx)

    assert failed.value.diagnosis.code == "AuthorizationFailed"
    assert failed.value.diagnosis.step == "role"
    logged = [e.message for e in recorder.kinds("log")]
    assert any(line.endswith("-> 403") for line in logged), logged

    # Fixing the cause and running deploy and logs again gives the workload a fresh pod, which now proves access.
    run(ctx, RoleStep())
    check = DeployStep().check(ctx)
    assert check.state == "drifted" and any("phase Failed" in d for d in check.details), check.details
    run(ctx, DeployStep())
    assert logs_step().apply(ctx).values["verdict"] == "proven"


def test_logs_before_deploy_is_a_clear_step_order_failure(world: Sandbox) -> None:
    ctx, _ = prepared(world, workload_plan(PROBE_IMAGE, same_tenant=True))

    with pytest.raises(StepFailed) as failed:
        logs_step().apply(ctx)

    assert failed.value.diagnosis.code == "PodMissing" and failed.value.diagnosis.step == "deploy"


def test_crash_looping_workload_is_explained_by_its_last_words(world: Sandbox) -> None:
    # The quota reader (restartPolicy OnFailure) fails its token exchange, exits 1 and is restarted with back-off;
    # the logs step only starts once the pod shows CrashLoopBackOff.
    plan = workload_plan(QUOTA_IMAGE, kubernetes={"service_account": "other-sa"})
    ctx, recorder = prepared(world, plan)
    data = plan.to_dict()
    data["kubernetes"]["service_account"] = "app-sa"
    ctx.plan = Plan.from_dict(data)
    run(ctx, DeployStep())
    kube = Kube.connect(ctx)
    reasons = []
    for pod in kube.watch_pod(plan.kubernetes.namespace, "app", 30):
        reasons.append(waiting(pod))
        if reasons[-1] is not None and reasons[-1][0] == "CrashLoopBackOff":
            break
    assert reasons[-1] is not None and reasons[-1][0] == "CrashLoopBackOff", reasons

    with pytest.raises(StepFailed) as failed:
        logs_step().apply(ctx)

    assert failed.value.diagnosis.code in {"AADSTS700213", "AADSTS70021"}, failed.value.diagnosis
    assert "AADSTS7002" in failed.value.diagnosis.detail, "the telling line of the multi-line SDK error"
    assert any(e.message.startswith("BackOff: Back-off restarting failed container") for e in recorder.events)
