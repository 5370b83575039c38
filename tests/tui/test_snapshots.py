"""Snapshots of the screens in fixed states (fixed terminal size; no network; no clock on screen)."""

from __future__ import annotations

from pathlib import Path

from wizard import target
from wizard.session import SessionStore
from wizard.tui.app import WizardApp


def test_welcome_screen_on_the_sandbox(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The welcome screen: the yellow SANDBOX banner across the top, the plan-file field pre-filled with the seed
    example, and an empty list of saved sessions ("(none yet)")."""
    app = WizardApp(store=SessionStore(tmp_path / "sessions"), cloud=target.real, target_label="SANDBOX",
                    default_plan="examples/seed-cross-tenant.toml")
    assert snap_compare(app, terminal_size=(100, 30))
