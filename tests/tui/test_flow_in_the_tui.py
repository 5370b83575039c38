"""The whole seed flow driven through the screens (Pilot), against a private sandbox over HTTPS: every step is
run from its screen by pressing its button, the federation and trust screens show the credential and the trust
diagram as they should, and the last screen shows the proof from the workload's logs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Button, Static

from tests.tui.seed_app import open_seed_plan, screen_ready, seed_app
from wizard.sandbox import Sandbox
from wizard.tui.screens.done import DoneScreen
from wizard.tui.screens.federation import FederationScreen
from wizard.tui.screens.step import StepScreen
from wizard.tui.screens.trust import TrustScreen
from wizard.tui.widgets.trust_diagram import LINKS, TrustDiagram


def test_the_seed_plan_is_proven_by_running_every_step_from_its_screen(
        make_sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    box = make_sandbox()
    asyncio.run(_drive(box.state_dir / "endpoints.json", tmp_path))


def _check_federation_preview(screen: FederationScreen) -> None:
    issuer = screen.session.outcomes["cluster"].values["issuer_url"]
    assert issuer.endswith("/")
    preview = str(screen.query_one("#fic-preview", Static).render())
    assert f"Issuer      {issuer}" in preview, "the preview shows the issuer verbatim"
    assert "system:serviceaccount:default:wi-demo-account" in preview
    assert set(screen.query_one(TrustDiagram).states.values()) == {"unchecked"}


def _check_trust_diagram(screen: TrustScreen) -> None:
    diagram = screen.query_one(TrustDiagram)
    assert diagram.states == dict.fromkeys(LINKS, "passed")
    assert "▼ ✗" not in str(diagram.render())


async def _drive(endpoints: Path, tmp_path: Path) -> None:
    app = seed_app(endpoints, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_seed_plan(app, pilot)
        seen = []
        for _ in range(12):
            await screen_ready(app, pilot)
            screen = app.screen
            if isinstance(screen, DoneScreen):
                break
            assert isinstance(screen, StepScreen), type(screen)
            seen.append(screen.step)
            if isinstance(screen, FederationScreen):
                _check_federation_preview(screen)
            screen.query_one("#run", Button).press()
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause(0.2)
            assert str(screen.query_one("#run", Button).label) == "Continue ▶", "a finished step stays on screen"
            if isinstance(screen, TrustScreen):
                _check_trust_diagram(screen)
            screen.query_one("#run", Button).press()
            await pilot.pause(0.2)
        assert isinstance(app.screen, DoneScreen), f"stopped at {seen[-1]}"
        assert seen == ["login", "cluster", "identity", "role", "federation", "trust", "deploy", "logs"]
        verdict = app.screen.query_one("#verdict", Static)
        assert "Access proven" in str(verdict.render())
