"""The logs step: the step screen with its event list replaced by a live view of the workload's log.

The logs step reports every line the pod prints (`kind == "log"`) and, between them, what the pod is doing
(waiting to start, its status). The lines go to a bounded `LogView` (batched, pausable, searchable); everything
else replaces a one-line status above it, so a long log never pushes the pod's state out of sight. When the step
ends, the verdict and the evidence it found in the log are shown above the log (the diagnosis, when it failed, is
shown by the step screen as for any step).
"""

from __future__ import annotations

from collections.abc import Iterator

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Log, Static

from wizard.steps.base import Event
from wizard.tui.messages import EngineEvent, StepFinished
from wizard.tui.screens.step import MAX_LOG_LINES, StepScreen
from wizard.tui.widgets.log_view import LogView
from wizard.tui.widgets.step_rail import StepRail


def status_text(event: Event) -> str:
    """One line for a step event that is not a log line."""
    if event.kind == "wait" and event.seconds_left is not None:
        return f"… {event.message} ({event.seconds_left:.0f} s left)"
    return f"{'!' if event.kind == 'warning' else '·'} {event.message}"


class LogsScreen(StepScreen):
    # On the screen, not the view, so that they work wherever the focus is (the Run/Continue button mostly).
    BINDINGS = [
        Binding("f", "log('toggle_follow')", "Follow/pause"),
        Binding("w", "log('toggle_wrap')", "Wrap"),
        Binding("slash", "log('search')", "Search"),
        Binding("escape", "log('close_search')", "Close search", show=False),
    ]
    DEFAULT_CSS = """
    LogsScreen #step-status { height: 1; color: $text-muted; }
    LogsScreen #logs-verdict { display: none; height: auto; text-style: bold; margin-top: 1; }
    LogsScreen #logs-verdict.-proven { display: block; color: $success; }
    LogsScreen #logs-verdict.-unproven { display: block; color: $warning; }
    LogsScreen #logs-evidence { display: none; height: auto; max-height: 6; color: $text-muted; }
    LogsScreen #logs-evidence.-shown { display: block; }
    """

    def compose(self) -> Iterator[Widget]:
        """The step screen's layout, with its `#events` log swapped for the status line, verdict and log view."""
        for widget in super().compose():
            if isinstance(widget, Log) and widget.id == "events":
                yield Static("", id="step-status", markup=False)
                yield Static("", id="logs-verdict", markup=False)
                yield Static("", id="logs-evidence", markup=False)
                self._view = LogView(max_lines=MAX_LOG_LINES, id="pod-log")  # kept: a chatty pod sends many lines
                yield self._view
            else:
                yield widget

    # Textual also calls StepScreen's handlers of the same name after these (it walks the MRO), unless a handler
    # prevents the default: on_mount and on_step_finished add to the step screen's; on_engine_event replaces it.

    def on_mount(self) -> None:
        self._show_verdict()  # a step finished earlier (a resumed session) shows what it found

    def on_engine_event(self, message: EngineEvent) -> None:
        message.prevent_default()  # the step screen's handler writes to the `#events` log this screen replaced
        event = message.event
        if event.kind == "log":
            # Handled here for good: without stop() every line would bubble on to the app and be dispatched a
            # second time there (no handler, but the dispatch costs as much as handling it). One event may carry
            # several lines joined by "\n" (a reporter that batches them).
            message.stop()
            self._view.add_text(event.message)
            return
        self.query_one("#step-status", Static).update(status_text(event))
        self.query_one(StepRail).refresh_from(self.session)

    def on_step_finished(self, message: StepFinished) -> None:
        self.query_one(LogView).flush()  # the last lines before the verdict (the rail and button: StepScreen's)
        self._show_verdict()

    def action_run(self) -> None:
        if not self.finished:  # a (new) run: the log is streamed from its start again, the verdict is to come
            self.query_one(LogView).clear()
            self.query_one("#step-status", Static).update("")
            for widget_id in ("#logs-verdict", "#logs-evidence"):
                self.query_one(widget_id, Static).set_classes("")
        super().action_run()

    def action_log(self, action: str) -> None:
        getattr(self.query_one(LogView), f"action_{action}")()

    def _show_verdict(self) -> None:
        outcome = self.session.outcomes.get(self.step)
        verdict = outcome.values.get("verdict") if outcome else None
        if outcome is None or verdict is None:
            return
        proven = verdict == "proven"
        self.query_one("#logs-verdict", Static).update(
            f"✓ Access proven: {outcome.summary}" if proven else f"✗ Not proven: {outcome.summary}")
        self.query_one("#logs-verdict", Static).set_classes("-proven" if proven else "-unproven")
        evidence = outcome.values.get("evidence", "")
        self.query_one("#logs-evidence", Static).update(evidence)
        self.query_one("#logs-evidence", Static).set_classes("-shown" if evidence else "")
