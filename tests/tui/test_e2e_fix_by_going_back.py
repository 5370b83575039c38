"""A misconfiguration the trust check catches and the person fixes by going back, on a live sandbox, with key
presses only: the plan grants Reader on the identity's resource group, but the workload reads the whole
subscription (workload.probe_resource). The trust check fails the role link at once (no propagation wait), the
diagnosis' "Go to the role step" jumps back, the person picks the subscription scope, and the flow reaches the
proof."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Button, RadioButton, RadioSet, Static

from tests.conftest import Env
from tests.tui.e2e_support import Keys, assert_made_in_the_sandbox
from tests.tui.seed_app import SEED, seed_app
from wizard.sandbox import Sandbox
from wizard.tui.screens.diagnosis import DiagnosisModal
from wizard.tui.screens.done import DoneScreen
from wizard.tui.screens.step import StepScreen


def _plan_reading_more_than_the_role_allows(tmp_path: Path, subscription_id: str) -> Path:
    text = SEED.read_text().replace('scope = "subscription"', 'scope = "resource-group"')
    text = text.replace("[workload.env]", f'probe_resource = "/subscriptions/{subscription_id}"\n\n[workload.env]')
    path = tmp_path / "narrow-role.toml"
    path.write_text(text)
    return path


def test_a_role_scope_too_narrow_is_caught_by_the_trust_check_and_fixed_on_the_role_screen(
        make_sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    box = make_sandbox(kubelet_speed=20.0)
    plan = _plan_reading_more_than_the_role_allows(tmp_path, Env(box).subscription_id("fabrikam"))

    async def drive() -> None:
        app = seed_app(box.state_dir / "endpoints.json", tmp_path)
        app.default_plan = str(plan)
        async with app.run_test(size=(120, 40)) as pilot:
            keys = Keys(app, pilot)
            await keys.settle()
            await keys.press("enter")  # start from the plan file
            await keys.press(*["enter"] * 10)  # sign in, cluster, identity, role (on the resource group), federation
            screen = app.screen
            assert isinstance(screen, StepScreen) and screen.step == "trust"
            await keys.press("enter")  # run the trust check: it fails at once
            assert screen.diagnosis is not None and screen.diagnosis.code == "RoleScopeNotCovered"
            assert "waiting for propagation would not help" in screen.diagnosis.cause

            await keys.press("d")  # the diagnosis in full; its first button goes to the step that fixes it
            assert isinstance(app.screen, DiagnosisModal)
            assert str(app.screen.query_one("#dg-goto", Button).label) == "Go to the role step"
            await keys.press("enter")
            role = app.screen
            assert isinstance(role, StepScreen) and role.step == "role"

            # Pick "Subscription" as the scope: tab to the scope choice, move up to it, select it.
            scopes = role.query_one("#role-scope", RadioSet)
            while not scopes.has_focus_within:
                await keys.press("tab")
                assert keys.count < 40
            subscription = role.query_one("#scope-subscription", RadioButton)
            while not subscription.has_class("-selected"):  # the choice the arrows are on
                await keys.press("down")
                assert keys.count < 40
            await keys.press("enter")
            assert role.session.plan.roles[0].scope == "subscription"
            assert role.query_one("#scope-subscription", RadioButton).value
            while not role.query_one("#run", Button).has_focus:
                await keys.press("tab")
                assert keys.count < 50
            seen = await keys.enter_until_summary(limit=80)
            assert seen == ["role", "federation", "trust", "deploy", "logs"]
            done = app.screen
            assert isinstance(done, DoneScreen)
            assert "Access proven" in str(done.query_one("#verdict", Static).render())
            assert done.session.outcomes["role"].values["scopes"].splitlines()[0] == (
                f"/subscriptions/{Env(box).subscription_id('fabrikam')}")
            assert_made_in_the_sandbox(box, done.session)

    asyncio.run(drive())
