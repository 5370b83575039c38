"""The logs screen's fast path for chatty pods: a log event may carry many lines joined by "\n" (shown as separate
lines, cleaned exactly as one-by-one lines are), and log events end at the logs screen instead of bubbling on to
the app (a second dispatch per line)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from textual.pilot import Pilot
from textual.widgets import Log

from tests.tui.test_logs_screen import logs_screen, run_on_logs_screen
from wizard import target
from wizard.session import SessionStore
from wizard.steps.base import Event
from wizard.tui.app import WizardApp
from wizard.tui.messages import EngineEvent
from wizard.tui.screens.logs import LogsScreen
from wizard.tui.widgets.log_view import LogView, plain, plain_lines

TRICKY = st.text(alphabet=st.sampled_from(list("ab \tx\x1b\r\x00\x7f\x85\u2028\u2029\x0b\x0cé[]")), max_size=30)


@given(st.lists(TRICKY, min_size=1, max_size=8))
def test_lines_cleaned_together_match_lines_cleaned_one_by_one(lines: list[str]) -> None:
    assert plain_lines("\n".join(lines)) == [plain(line) for line in lines]


class RecordingApp(WizardApp):
    """Records the engine events that reach the app."""

    def __init__(self, store: SessionStore) -> None:
        super().__init__(store=store, cloud=target.real, target_label="SANDBOX")
        self.reached: list[EngineEvent] = []

    def on_engine_event(self, message: EngineEvent) -> None:
        self.reached.append(message)


def test_a_batch_of_lines_shows_each_line_and_log_events_stop_at_the_logs_screen(tmp_path: Path) -> None:
    async def main() -> None:
        app = RecordingApp(SessionStore(tmp_path / "sessions"))
        async with app.run_test(size=(120, 40)) as pilot:
            screen = logs_screen()
            await app.push_screen(screen)
            await pilot.pause()
            screen.post_message(EngineEvent(Event("logs", "first\n\tsecond \x1b[1m\nthird", "log")))
            screen.post_message(EngineEvent(Event("logs", "one line", "log")))
            screen.post_message(EngineEvent(Event("logs", "pod is Running", "progress")))
            await pilot.pause()
            screen.query_one(LogView).flush()
            await pilot.pause()
            assert list(screen.query_one("#log-lines", Log).lines) == [
                "first", "        second \ufffd[1m", "third", "one line"]
            assert [m.event.kind for m in app.reached] == ["progress"], "only non-log events go on to the app"

    asyncio.run(main())


def test_lines_queued_between_batches_stay_bounded_and_are_all_counted(tmp_path: Path) -> None:
    """A flood between two batches keeps only what the view can show (memory stays flat); a paused view still
    counts every line that came."""

    async def body(app: WizardApp, screen: LogsScreen, pilot: Pilot[int]) -> None:
        view = screen.query_one(LogView)
        view.action_toggle_follow()  # paused
        flood = [f"line {i}" for i in range(3 * view.max_lines)]
        for start in range(0, len(flood), 1000):
            view.add_text("\n".join(flood[start:start + 1000]))
            assert len(view._pending) <= 2 * view.max_lines
        view.flush()
        assert view.unseen == len(flood)
        assert list(view.lines) == flood[-view.max_lines:]

    run_on_logs_screen(tmp_path, body)
