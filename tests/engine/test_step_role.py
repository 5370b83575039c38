"""The role step against the sandbox: deterministic, idempotent role assignments for the identity, inherited
grants counted as done, and clear failures for a role that does not exist or that the login may not assign."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.engine.support import Recorder, run, seed_plan, signed_in
from wizard.azure.arm import assignment_name
from wizard.sandbox import Sandbox, armstore
from wizard.steps.base import Context, StepFailed
from wizard.steps.identity import IdentityStep
from wizard.steps.role import RoleStep

ENGINE_WORLD = str(Path(__file__).resolve().parent / "data" / "engine-world.toml")
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def arm_writes(box: Sandbox, since: int) -> list[str]:
    return [f"{r.method} {r.path}" for r in list(box.world.requests)[since:]
            if r.service == "arm" and r.method in ("PUT", "POST", "PATCH", "DELETE")]


def with_identity(box: Sandbox, roles: list[dict[str, Any]] | None = None, **kwargs: Any) -> tuple[Context, Recorder]:
    """A signed-in context whose identity step has run on an identity of its own."""
    suffix = uuid.uuid4().hex[:8]
    sections: dict[str, Any] = {"identity": {"resource_group": f"rg-role-{suffix}", "name": f"mi-role-{suffix}"}}
    if roles is not None:
        sections["roles"] = roles
    ctx, recorder = signed_in(box, seed_plan(**sections), **kwargs)
    run(ctx, IdentityStep())
    return ctx, recorder


def test_reader_on_the_subscription_is_assigned_once_and_a_rerun_creates_nothing(sandbox: Sandbox) -> None:
    ctx, _ = with_identity(sandbox, session="s-role")
    sub, principal = ctx.value("identity", "subscription_id"), ctx.value("identity", "principal_id")
    scope = f"/subscriptions/{sub}"
    step = RoleStep()
    check = step.check(ctx)
    assert check.state == "missing"
    assert check.details == [f"Reader is not assigned to the identity on {scope}"]

    result = run(ctx, step)

    definition = f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{READER}"
    name = assignment_name(scope, principal, definition)
    assignment_id = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    assert result.values == {"assignment_ids": assignment_id, "scopes": scope}
    assert result.created == [assignment_id]
    stored = armstore.get(sandbox.world, assignment_id)
    assert stored is not None
    props = stored["properties"]
    assert (props["principalId"], props["principalType"]) == (principal, "ServicePrincipal")
    assert props["description"] == "Created by wi-wizard session s-role"
    assert step.check(ctx).state == "done"

    since = len(sandbox.world.requests)
    again = run(ctx, step)
    assert arm_writes(sandbox, since) == []
    assert again.created == result.created  # its description says it is this session's
    assert again.summary.startswith("All roles were already assigned")


def test_roles_at_the_resource_group_and_at_a_full_scope(sandbox: Sandbox) -> None:
    ctx, _ = with_identity(sandbox, roles=[{"role": "Reader", "scope": "resource-group"}])
    group_id = ctx.value("identity", "resource_group_id")
    identity_id = ctx.value("identity", "identity_id")
    ctx.plan.roles.append(type(ctx.plan.roles[0])(role="Managed Identity Operator", scope=identity_id))
    result = run(ctx, RoleStep())
    assert result.values["scopes"].split("\n") == [group_id, identity_id]
    assert len(result.created) == 2
    assert "Managed Identity Operator on " + identity_id in result.summary


def test_an_assignment_inherited_from_the_subscription_counts_as_done(sandbox: Sandbox) -> None:
    ctx, _ = with_identity(sandbox)
    run(ctx, RoleStep())  # Reader on the subscription
    ctx.plan.roles[0].scope = "resource-group"
    assert RoleStep().check(ctx).state == "done"
    since = len(sandbox.world.requests)
    result = run(ctx, RoleStep())
    assert arm_writes(sandbox, since) == []
    assert result.values["scopes"] == f"/subscriptions/{ctx.value('identity', 'subscription_id')}"


def test_a_role_that_does_not_exist_fails_naming_it(sandbox: Sandbox) -> None:
    ctx, _ = with_identity(sandbox, roles=[{"role": "Raeder", "scope": "subscription"}])
    with pytest.raises(StepFailed) as caught:
        RoleStep().apply(ctx)
    d = caught.value.diagnosis
    assert (d.code, d.step) == ("RoleNotFound", "role")
    assert "'Raeder'" in d.title


def test_a_role_the_caller_may_not_assign_fails_with_who_where_and_the_fix(
        make_sandbox: Callable[..., Sandbox]) -> None:
    box = make_sandbox(scenario_ref=ENGINE_WORLD, lro_seconds=0.2)
    ctx, _ = with_identity(box)  # Contributor may create the identity, not assign roles
    principal = ctx.value("identity", "principal_id")
    scope = f"/subscriptions/{ctx.value('identity', 'subscription_id')}"
    with pytest.raises(StepFailed) as caught:
        RoleStep().apply(ctx)
    d = caught.value.diagnosis
    assert (d.code, d.step) == ("RoleAssignmentNotAllowed", "role")
    account = ctx.value("login", "identity_account")
    assert f"The identity-side login ({account}) may not create role assignments on {scope}" in d.cause
    assert "Owner, User Access Administrator or Role Based Access Control Administrator" in d.cause
    assert (f"az role assignment create --assignee-object-id {principal} --assignee-principal-type "
            f"ServicePrincipal --role Reader --scope {scope}") in d.fix
    assert "AuthorizationFailed" in d.detail
    assert not [r for r in box.world.store.values("arm")
                if r.get("type") == "Microsoft.Authorization/roleAssignments"
                and r["properties"]["principalId"] == principal]


def test_the_role_step_before_the_identity_step_says_which_step_to_run(sandbox: Sandbox) -> None:
    ctx, _ = signed_in(sandbox)
    with pytest.raises(StepFailed) as caught:
        RoleStep().check(ctx)
    assert (caught.value.diagnosis.code, caught.value.diagnosis.step) == ("StepOrder", "identity")


def test_describe_shows_the_assignment_command_with_known_values(sandbox: Sandbox) -> None:
    ctx, _ = with_identity(sandbox)
    principal = ctx.value("identity", "principal_id")
    described = RoleStep().describe(ctx)
    assert described.commands == [
        f"az role assignment create --assignee-object-id {principal} --assignee-principal-type ServicePrincipal "
        f"--role Reader --scope /subscriptions/{ctx.value('identity', 'subscription_id')} "
        "--description 'Created by wi-wizard session test'"]
