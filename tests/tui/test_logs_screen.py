"""The logs screen under load (Pilot, no network): log lines go to a bounded, batched view that can pause, wrap and
search; the other events go to the status line; the verdict shows when the step finishes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Log, Static

from tests.tui.seed_app import SEED
from wizard import target
from wizard.plan import load as load_plan
from wizard.session import Outcome, Session, SessionStore
from wizard.steps.base import Description, Event
from wizard.tui.app import STEP_SCREENS, WizardApp, _screen_class
from wizard.tui.messages import EngineEvent, StepFinished
from wizard.tui.screens.logs import LogsScreen
from wizard.tui.widgets.log_view import LogView

DESCRIPTION = Description("Follow the workload's log until it proves it can read tenant B's resources.",
                          ["kubectl logs -n wi-demo wi-probe --follow"])


def logs_screen(session: Session | None = None) -> LogsScreen:
    return LogsScreen(session or Session("demo", load_plan(SEED)), "logs", DESCRIPTION, "SANDBOX",
                      "https://127.0.0.1:8443")


def run_on_logs_screen(tmp_path: Path, body: Callable[[WizardApp, LogsScreen, Pilot[int]], Awaitable[None]],
                       size: tuple[int, int] = (120, 40), screen: LogsScreen | None = None) -> None:
    async def main() -> None:
        app = WizardApp(store=SessionStore(tmp_path / "sessions"), cloud=target.real, target_label="SANDBOX")
        async with app.run_test(size=size) as pilot:
            shown = screen or logs_screen()
            await app.push_screen(shown)
            await pilot.pause()
            await body(app, shown, pilot)

    asyncio.run(main())


def feed(screen: LogsScreen, lines: list[str]) -> None:
    for line in lines:
        screen.post_message(EngineEvent(Event("logs", line, "log")))


def shown_lines(screen: LogsScreen) -> list[str]:
    return list(screen.query_one("#log-lines", Log).lines)


def status(screen: LogsScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def test_the_logs_step_is_registered_with_its_own_screen() -> None:
    assert STEP_SCREENS["logs"] == "wizard.tui.screens.logs:LogsScreen"
    assert _screen_class("logs") is LogsScreen


def test_twenty_thousand_lines_stay_bounded_to_the_last_lines_and_the_view_stays_responsive(tmp_path: Path) -> None:
    async def body(app: WizardApp, screen: LogsScreen, pilot: Pilot[int]) -> None:
        view = screen.query_one(LogView)
        feed(screen, [f"line {i:05d} " + "x" * 60 for i in range(20_000)])
        await pilot.pause(0.5)  # the messages are handled and at least one batch timer has fired
        view.flush()
        await pilot.pause()
        lines = shown_lines(screen)
        assert len(view.lines) == view.max_lines
        assert len(lines) <= view.max_lines
        assert lines[-1].startswith("line 19999"), "the newest line is shown"
        assert lines[0].startswith(f"line {20_000 - view.max_lines:05d}"), "the oldest lines were dropped"
        log = screen.query_one("#log-lines", Log)
        assert log.scroll_y == log.max_scroll_y, "following: the view is at the end"
        await pilot.press("f")  # how fast keys are handled during a flood is a benchmark, not a test assertion
        assert not view.following

    run_on_logs_screen(tmp_path, body)


def test_lines_are_written_in_batches_not_one_repaint_per_line(tmp_path: Path) -> None:
    async def body(app: WizardApp, screen: LogsScreen, pilot: Pilot[int]) -> None:
        log = screen.query_one("#log-lines", Log)
        writes: list[int] = []
        original = log.write_lines

        def counting(lines: Any, *args: Any, **kwargs: Any) -> Any:
            batch = list(lines)
            writes.append(len(batch))
            return original(batch, *args, **kwargs)

        log.write_lines = counting  # type: ignore[method-assign]
        feed(screen, [f"line {i}" for i in range(50)])
        await pilot.pause(0.4)
        screen.query_one(LogView).flush()
        await pilot.pause()
        assert shown_lines(screen) == [f"line {i}" for i in range(50)]
        assert sum(writes) == 50 and len(writes) <= 2, f"one repaint per batch, not per line: {writes}"

    run_on_logs_screen(tmp_path, body)


def test_pause_freezes_the_view_counts_new_lines_and_follow_catches_up(tmp_path: Path) -> None:
    async def body(app: WizardApp, screen: LogsScreen, pilot: Pilot[int]) -> None:
        view = screen.query_one(LogView)
        log = screen.query_one("#log-lines", Log)
        feed(screen, [f"first {i}" for i in range(100)])
        await pilot.pause(0.4)
        await pilot.press("f")
        frozen, at = shown_lines(screen), log.scroll_y
        assert "paused" in status(screen, "#log-status")
        feed(screen, [f"second {i}" for i in range(100)])
        await pilot.pause(0.4)
        assert shown_lines(screen) == frozen and log.scroll_y == at, "paused: neither content nor position moves"
        assert "100 new lines" in status(screen, "#log-status")
        await pilot.press("f")
        await pilot.pause()
        assert view.following and shown_lines(screen)[-1] == "second 99"
        assert log.scroll_y == log.max_scroll_y
        assert "following" in status(screen, "#log-status")

    run_on_logs_screen(tmp_path, body)


def test_search_shows_only_matching_lines_and_escape_shows_them_all_again(tmp_path: Path) -> None:
    async def body(app: WizardApp, screen: LogsScreen, pilot: Pilot[int]) -> None:
        lines = [f"ERROR disk buffer overflow {i}" if i % 10 == 0 else f"info line {i}" for i in range(200)]
        feed(screen, lines)
        await pilot.pause(0.4)
        await pilot.press("slash")
        search = screen.query_one("#log-search", Input)
        assert search.has_focus and search.display
        await pilot.press(*"Disk Buffer Overflow")  # case-insensitive; typed d, b, f, w go to the field, not the keys
        await pilot.pause()
        assert search.value == "Disk Buffer Overflow"
        assert shown_lines(screen) == [line for line in lines if "ERROR" in line]
        assert "20 of 200 lines match 'Disk Buffer Overflow'" in status(screen, "#log-status")
        assert screen.query_one(LogView).following and isinstance(app.screen, LogsScreen)
        feed(screen, ["ERROR disk buffer overflow late", "info late"])
        await pilot.pause(0.4)
        assert shown_lines(screen)[-1] == "ERROR disk buffer overflow late", "new lines are filtered too"
        await pilot.press("escape")
        await pilot.pause()
        assert not search.display and search.value == ""
        assert shown_lines(screen) == [*lines, "ERROR disk buffer overflow late", "info late"]

    run_on_logs_screen(tmp_path, body)


def test_wrap_cuts_long_lines_to_the_views_width_and_back(tmp_path: Path) -> None:
    async def body(app: WizardApp, screen: LogsScreen, pilot: Pilot[int]) -> None:
        feed(screen, ["a" * 250, "short"])
        await pilot.pause(0.4)
        assert shown_lines(screen) == ["a" * 250, "short"]
        await pilot.press("w")
        width = screen.query_one("#log-lines", Log).scrollable_content_region.width
        rows = shown_lines(screen)
        assert len(rows) > 2 and all(len(row) <= width for row in rows) and "".join(rows) == "a" * 250 + "short"
        await pilot.press("w")
        assert shown_lines(screen) == ["a" * 250, "short"]

    run_on_logs_screen(tmp_path, body, size=(100, 30))


def test_log_lines_are_plain_text_and_other_events_go_to_the_status_line(tmp_path: Path) -> None:
    async def body(app: WizardApp, screen: LogsScreen, pilot: Pilot[int]) -> None:
        hostile = "[bold red]not markup[/] \x1b[31mno escape\x1b[0m"
        feed(screen, [hostile])
        screen.post_message(EngineEvent(Event("logs", "pod wi-demo/wi-probe is Pending", "wait", seconds_left=42)))
        screen.post_message(EngineEvent(Event("logs", "[link=x]container[/link] restarted", "warning")))
        await pilot.pause(0.4)
        assert shown_lines(screen) == ["[bold red]not markup[/] \ufffd[31mno escape\ufffd[0m"], "no ESC is shown"
        assert screen.query_one("#log-lines", Log).render_line(0).text.startswith("[bold red]not markup[/] "), \
            "brackets are text, not markup"
        assert status(screen, "#step-status") == "! [link=x]container[/link] restarted"

    run_on_logs_screen(tmp_path, body)


def test_the_verdict_and_evidence_show_when_the_step_finishes(tmp_path: Path) -> None:
    session = Session("demo", load_plan(SEED))

    async def body(app: WizardApp, screen: LogsScreen, pilot: Pilot[int]) -> None:
        feed(screen, ["WI-PROBE token ok", "WI-PROBE listed 3 resource groups"])
        await pilot.pause()
        session.outcomes["logs"] = Outcome("done", "the workload read tenant B's resources",
                                           {"verdict": "proven", "evidence": "WI-PROBE listed 3 resource groups"})
        screen.post_message(StepFinished("logs", None))
        await pilot.pause()
        assert shown_lines(screen)[-1] == "WI-PROBE listed 3 resource groups", "the last batch is flushed at once"
        verdict = screen.query_one("#logs-verdict", Static)
        assert verdict.display and status(screen, "#logs-verdict").startswith("✓ Access proven")
        assert status(screen, "#logs-evidence") == "WI-PROBE listed 3 resource groups"
        assert screen.finished, "the step screen's own handling (Continue) still runs"

    run_on_logs_screen(tmp_path, body, screen=logs_screen(session))
