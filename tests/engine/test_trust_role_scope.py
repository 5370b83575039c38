"""The trust check tells a role scope that does not cover what the workload reads from RBAC propagation: the
role step's assignments are read first, and when they are all in place and none applies at the probed scope the
role link fails at once (no 10-minute wait), naming where the role is."""

from __future__ import annotations

import uuid

import pytest

from tests.engine.support import Recorder, run, seed_plan, signed_in
from wizard.sandbox import Sandbox
from wizard.steps.base import Context, StepFailed
from wizard.steps.cluster import ClusterStep
from wizard.steps.federation import FederationStep
from wizard.steps.identity import IdentityStep
from wizard.steps.role import RoleStep
from wizard.steps.trust import TrustStep


def _prepared(box: Sandbox, scope: str) -> tuple[Context, Recorder]:
    """Everything before the trust check with the role at `scope`; the workload reads the whole subscription."""
    suffix = uuid.uuid4().hex[:8]
    plan = seed_plan(cluster={"resource_group": "rg-platform", "name": "aks-platform"},
                     identity={"name": f"mi-scope-{suffix}"}, roles=[{"role": "Reader", "scope": scope}],
                     kubernetes={"namespace": f"scope-{suffix}", "service_account": "workload"})
    ctx, events = signed_in(box, plan, session=f"scope-{suffix}")
    for step in (ClusterStep(), IdentityStep(), RoleStep(), FederationStep()):
        run(ctx, step)
    plan.workload.probe_resource = f"/subscriptions/{ctx.value('identity', 'subscription_id')}"
    events.events.clear()
    return ctx, events


def test_a_role_on_the_resource_group_fails_a_subscription_read_at_once_without_waiting(sandbox: Sandbox) -> None:
    ctx, events = _prepared(sandbox, "resource-group")

    with pytest.raises(StepFailed) as caught:
        TrustStep(role_propagation_timeout=600, first_delay=0.5, max_delay=1.0).apply(ctx)

    d = caught.value.diagnosis
    assert (d.code, d.step) == ("RoleScopeNotCovered", "role")
    assert ctx.value("identity", "resource_group_id") in d.cause
    assert ctx.plan.workload.probe_resource in d.cause
    assert caught.value.values["link.role"] == "failed"
    assert not events.kinds("wait"), "a scope that does not cover the read is not waited on as propagation"


def test_a_role_on_the_subscription_covers_the_read(sandbox: Sandbox) -> None:
    ctx, _ = _prepared(sandbox, "subscription")

    result = TrustStep(first_delay=0.5, max_delay=1.0).apply(ctx)

    assert result.values["link.role"] == "passed"
