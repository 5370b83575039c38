"""How engine events travel from a worker thread to the screen (WizardApp._report): queued without a round trip to
the UI thread per event, handed over in batches (consecutive log lines of a step joined into one event), in the
order they were reported, nothing lost, every one before anything the worker asks the UI to do afterwards (a
step's `StepFinished`), and with a bounded queue however fast the worker reports."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Label

from wizard import target
from wizard.session import SessionStore
from wizard.steps.base import Event
from wizard.tui.app import WizardApp
from wizard.tui.messages import EngineEvent, StepFinished


class RecordingScreen(Screen[None]):
    """Records what reaches a step screen, in arrival order."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[Event] = []
        self.finished_after: list[tuple[str, str, str]] | None = None  # what had arrived when StepFinished did

    def compose(self) -> ComposeResult:
        yield Label("recording")

    def on_engine_event(self, message: EngineEvent) -> None:
        self.events.append(message.event)

    def on_step_finished(self, message: StepFinished) -> None:
        self.finished_after = reported(self.events)


def reported(events: list[Event]) -> list[tuple[str, str, str]]:
    """The events as one (step, kind, line) per line (a batch of log lines counts as its lines)."""
    return [(e.step, e.kind, line) for e in events for line in (e.message.split("\n") if e.kind == "log"
                                                                 else [e.message])]


def run_worker(tmp_path: Path, events: list[Event], backlog: int | None = None) -> tuple[RecordingScreen, int]:
    """Report `events` from a worker thread, then ask the UI to post StepFinished (as `run_step` does); the screen
    and the most events that were ever queued at once."""
    result: list[RecordingScreen] = []
    most = [0]

    async def main() -> None:
        app = WizardApp(store=SessionStore(tmp_path / "sessions"), cloud=target.real, target_label="SANDBOX")
        if backlog is not None:
            app.EVENT_BACKLOG = backlog
        app.EVENT_INTERVAL = 5.0  # a burst's later batches wait: only the hand-over before StepFinished brings them
        async with app.run_test(size=(80, 24)) as pilot:
            screen = RecordingScreen()
            await app.push_screen(screen)
            await pilot.pause()

            def worker() -> None:
                for i, event in enumerate(events):
                    app._report(event)
                    most[0] = max(most[0], len(app._events))
                    while i == 0 and app._events:  # the first goes at once; the rest wait out EVENT_INTERVAL
                        time.sleep(0.001)
                app.call_from_thread(lambda: app.screen.post_message(StepFinished("logs", None)))

            thread = threading.Thread(target=worker)
            thread.start()
            while thread.is_alive():
                await asyncio.sleep(0.01)
            thread.join()
            while screen.finished_after is None:
                await pilot.pause(0.01)
            result.append(screen)

    asyncio.run(main())
    return result[0], most[0]


def burst() -> list[Event]:
    events = [Event("logs", "pod wi-probe is Running", "progress")]
    events += [Event("logs", f"line {i}", "log") for i in range(3000)]
    events += [Event("logs", "still streaming", "info")]
    events += [Event("logs", f"more {i}", "log") for i in range(2000)]
    events += [Event("deploy", "another step's line", "log"), Event("logs", "last line", "log")]
    return events


def test_a_burst_arrives_in_order_complete_batched_and_before_step_finished(tmp_path: Path) -> None:
    events = burst()
    screen, _ = run_worker(tmp_path, events)
    assert screen.finished_after == reported(events), "every line, in order, nothing lost, before StepFinished"
    assert len(screen.events) < len(events) // 10, "log lines were handed over in batches, not one by one"
    kinds = [(e.step, e.kind) for e in screen.events]
    assert kinds[0] == ("logs", "progress") and ("logs", "info") in kinds, "other events pass as they are"


def test_the_queue_stays_bounded_when_the_worker_outpaces_the_ui(tmp_path: Path) -> None:
    events = [Event("logs", f"line {i}", "log") for i in range(2000)]
    screen, most = run_worker(tmp_path, events, backlog=100)
    assert most <= 100
    assert screen.finished_after == reported(events)


def test_an_event_reported_on_the_ui_thread_reaches_the_screen(tmp_path: Path) -> None:
    async def main() -> None:
        app = WizardApp(store=SessionStore(tmp_path / "sessions"), cloud=target.real, target_label="SANDBOX")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = RecordingScreen()
            await app.push_screen(screen)
            await pilot.pause()
            app._report(Event("logs", "from the UI thread", "info"))
            await pilot.pause()
            assert [e.message for e in screen.events] == ["from the UI thread"]

    asyncio.run(main())
