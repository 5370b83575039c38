"""The whole seed flow driven through the screens (Pilot), against a private sandbox over HTTPS: every step is
run from its screen by pressing its button, and the last screen shows the proof from the workload's logs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Button, Input, Static

from wizard import target
from wizard.sandbox import Sandbox
from wizard.session import SessionStore
from wizard.tui.app import WizardApp
from wizard.tui.screens.done import DoneScreen
from wizard.tui.screens.step import StepScreen

SEED = Path(__file__).resolve().parents[2] / "examples" / "seed-cross-tenant.toml"


def test_the_seed_plan_is_proven_by_running_every_step_from_its_screen(
        make_sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    box = make_sandbox()
    asyncio.run(_drive(box.state_dir / "endpoints.json", tmp_path))


async def _drive(endpoints: Path, tmp_path: Path) -> None:
    app = WizardApp(store=SessionStore(tmp_path / "sessions"), cloud=lambda: target.sandbox(endpoints),
                    target_label="SANDBOX", default_plan=str(SEED))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.query_one("#plan-path", Input).value = str(SEED)
        await pilot.click("#start")
        await app.workers.wait_for_complete()
        await pilot.pause()
        seen = []
        for _ in range(12):
            if isinstance(app.screen, DoneScreen):
                break
            assert isinstance(app.screen, StepScreen), type(app.screen)
            seen.append(app.screen.step)
            app.screen.query_one("#run", Button).press()
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause(0.2)
            assert str(app.screen.query_one("#run", Button).label) == "Continue ▶", "a finished step stays on screen"
            app.screen.query_one("#run", Button).press()
            await pilot.pause(0.2)
        assert isinstance(app.screen, DoneScreen), f"stopped at {seen[-1]}"
        assert seen == ["login", "cluster", "identity", "role", "federation", "trust", "deploy", "logs"]
        verdict = app.screen.query_one("#verdict", Static)
        assert "Access proven" in str(verdict.render())
