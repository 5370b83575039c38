"""The logs screen's fast path for chatty pods: a log event may carry many lines joined by "\n" (shown as separate
lines, cleaned exactly as one-by-one lines are), and log events end at the logs screen instead of bubbling on to
the app (a second dispatch per line)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from textual.widgets import Log

from tests.tui.test_logs_screen import logs_screen
from wizard import target
from wizard.session import SessionStore
from wizard.steps.base import Event
from wizard.tui import app as app_module
from wizard.tui.app import WizardApp
from wizard.tui.messages import EngineEvent
from wizard.tui.widgets.log_view import LogView, plain, plain_lines

TRICKY = st.text(alphabet=st.sampled_from(list("ab \tx\x1b\r\x00\x7f\x85\u2028\u2029\x0b\x0cé[]")), max_size=30)


@given(st.lists(TRICKY, min_size=1, max_size=8))
def test_lines_cleaned_together_match_lines_cleaned_one_by_one(lines: list[str]) -> None:
    assert plain_lines("\n".join(lines)) == [plain(line) for line in lines]


class RecordingApp(WizardApp):
    """Records the engine events that reach the app."""

    CSS_PATH = str(Path(app_module.__file__).parent / "app.tcss")  # relative paths resolve next to the subclass

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
