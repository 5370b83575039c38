"""Quit mid-flow, start the wizard again on that session (as `wi-wizard resume NAME` does), and finish: on a live
sandbox, with key presses only. The resumed app signs in again before showing the screen (credentials are never
saved), and its palette offers going back to the steps already reached."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Static

from tests.tui.e2e_support import Keys, assert_made_in_the_sandbox
from tests.tui.seed_app import seed_app
from wizard import target
from wizard.sandbox import Sandbox
from wizard.session import SessionStore
from wizard.tui.app import WizardApp
from wizard.tui.commands import wizard_commands
from wizard.tui.screens.done import DoneScreen
from wizard.tui.screens.step import StepScreen


def test_quitting_after_the_identity_step_and_resuming_returns_to_the_role_screen_and_finishes(
        make_sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    box = make_sandbox()
    endpoints = box.state_dir / "endpoints.json"

    async def first_run() -> dict[str, object]:
        app = seed_app(endpoints, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            keys = Keys(app, pilot)
            await keys.settle()
            await keys.press("enter")  # start from the seed plan
            await keys.press(*["enter"] * 6)  # sign in, cluster, identity: run and continue each
            screen = app.screen
            assert isinstance(screen, StepScreen) and screen.step == "role"
            seen = {"plan": screen.session.plan.to_dict(), "state": screen.session.state,
                    "identity": dict(screen.session.outcomes["identity"].values), "name": screen.session.name}
            await pilot.press("ctrl+q")
            await pilot.pause()
        assert app.return_code in (0, None)
        return seen

    async def second_run(before: dict[str, object]) -> None:
        app = WizardApp(store=SessionStore(tmp_path / "sessions"), cloud=lambda: target.sandbox(endpoints),
                        target_label="SANDBOX", resume=str(before["name"]))
        async with app.run_test(size=(120, 40)) as pilot:
            keys = Keys(app, pilot)
            await keys.settle()
            screen = app.screen
            assert isinstance(screen, StepScreen) and screen.step == "role", "back on the screen it was quit on"
            session = screen.session
            assert session.plan.to_dict() == before["plan"]
            assert session.state == before["state"]
            assert session.outcomes["identity"].values == before["identity"]
            offered = [text for text, _, _ in wizard_commands(app, screen)]
            assert [t for t in offered if t.startswith("Go to step")] == [
                "Go to step: Sign in", "Go to step: Cluster", "Go to step: Identity", "Go to step: Role"]
            assert "Tear down" in offered and "Export as script" in offered
            seen = await keys.enter_until_summary(limit=20)
            assert seen == ["role", "federation", "trust", "deploy", "logs"]
            assert isinstance(app.screen, DoneScreen)
            assert "Access proven" in str(app.screen.query_one("#verdict", Static).render())
            assert_made_in_the_sandbox(box, app.screen.session)

    before = asyncio.run(first_run())
    asyncio.run(second_run(before))
