"""The four ARM steps in sequence (cluster → identity → role → federation) on the seed plan: everything is made
once, a re-run (a fresh process: new credentials, new gateways, the saved session) makes nothing, a crash
between creating and saving loses no ownership, and a same-tenant plan works with one login."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.engine.support import make_context, run, seed_plan, signed_in
from wizard.sandbox import Sandbox
from wizard.session import Session
from wizard.steps.base import Context, Step
from wizard.steps.cluster import ClusterStep
from wizard.steps.federation import FederationStep
from wizard.steps.identity import IdentityStep
from wizard.steps.login import LoginStep
from wizard.steps.role import RoleStep

ARM_STEPS: tuple[Step, ...] = (ClusterStep(), IdentityStep(), RoleStep(), FederationStep())


def arm_requests(box: Sandbox, since: int) -> list[str]:
    return [f"{r.method} {r.path}" for r in list(box.world.requests)[since:] if r.service == "arm"]


def writes(requests: list[str]) -> list[str]:
    return [r for r in requests if not r.startswith(("GET ", "HEAD ")) and not r.endswith("/listClusterUserCredential")]


def resume(box: Sandbox, session: Session) -> Context:
    """A new process picking the saved session up: the session round-trips through JSON, logins are redone."""
    ctx, _ = make_context(box, session.plan, session=session.name)
    ctx.session = Session.from_json(session.to_json(), "test")
    run(ctx, LoginStep())
    return ctx


def test_seed_plan_makes_everything_once_and_a_rerun_makes_nothing(make_sandbox: Callable[..., Sandbox]) -> None:
    box = make_sandbox()
    ctx, _ = signed_in(box, session="seed")
    before = len(box.world.store.keys("arm"))
    since = len(box.world.requests)
    created = {step.name: run(ctx, step).created for step in ARM_STEPS}
    first = arm_requests(box, since)
    # a resource group, an identity, a role assignment and a federated credential
    assert len(box.world.store.keys("arm")) == before + 4
    assert [len(created[s.name]) for s in ARM_STEPS] == [0, 2, 1, 1]
    assert len(writes(first)) == 5  # the cluster update, the group, the identity, the assignment, the credential
    not_polls = [r for r in first if "/operations/" not in r]
    assert len(not_polls) <= 16, not_polls  # a budget (the benchmark counts requests); LRO polls depend on timing

    again = resume(box, ctx.session)
    count = len(box.world.store.keys("arm"))
    since = len(box.world.requests)
    assert all(step.check(again).done for step in ARM_STEPS)
    rerun = {step.name: run(again, step).created for step in ARM_STEPS}
    assert len(box.world.store.keys("arm")) == count
    assert writes(arm_requests(box, since)) == []
    assert rerun == created  # still known as this session's own


def test_a_crash_before_saving_loses_no_ownership(make_sandbox: Callable[..., Sandbox]) -> None:
    """The process dies after each resource is created but before the session is saved: the re-run finds them
    and still reports them as this session's (by tags, by the assignment's description, by the identity)."""
    box = make_sandbox()
    ctx, _ = signed_in(box, session="crashy")
    created = {step.name: run(ctx, step).created for step in ARM_STEPS}
    saved = Session(ctx.session.name, ctx.plan, ctx.session.target)  # nothing was saved but the plan
    again = resume(box, saved)
    count = len(box.world.store.keys("arm"))
    rerun = {step.name: run(again, step).created for step in ARM_STEPS}
    assert rerun == created
    assert len(box.world.store.keys("arm")) == count


def test_same_tenant_plan_uses_one_login_and_one_gateway(sandbox: Sandbox) -> None:
    suffix = uuid.uuid4().hex[:8]
    plan = seed_plan(cluster={"resource_group": "rg-platform", "name": "aks-platform"},
                     identity={"tenant": "contoso.onmicrosoft.com", "subscription": "contoso-platform",
                               "resource_group": f"rg-same-{suffix}", "name": f"mi-same-{suffix}"},
                     federation={"name": f"fc-same-{suffix}"})
    ctx, _ = signed_in(sandbox, plan)
    assert ctx.value("login", "same_tenant") == "true"
    assert ctx.credentials["cluster"] is ctx.credentials["identity"]
    results = {step.name: run(ctx, step) for step in ARM_STEPS}
    assert results["identity"].values["tenant_id"] == ctx.value("login", "cluster_tenant_id")
    assert results["identity"].values["subscription_id"] == results["cluster"].values["subscription_id"]
    assert results["federation"].values["issuer"] == results["cluster"].values["issuer_url"]
    assert [k for k in ctx.cache if k.startswith("arm:")] == [f"arm:{id(ctx.credentials['cluster'])}"]


def test_parallel_rechecks_share_the_gateways_and_list_subscriptions_once_per_login(
        make_sandbox: Callable[..., Sandbox]) -> None:
    """Resume re-checks finished steps in parallel: they share one gateway per login, nothing is built twice."""
    from concurrent.futures import ThreadPoolExecutor

    box = make_sandbox()
    ctx, _ = signed_in(box, session="parallel")
    for step in ARM_STEPS:
        run(ctx, step)
    again = resume(box, ctx.session)
    since = len(box.world.requests)
    with ThreadPoolExecutor(4) as pool:
        checks = list(pool.map(lambda step: step.check(again), ARM_STEPS))
    assert [c.state for c in checks] == ["done"] * 4
    listed = [r for r in arm_requests(box, since) if r == "GET /subscriptions"]
    assert len(listed) <= 2  # one per side's login, however many steps ask at once
