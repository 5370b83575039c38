"""Snapshots of the logs screen with fixed lines (fixed terminal size; no network; no clock on screen)."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from wizard import target
from wizard.plan import load as load_plan
from wizard.session import Outcome, Session, SessionStore
from wizard.steps.base import Description, Event
from wizard.tui.app import WizardApp
from wizard.tui.messages import EngineEvent, StepFinished
from wizard.tui.screens.logs import LogsScreen
from wizard.tui.widgets.log_view import LogView

SEED = Path(__file__).resolve().parents[2] / "examples" / "seed-cross-tenant.toml"
LINES = [f"WI-PROBE step {i:02d}: {'token exchange ok' if i % 5 == 0 else 'listing resource groups'}"
         for i in range(40)] + ["WI-PROBE [bold]PROVEN[/bold] read 3 resource groups in tenant fabrikam"]


def _app(tmp_path: Path) -> WizardApp:
    return WizardApp(store=SessionStore(tmp_path / "sessions"), cloud=target.real, target_label="SANDBOX")


def _screen(session: Session) -> LogsScreen:
    return LogsScreen(session, "logs", Description("Follow the workload's log until it proves access.",
                                                   ["kubectl logs -n wi-demo wi-probe --follow"]),
                      "SANDBOX", "https://127.0.0.1:8443")


async def show_lines(pilot: Pilot[int], screen: LogsScreen, lines: list[str] = LINES) -> None:
    """Open the logs screen and feed it the running pod's status and `lines`, as the logs step reports them."""
    await pilot.app.push_screen(screen)
    await pilot.pause()
    screen.post_message(EngineEvent(Event("logs", "pod wi-demo/wi-probe is Running", "progress")))
    for line in lines:
        screen.post_message(EngineEvent(Event("logs", line, "log")))
    await pilot.pause()
    screen.query_one(LogView).flush()
    await pilot.pause()


def test_logs_screen_following_a_running_pod(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The logs step while the pod runs: the status line reads "· pod wi-demo/wi-probe is Running"; the bordered log
    below it follows the end (the last line, with its brackets shown literally, "WI-PROBE [bold]PROVEN[/bold]…", is at
    the bottom); the log's status line says "following · 41 lines · wrap off"; no verdict yet."""
    session = Session("demo", load_plan(SEED))

    async def run_before(pilot: Pilot[int]) -> None:
        await show_lines(pilot, _screen(session))

    assert snap_compare(_app(tmp_path), terminal_size=(110, 34), run_before=run_before)


def test_logs_screen_proven_and_searched(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The logs step after it proved access, searched for "token": the green "✓ Access proven: …" verdict with the
    evidence line under it; the button reads "Continue ▶"; the log shows only the 8 "token exchange ok" lines with
    "token" highlighted; the search field under the log holds "token"; the status line says "following · 8 of 41
    lines match 'token' · wrap off"."""
    session = Session("demo", load_plan(SEED))

    async def run_before(pilot: Pilot[int]) -> None:
        screen = _screen(session)
        await show_lines(pilot, screen)
        session.outcomes["logs"] = Outcome("done", "the workload read tenant fabrikam's resources",
                                           {"verdict": "proven", "evidence": LINES[-1]})
        screen.post_message(StepFinished("logs", None))
        await pilot.pause()
        await pilot.press("slash")
        screen.query_one("#log-search", Input).cursor_blink = False
        await pilot.press(*"token")
        await pilot.pause()

    assert snap_compare(_app(tmp_path), terminal_size=(110, 34), run_before=run_before)
