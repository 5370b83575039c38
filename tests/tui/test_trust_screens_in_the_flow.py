"""The federation and trust screens inside the real flow, against a private sandbox over HTTPS: the federation
screen previews the issuer exactly as the cluster step observed it, and the trust screen's diagram ends with every
link passed after the trust step runs from its button."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Button, Input, Static

from tests.tui.test_flow_in_the_tui import SEED
from wizard import target
from wizard.sandbox import Sandbox
from wizard.session import SessionStore
from wizard.tui.app import WizardApp
from wizard.tui.screens.federation import FederationScreen
from wizard.tui.screens.step import StepScreen
from wizard.tui.screens.trust import TrustScreen
from wizard.tui.widgets.trust_diagram import LINKS, TrustDiagram


def test_the_trust_diagram_shows_every_link_passed_after_the_seed_trust_check(
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
        previewed = False
        for _ in range(6):
            screen = app.screen
            assert isinstance(screen, StepScreen), type(screen)
            if isinstance(screen, FederationScreen):
                issuer = screen.session.outcomes["cluster"].values["issuer_url"]
                assert issuer.endswith("/")
                preview = str(screen.query_one("#fic-preview", Static).render())
                assert f"Issuer      {issuer}" in preview, "the preview shows the issuer verbatim"
                assert "system:serviceaccount:default:wi-demo-account" in preview
                assert set(screen.query_one(TrustDiagram).states.values()) == {"unchecked"}
                previewed = True
            screen.query_one("#run", Button).press()
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause(0.2)
            if isinstance(screen, TrustScreen):
                assert previewed, "the federation step has its own screen, before the trust step"
                assert screen.query_one(TrustDiagram).states == dict.fromkeys(LINKS, "passed")
                assert "▼ ✗" not in str(screen.query_one(TrustDiagram).render())
                return
            screen.query_one("#run", Button).press()
            await pilot.pause(0.2)
        raise AssertionError("never reached the trust screen")
