"""The wizard opened on the seed plan against a live sandbox, as a person starts it: for Pilot tests that drive
the real engine through the screens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input

from wizard import target
from wizard.session import SessionStore
from wizard.tui.app import WizardApp

SEED = Path(__file__).resolve().parents[2] / "examples" / "seed-cross-tenant.toml"


def seed_app(endpoints: Path, tmp_path: Path) -> WizardApp:
    return WizardApp(store=SessionStore(tmp_path / "sessions"), cloud=lambda: target.sandbox(endpoints),
                     target_label="SANDBOX", default_plan=str(SEED))


async def open_seed_plan(app: WizardApp, pilot: Any) -> None:
    """Start a session from the seed plan on the welcome screen and wait for its first step screen."""
    await pilot.pause()
    app.screen.query_one("#plan-path-input", Input).value = str(SEED)
    await pilot.click("#start")
    await app.workers.wait_for_complete()
    await pilot.pause()


def record_notices(app: WizardApp, severity: str | None = None) -> list[str]:
    """The notifications the app shows from now on (they are still shown): those of `severity`, or all."""
    notices: list[str] = []
    notify = app.notify

    def recording(message: str, *args: Any, **kwargs: Any) -> None:
        if severity is None or kwargs.get("severity") == severity:
            notices.append(str(message))
        notify(message, *args, **kwargs)

    app.notify = recording  # type: ignore[method-assign]
    return notices


def record_errors(app: WizardApp) -> list[str]:
    """The error notifications the app shows from now on."""
    return record_notices(app, "error")


async def screen_ready(app: WizardApp, pilot: Any, timeout: float = 20.0) -> None:
    """Wait until the current step screen has composed its widgets: the flow switches screens from a worker's
    callback, and on a loaded machine the new screen may still be composing when the test looks at it."""
    from wizard.tui.screens.step import StepScreen

    for _ in range(int(timeout / 0.05)):
        screen = app.screen
        if not isinstance(screen, StepScreen) or screen.query("#run"):
            return
        await pilot.pause(0.05)
