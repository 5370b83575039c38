"""One step of the flow: what it will do (plain words and the equivalent commands), a button to do it, and what
happens as it runs — progress, waits with their countdown, the workload's log lines, or the diagnosis."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Log, Static

from wizard.diagnose import Diagnosis
from wizard.session import Session
from wizard.steps.base import Description, Event
from wizard.tui.messages import EngineEvent, StepFinished
from wizard.tui.widgets.step_rail import TITLES, StepRail
from wizard.tui.widgets.target_banner import TargetBanner

MAX_LOG_LINES = 5000


class StepScreen(Screen[None]):
    BINDINGS = [("enter", "run", "Run this step"), ("b", "back", "Back"), ("d", "details", "Details")]
    # Scoped to the step screen (Textual prefixes a screen's DEFAULT_CSS with its type, subclasses included), so a
    # subclass re-sizes these parts in its own DEFAULT_CSS: same specificity, and the subclass's rules win the tie.
    DEFAULT_CSS = """
    StepScreen #body { padding: 0 2; }
    StepScreen #step-title { text-style: bold; margin: 1 0; }
    StepScreen #describe { height: auto; max-height: 12; }
    StepScreen #commands { margin-top: 1; padding: 0 1; background: $boost; color: $text-muted; }
    StepScreen #actions { height: auto; margin: 1 0; }
    StepScreen #actions Button { margin-right: 2; }
    StepScreen #diagnosis { color: $error; height: auto; }
    StepScreen #events { height: 1fr; border: round $panel-lighten-2; }
    """

    def __init__(self, session: Session, step: str, description: Description, target_label: str,
                 target_detail: str) -> None:
        super().__init__()
        self.session = session
        self.step = step
        self.description = description
        self.target_label = target_label
        self.target_detail = target_detail
        self.finished = False
        self.diagnosis: Diagnosis | None = None  # the failure on screen; `d` / Details opens it in full

    def compose(self) -> ComposeResult:
        yield TargetBanner(self.target_label, self.target_detail)
        with Horizontal():
            yield StepRail(self.session)
            with Vertical(id="body"):
                yield Static(TITLES[self.step], id="step-title", markup=False)
                yield from self.compose_form()
                with VerticalScroll(id="describe"):
                    yield Static(self.description.summary, id="summary", markup=False)
                    commands = Static("\n".join(self.description.commands), id="commands", markup=False)
                    commands.display = bool(self.description.commands)
                    yield commands
                with Horizontal(id="actions"):
                    yield Button("Run this step", id="run", variant="primary")
                    yield Button("Back", id="back")
                    yield Button("Details", id="details", variant="error")
                yield Static("", id="diagnosis", markup=False)
                yield Log(id="events", max_lines=MAX_LOG_LINES, auto_scroll=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#details", Button).display = False
        outcome = self.session.outcomes.get(self.step)
        if outcome and outcome.diagnosis:
            self._show_diagnosis(Diagnosis(**outcome.diagnosis))

    # -- hooks for screens with a form -------------------------------------------------------------------------

    def compose_form(self) -> ComposeResult:
        """Widgets above the description: a form screen's fields (they edit `self.session.plan` in place)."""
        yield from ()

    def commit_form(self) -> bool:
        """Called before the step runs: write the fields into the plan and save; False (with the problems shown
        next to their fields) keeps the step from running."""
        return True

    def refresh_description(self) -> None:
        """Show the description (plain words, equivalent commands) for the plan as it is now."""
        description = self.app.describe(self.step)  # type: ignore[attr-defined]
        if description is None:
            return
        self.description = description
        self.query_one("#summary", Static).update(description.summary)
        commands = self.query_one("#commands", Static)
        commands.update("\n".join(description.commands))
        commands.display = bool(description.commands)

    def action_run(self) -> None:
        if self.finished:
            self.app.advance(self.step)  # type: ignore[attr-defined]
            return
        if self.app.refused("step"):  # type: ignore[attr-defined]  # a tear-down is running (the app says so)
            return
        if not self.commit_form():
            return
        self.query_one("#run", Button).disabled = True
        self.query_one("#diagnosis", Static).update("")
        self._set_diagnosis(None)
        self.app.run_step(self.step)  # type: ignore[attr-defined]

    def action_back(self) -> None:
        self.app.go_back()  # type: ignore[attr-defined]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "details":
            return self.diagnosis is not None
        return True

    def action_details(self) -> None:
        """The diagnosis in full; its "Go to the … step" button sends the flow back to the step that fixes it."""
        from wizard.tui.screens.diagnosis import DiagnosisModal

        if self.diagnosis is None:
            return

        def go(step: str | None) -> None:
            if step:
                self.app.revisit(step)  # type: ignore[attr-defined]

        self.app.push_screen(DiagnosisModal(self.diagnosis), go)

    @on(Button.Pressed, "#details")
    def _details(self) -> None:
        self.action_details()

    @on(Button.Pressed, "#run")
    def _run(self) -> None:
        self.action_run()

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.action_back()

    def on_engine_event(self, message: EngineEvent) -> None:
        event: Event = message.event
        if event.kind == "wait" and event.seconds_left is not None:
            line = f"… {event.message} ({event.seconds_left:.0f} s left)"
        elif event.kind == "log":
            line = f"│ {event.message}"
        else:
            line = f"{'!' if event.kind == 'warning' else '·'} {event.message}"
        self.query_one("#events", Log).write_line(line)
        self.query_one(StepRail).refresh_from(self.session)

    def on_step_finished(self, message: StepFinished) -> None:
        self.query_one(StepRail).refresh_from(self.session)
        button = self.query_one("#run", Button)
        button.disabled = False
        if message.diagnosis is not None:
            self._show_diagnosis(message.diagnosis)
            button.label = "Run again"
            return
        self.finished = True
        button.label = "Continue ▶"
        button.focus()

    def _set_diagnosis(self, d: Diagnosis | None) -> None:
        self.diagnosis = d
        self.query_one("#details", Button).display = d is not None
        self.refresh_bindings()

    def _show_diagnosis(self, d: Diagnosis) -> None:
        self._set_diagnosis(d)
        where = f"\nThe {d.step} step fixes it." if d.step else ""
        error = f"\nError: {d.detail}" if d.detail else ""
        self.query_one("#diagnosis", Static).update(
            f"✗ {d.title} [{d.code}]\nWhy: {d.cause}\nFix: {d.fix}{where}{error}")
