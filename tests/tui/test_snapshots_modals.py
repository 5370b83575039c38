"""Snapshots of the device-code and diagnosis modals over a step screen built from fixed data (fixed terminal size;
no sandbox, no engine, no clock; the loading indicator's animation is off so it draws as static text)."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from tests.tui.fixed_screens import DEVICE_CODE, DEVICE_URI, EXPIRES_ON, FixedStepApp, trust_diagnosis
from wizard.tui.screens.device_code import DeviceCodeModal


def test_device_code_modal_over_the_sign_in_step(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A modal over the dimmed "Sign in" step: "Sign in with a device code", the page
    https://microsoft.com/devicelogin, the code F7KQ2ZR9M in a large rounded box with "Copy code" (focused) and
    "Copy URL" buttons beside it, "The code expires at 09:45:00 UTC.", then "Loading... Waiting for you to sign
    in…" (the indicator drawn without animation) and the hint that esc closes the window."""
    app = FixedStepApp(tmp_path, "login")
    app.animation_level = "none"

    async def run_before(pilot: Pilot[int]) -> None:
        await pilot.pause()
        pilot.app.push_screen(DeviceCodeModal(DEVICE_URI, DEVICE_CODE, EXPIRES_ON))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(110, 32), run_before=run_before)


def test_diagnosis_modal_over_a_failed_trust_check(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A red-bordered modal over the dimmed failed "Trust check" step (rail: five steps ✓, Trust check ✗):
    "✗ Issuer mismatch", the code AADSTS700211, "Why" and "Fix" paragraphs from the rule table, the original
    AADSTS700211 error text in a shaded box, and the buttons "Go to the federation step" (focused), "Copy error"
    and "Close". It was opened with `d` from the step screen."""
    app = FixedStepApp(tmp_path, "trust", done=("login", "cluster", "identity", "role", "federation"),
                       diagnosis=trust_diagnosis())
    app.animation_level = "none"

    async def run_before(pilot: Pilot[int]) -> None:
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(110, 40), run_before=run_before)
