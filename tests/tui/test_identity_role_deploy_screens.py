"""The identity, role and deploy screens driven with Pilot against a private sandbox over HTTPS (the real SDKs and
Kubernetes client behind the engine): their lookups list what the sandbox holds, what is typed in them is what the
sandbox ends up with, an invalid value blocks Run with its message next to the field, and the deploy screen's
YAML preview is what the cluster is given."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from textual.widgets import Button, Input, OptionList, Static

from tests.tui.seed_app import open_seed_plan, record_errors, seed_app
from wizard.engine import Engine
from wizard.kube.client import Kube
from wizard.sandbox import Sandbox
from wizard.steps.armsupport import gateway, subscription
from wizard.tui.app import WizardApp
from wizard.tui.screens.deploy import DeployScreen, preview_yaml
from wizard.tui.screens.identity import IdentityScreen
from wizard.tui.screens.role import RoleScreen, is_broad
from wizard.tui.screens.step import StepScreen
from wizard.tui.widgets.choice_field import ChoiceField

NEW_GROUP = "rg-typed-in-the-tui"
NEW_IDENTITY = "mi-typed-in-the-tui"


def test_identity_role_and_deploy_screens_write_what_they_show(
        make_sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    box = make_sandbox()
    asyncio.run(_drive(box.state_dir / "endpoints.json", tmp_path))


async def _settle(app: WizardApp, pilot: Any) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause(0.3)


async def _run_and_continue(app: WizardApp, pilot: Any) -> None:
    screen = app.screen
    assert isinstance(screen, StepScreen)
    screen.query_one("#run", Button).press()
    await _settle(app, pilot)
    await _continue(app, pilot, screen)


async def _continue(app: WizardApp, pilot: Any, screen: StepScreen) -> None:
    assert str(screen.query_one("#run", Button).label) == "Continue ▶", screen.query_one("#diagnosis", Static).render()
    screen.query_one("#run", Button).press()
    await _settle(app, pilot)


async def _identity(app: WizardApp, pilot: Any, engine: Engine) -> None:
    screen = app.screen
    assert isinstance(screen, IdentityScreen)
    arm = gateway(engine.ctx, "identity")
    sub = subscription(engine.ctx, "identity").id
    groups = screen.query_one("#rg", ChoiceField)
    assert groups.loaded and set(groups.choices) == {g.name for g in arm.groups(sub).list()}, groups.choices
    identities = screen.query_one("#name", ChoiceField)
    assert identities.loaded and set(identities.choices) == {i.name for i in arm.identities(sub).list()}
    assert screen.query_one("#location", ChoiceField).exists, "eastus is among the looked-up regions"

    # An invalid name blocks Enter, with the rule under the field; the step does not run.
    name_input = screen.query_one("#name-field-input", Input)
    name_input.value = "m!"
    name_input.focus()
    await pilot.press("enter")
    await _settle(app, pilot)
    error = str(screen.query_one("#name .field-error", Static).render())
    assert "a managed identity name is 3–128" in error
    assert "identity" not in engine.session.outcomes or engine.session.outcomes["identity"].status != "done"
    assert str(screen.query_one("#run", Button).label) == "Run this step"

    # A new group and name, then Enter in the field runs the step.
    screen.query_one("#rg-field-input", Input).value = NEW_GROUP
    name_input.value = NEW_IDENTITY
    name_input.focus()
    await pilot.pause(0.4)
    assert "new: the step creates it" in str(screen.query_one("#rg .choice-note", Static).render())
    await pilot.press("enter")
    await _settle(app, pilot)
    assert engine.session.plan.identity.resource_group == NEW_GROUP
    assert engine.session.outcomes["identity"].values["subscription_id"] == sub
    group = arm.groups(sub).get(NEW_GROUP)
    found = arm.identities(sub).get(NEW_GROUP, NEW_IDENTITY)
    assert group is not None and found is not None, "the sandbox has the typed group and identity (ARM GET)"
    assert found.client_id == engine.session.outcomes["identity"].values["client_id"]
    await _continue(app, pilot, screen)


async def _role(app: WizardApp, pilot: Any, engine: Engine) -> None:
    screen = app.screen
    assert isinstance(screen, RoleScreen)
    roles = screen.query_one("#roles", OptionList)
    names = [roles.get_option_at_index(i).id for i in range(roles.option_count)]
    assert len(screen.definitions) >= 3 and names[0] == "Reader", names
    assert roles.highlighted == 0
    assert all(d.description for d in screen.definitions), "each role comes with its description"
    assert "View all resources" in str(screen.query_one("#role-description", Static).render())
    owner = next(d for d in screen.definitions if d.role_name == "Owner")
    assert "*" in owner.actions and is_broad("Owner", owner), "the definitions carry their actions"
    screen.query_one("#run", Button).press()
    await _settle(app, pilot)
    values = engine.session.outcomes["role"].values
    sub = engine.session.outcomes["identity"].values["subscription_id"]
    principal = engine.session.outcomes["identity"].values["principal_id"]
    reader = gateway(engine.ctx, "identity").roles(sub).definition("Reader", f"/subscriptions/{sub}")
    assigned = gateway(engine.ctx, "identity").roles(sub).assignments(f"/subscriptions/{sub}", principal)
    assert any(a.role_guid == reader.guid and a.id in values["assignment_ids"] for a in assigned)
    await _continue(app, pilot, screen)


async def _deploy(app: WizardApp, pilot: Any, engine: Engine) -> None:
    screen = app.screen
    assert isinstance(screen, DeployScreen)
    assert screen.preview == preview_yaml(engine.session), "the screen shows the preview of the plan as it is"
    account, pod = yaml.safe_load_all(screen.preview)
    screen.query_one("#run", Button).press()
    await _settle(app, pilot)
    assert str(screen.query_one("#run", Button).label) == "Continue ▶"
    assert str(screen.query_one("#pod-status", Static).render()).startswith(f"Pod {pod['metadata']['name']}: ")

    kube = Kube.connect(engine.ctx)
    k = engine.session.plan.kubernetes
    live_account = kube.get_service_account(k.namespace, k.service_account)
    live_pod = kube.get_pod(k.namespace, engine.session.plan.workload.pod)
    assert live_account is not None and live_pod is not None
    for key, value in account["metadata"]["annotations"].items():
        assert live_account["metadata"]["annotations"][key] == value
    want, have = pod["spec"]["containers"][0], live_pod["spec"]["containers"][0]
    assert have["image"] == want["image"]
    want_env = {e["name"]: e["value"] for e in want["env"]}
    have_env = {e["name"]: e.get("value") for e in have["env"]}
    assert want_env["AZURE_TENANT_ID"] == have_env["AZURE_TENANT_ID"] == engine.session.outcomes[
        "identity"].values["tenant_id"]
    assert all(have_env[name] == value for name, value in want_env.items())


async def _drive(endpoints: Path, tmp_path: Path) -> None:
    app = seed_app(endpoints, tmp_path)
    errors = record_errors(app)  # a failed lookup would land here
    async with app.run_test(size=(120, 40)) as pilot:
        await open_seed_plan(app, pilot)
        engine = app.engine
        assert isinstance(engine, Engine)
        for step in ("login", "cluster"):
            assert isinstance(app.screen, StepScreen) and app.screen.step == step
            await _run_and_continue(app, pilot)
        await _identity(app, pilot, engine)
        await _role(app, pilot, engine)
        for step in ("federation", "trust"):
            assert isinstance(app.screen, StepScreen) and app.screen.step == step, app.screen
            await _run_and_continue(app, pilot)
        await _deploy(app, pilot, engine)
    assert errors == []
