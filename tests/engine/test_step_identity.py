"""The identity step against the sandbox: create (group, provider, identity, all tagged) or reuse the managed
identity in the identity tenant; clear failures for reuse of a missing identity, a name taken in another
resource group, and another location."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.engine.support import run, seed_plan, signed_in
from wizard.azure.arm import Arm
from wizard.sandbox import Sandbox, armstore
from wizard.steps.base import StepFailed
from wizard.steps.identity import IdentityStep

ENGINE_WORLD = str(Path(__file__).resolve().parent / "data" / "engine-world.toml")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def arm_writes(box: Sandbox, since: int) -> list[str]:
    return [f"{r.method} {r.path}" for r in list(box.world.requests)[since:]
            if r.service == "arm" and r.method in ("PUT", "POST", "PATCH", "DELETE")]


def fabrikam_gateway(box: Sandbox) -> tuple[Arm, str]:
    from tests.conftest import Env
    from tests.engine.support import sandbox_cloud

    env = Env(box)
    return Arm(sandbox_cloud(box), env.sp_credential("fabrikam")), env.subscription_id("fabrikam")


def existing_identity(box: Sandbox, location: str = "eastus") -> Any:
    arm, sub = fabrikam_gateway(box)
    group = unique("rg-id")
    arm.groups(sub).create(group, location, {})
    return arm.identities(sub).create(group, unique("mi-id"), location, {}).value


def test_identity_is_created_with_its_group_and_session_tags_and_a_rerun_creates_nothing(sandbox: Sandbox) -> None:
    group, name = unique("rg-id"), unique("mi-id")
    ctx, _ = signed_in(sandbox, seed_plan(identity={"resource_group": group, "name": name}), session="s-create")
    step = IdentityStep()
    assert step.check(ctx).state == "missing"

    result = run(ctx, step)

    tenant_id = ctx.value("login", "identity_tenant_id")
    values = result.values
    assert values["tenant_id"] == tenant_id
    assert values["location"] == "eastus"
    assert values["resource_group_id"] == f"/subscriptions/{values['subscription_id']}/resourceGroups/{group}"
    assert values["identity_id"].endswith(f"/userAssignedIdentities/{name}")
    assert values["client_id"] and values["principal_id"]
    assert result.created == [values["resource_group_id"], values["identity_id"]]
    wanted_tags = {"created-by": "wi-wizard", "wi-wizard-session": "s-create"}
    for resource_id in result.created:
        stored = armstore.get(sandbox.world, resource_id)
        assert stored is not None and stored["tags"] == wanted_tags
    assert step.check(ctx).state == "done"

    count = len(sandbox.world.store.keys("arm"))
    since = len(sandbox.world.requests)
    again = run(ctx, step)
    assert arm_writes(sandbox, since) == []
    assert len(sandbox.world.store.keys("arm")) == count
    assert again.values == values
    assert again.created == result.created  # still this session's own, known by its tags
    assert again.summary.startswith("Using managed identity")


def test_an_identity_of_another_session_is_used_but_not_claimed(sandbox: Sandbox) -> None:
    group, name = unique("rg-id"), unique("mi-id")
    plan = seed_plan(identity={"resource_group": group, "name": name})
    first, _ = signed_in(sandbox, plan, session="s-first")
    run(first, IdentityStep())
    other, _ = signed_in(sandbox, plan, session="s-other")
    assert run(other, IdentityStep()).created == []


def test_reuse_of_an_existing_identity_creates_nothing(sandbox: Sandbox) -> None:
    found = existing_identity(sandbox)
    plan = seed_plan(identity={"resource_group": found.resource_group, "name": found.name, "reuse": True})
    ctx, _ = signed_in(sandbox, plan)
    assert "Use the existing user-assigned managed identity" in IdentityStep().describe(ctx).summary
    assert IdentityStep().check(ctx).state == "done"
    since = len(sandbox.world.requests)
    result = run(ctx, IdentityStep())
    assert arm_writes(sandbox, since) == []
    assert result.created == []
    assert (result.values["client_id"], result.values["principal_id"]) == (found.client_id, found.principal_id)


def test_reuse_of_a_missing_identity_fails_and_points_at_the_group_that_has_it(sandbox: Sandbox) -> None:
    found = existing_identity(sandbox)
    plan = seed_plan(identity={"resource_group": "rg-wi-demo", "name": found.name, "reuse": True})
    ctx, _ = signed_in(sandbox, plan)
    check = IdentityStep().check(ctx)
    assert check.state == "missing" and "the plan reuses it" in check.details[0]
    since = len(sandbox.world.requests)
    with pytest.raises(StepFailed) as caught:
        IdentityStep().apply(ctx)
    d = caught.value.diagnosis
    assert (d.code, d.step) == ("IdentityNotFound", "identity")
    assert repr(found.resource_group) in d.cause
    assert d.fix == f"Set identity.resource_group = {found.resource_group!r}."
    assert arm_writes(sandbox, since) == []


def test_identity_name_taken_in_another_resource_group_fails_with_the_fix(sandbox: Sandbox) -> None:
    found = existing_identity(sandbox)
    new_group = unique("rg-id")
    ctx, _ = signed_in(sandbox, seed_plan(identity={"resource_group": new_group, "name": found.name}))
    since = len(sandbox.world.requests)
    with pytest.raises(StepFailed) as caught:
        IdentityStep().apply(ctx)
    d = caught.value.diagnosis
    assert (d.code, d.step) == ("IdentityNameTaken", "identity")
    assert f"{found.name!r} in resource group {found.resource_group!r}" in d.cause
    assert f"identity.resource_group = {found.resource_group!r} and identity.reuse = true" in d.fix
    assert arm_writes(sandbox, since) == []  # not even the new group


def test_existing_identity_in_another_location_is_drift_and_is_refused(sandbox: Sandbox) -> None:
    found = existing_identity(sandbox, location="westeurope")
    ctx, _ = signed_in(sandbox, seed_plan(identity={"resource_group": found.resource_group, "name": found.name,
                                                    "location": "eastus"}))
    check = IdentityStep().check(ctx)
    assert check.state == "drifted"
    assert check.details == ["the identity is in westeurope, the plan says eastus"]
    with pytest.raises(StepFailed) as caught:
        IdentityStep().apply(ctx)
    assert caught.value.diagnosis.code == "IdentityLocationMismatch"
    assert "identity.location = 'westeurope'" in caught.value.diagnosis.fix


def test_identity_recreated_outside_the_wizard_is_drift(sandbox: Sandbox) -> None:
    found = existing_identity(sandbox)
    ctx, _ = signed_in(sandbox, seed_plan(identity={"resource_group": found.resource_group, "name": found.name}))
    run(ctx, IdentityStep())
    ctx.session.outcome("identity").values["principal_id"] = str(uuid.uuid4())
    check = IdentityStep().check(ctx)
    assert check.state == "drifted"
    assert "re-created outside the wizard" in check.details[0]


def test_an_unregistered_provider_is_registered_with_visible_waits(make_sandbox: Callable[..., Sandbox]) -> None:
    box = make_sandbox(scenario_ref=ENGINE_WORLD, lro_seconds=1.5)
    ctx, events = signed_in(box)
    check = IdentityStep().check(ctx)
    assert check.state == "missing" and "resource provider is not registered" in check.details[0]
    result = run(ctx, IdentityStep())
    assert result.values["identity_id"] in result.created
    waits = events.kinds("wait")
    assert waits and all("Microsoft.ManagedIdentity" in e.message for e in waits)
    assert any(e.seconds_left is not None and e.seconds_left > 0 for e in waits)
    assert any("Registered the Microsoft.ManagedIdentity resource provider" in e.message for e in events.events)
    assert not [r for r in box.world.requests if r.status == 409]  # never the SDK's silent 10 s registration
    posts = [r.path for r in box.world.requests if r.method == "POST" and r.service == "arm"]
    assert [p for p in posts if p.endswith("/register")] == [
        f"/subscriptions/{result.values['subscription_id']}/providers/Microsoft.ManagedIdentity/register"]


def test_describe_lists_the_commands_then_the_identity_once_it_exists(sandbox: Sandbox) -> None:
    group, name = unique("rg-id"), unique("mi-id")
    ctx, _ = signed_in(sandbox, seed_plan(identity={"resource_group": group, "name": name}), session="s-describe")
    before = IdentityStep().describe(ctx)
    assert [c.split(" --")[0] for c in before.commands] == [
        "az provider register", "az group create", "az identity create", "az identity show"]
    assert "--tags created-by=wi-wizard wi-wizard-session=s-describe" in before.commands[2]
    result = run(ctx, IdentityStep())
    after = IdentityStep().describe(ctx)
    assert result.values["client_id"] in after.summary and "is in place" in after.summary
    assert after.commands == [before.commands[-1].replace("fabrikam-shared", result.values["subscription_id"])]
