"""The command palette over a failed step screen (fixed session, no engine, no sandbox)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual.command import Provider
from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.fixed_screens import FixedStepApp, trust_diagnosis
from wizard.tui.commands import WizardCommands


class WizardCommandsOnly(FixedStepApp):
    """Only the wizard's provider: Textual's own commands arrive from another provider in no fixed order."""

    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {WizardCommands}


def test_command_palette_offers_the_wizard_actions(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """ctrl+p over the trust step that failed, nothing typed yet: the palette lists the wizard's commands with
    their help lines — "New session", "Run this step: Trust check" (Same as the Run button), "Show the diagnosis"
    (Issuer mismatch), "Toggle dark / light". No session is open, so there is no export, tear down or go-to-step
    command. (In the app Textual's own — Keys, Quit, Screenshot, Theme — are listed too; left out here because
    two providers answer in no fixed order.)"""
    app = WizardCommandsOnly(tmp_path, "trust", done=("login", "cluster", "identity", "role", "federation"),
                       diagnosis=trust_diagnosis())

    async def open_palette(pilot: Pilot[int]) -> None:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        pilot.app.screen.query_one(Input).cursor_blink = False
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(100, 30), run_before=open_palette)
