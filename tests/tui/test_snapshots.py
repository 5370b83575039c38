"""Snapshots of the screens in fixed states (fixed terminal size; no network; no clock on screen)."""

from __future__ import annotations

from pathlib import Path

from tests.tui.test_snapshots_welcome import no_blinking
from wizard import target
from wizard.session import SessionStore
from wizard.tui.app import WizardApp


def test_welcome_screen_on_the_sandbox(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The welcome screen on a first run: the yellow SANDBOX banner across the top; "New session" with the plan-file
    field pre-filled with the seed example (its label says an empty path starts from scratch), an empty session-name
    field (placeholder: the plan file's name is the default) and the Start button; "Or resume a saved session" with
    an empty table ("(none yet)") and the line "No saved sessions yet: start one above."."""
    app = WizardApp(store=SessionStore(tmp_path / "sessions"), cloud=target.real, target_label="SANDBOX",
                    default_plan="examples/seed-cross-tenant.toml")
    assert snap_compare(app, terminal_size=(100, 30), run_before=no_blinking)
