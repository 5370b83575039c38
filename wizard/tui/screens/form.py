"""What the identity, role and deploy screens share: a step screen whose form edits the plan.

- Enter in a field runs the step, like the Run button: `commit_form` refuses (problems shown by their fields) when
  a value is invalid, so Enter on a pre-filled, valid form is the whole happy path.
- As fields change, the valid values go into the plan (an invalid one never does: the plan only ever holds values
  its own rules accept) and the session is saved (quit, resume: the same values), and the description follows,
  after a short pause so typing stays smooth.
- A change after the step succeeded means it has to run again: the button goes back from "Continue" to "Run".
- Lookups (wizard.discover through `app.lookup`) run only when an engine is there: screens built over fixed data
  (snapshot tests) are fed through their `show_…` methods instead; a result that arrives after the screen was
  left is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual.binding import Binding
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Input, OptionList, RadioSet, Select, Static, TextArea

from wizard.diagnose import Diagnosis
from wizard.steps.base import Context
from wizard.tui.messages import StepFinished
from wizard.tui.screens.step import StepScreen
from wizard.tui.widgets.field import Field

T = TypeVar("T")
DEBOUNCE_SECONDS = 0.25


def lookup_failure(what: str, diagnosis: Diagnosis, then: str = "") -> str:
    """The line a screen shows where a failed lookup's result would be: what could not be listed, why in brief
    (an unknown error's own text, cut short: the app's notice has it in full), and that r tries again."""
    why = diagnosis.title
    if diagnosis.code == "Unexpected" and diagnosis.detail:
        detail = diagnosis.detail if len(diagnosis.detail) <= 160 else diagnosis.detail[:159] + "…"
        why += f" ({detail})"
    return f"✗ Could not list {what}: {why}. Press r to retry{then}."


class FormStepScreen(StepScreen):
    # In a text field, Enter runs (Input.Submitted) but "b" types a b, and a list takes Enter for itself: these
    # keys do Run/Back from there, and the footer shows them only then (elsewhere it shows the step screen's enter/b).
    BINDINGS = [Binding("ctrl+r", "field_run", "Run this step"), Binding("ctrl+b", "field_back", "Back")]
    opened = False  # True once the first field has been given the focus (after the first refresh)
    # One line per field (label left, compact input right), so that the form, the description, the buttons and the
    # event log all fit at 80×24; a focused field is tinted, an invalid one red, its message under it.
    DEFAULT_CSS = """
    FormStepScreen .form { height: auto; max-height: 50%; }
    FormStepScreen .form-context { color: $text-muted; height: auto; margin-bottom: 1; }
    FormStepScreen Field { layout: grid; grid-size: 2; grid-columns: 18 1fr; grid-rows: auto; height: auto;
                           margin-bottom: 0; }
    FormStepScreen Field > .field-error, FormStepScreen Field > .field-hint { column-span: 2; }
    FormStepScreen Input.-textual-compact { background: $boost; }
    FormStepScreen Input.-textual-compact:focus { background-tint: $accent 30%; }
    FormStepScreen Input.-textual-compact.-invalid { background-tint: $error 35%; }
    FormStepScreen Checkbox { border: none; padding: 0; height: 1; background: transparent; margin-bottom: 1; }
    FormStepScreen .form-warning { color: $warning; height: auto; }
    FormStepScreen .form-problem { color: $error; height: auto; }
    /* The description gives way to the form (it scrolls), so the buttons and the event log stay on screen. */
    FormStepScreen #describe { height: 1fr; max-height: 8; min-height: 3; }
    FormStepScreen #actions { margin: 1 0 0 0; }
    FormStepScreen #events { min-height: 3; }
    /* Once the step has run (or failed before), its progress and diagnosis need the room more than the form. */
    FormStepScreen.-ran .form { max-height: 30% !important; }
    """
    _refresh_timer: Timer | None = None

    def on_mount(self) -> None:
        # The plan as last saved and as the step last ran with: only a real change saves, or asks for a new run
        # (events that change nothing, such as a list filled in by a late lookup, do neither).
        self._saved: dict[str, Any] = self.session.plan.to_dict()
        self._ran_with: dict[str, Any] = self._saved
        for widget in self.query(Input).results(Input):
            widget.compact = True
        for choice in self.query(Select).results(Select):
            choice.compact = True
        for radios in self.query(RadioSet).results(RadioSet):
            radios.compact = True
        # After StepScreen.on_mount (Textual calls it after this one), which shows a saved diagnosis.
        self.call_after_refresh(lambda: self.set_class(self.diagnosis is not None, "-ran"))
        self.tidy()
        self.call_after_refresh(self._focus_first)

    def _focus_first(self) -> None:
        """After the first refresh (Textual's own auto-focus has run by then): the first field takes the focus."""
        first = self.first_focus()
        if first is not None:
            first.focus()
        self.opened = True  # tests wait for this before a snapshot, rather than for a time

    def first_focus(self) -> Widget | None:
        """What has the focus when the screen opens (Enter there runs the step): the first shown field."""
        return next((f.input for f in self.fields() if f.display), None)

    def tidy(self) -> None:
        """Message lines take room only when they say something (the form must fit at 80×24)."""
        for line in self.query(".field-error, .form-problem, .form-warning").results(Static):
            line.display = bool(str(line.render()).strip())

    # -- for the screens ----------------------------------------------------------------------------------------

    def fields(self) -> list[Field]:
        """The screen's free-text fields, in order (the first invalid one gets the focus when Run is refused)."""
        return list(self.query(Field))

    def extra_problems(self) -> list[str]:
        """Problems that no single field shows (a screen adds its own, e.g. env lines); shown by the screen."""
        return []

    def apply_to_plan(self) -> None:
        """Write the form's valid values into `self.session.plan` (in place)."""

    def form_changed(self) -> None:
        """Called after the plan took the valid values, before the description is refreshed."""

    def lookup(self, query: Callable[[Context], T], done: Callable[[T], Any],
               failed: Callable[[Diagnosis], Any] | None = None) -> None:
        """`app.lookup` for this screen: `done(result)`, or `failed(diagnosis)` (the app's notice shows it too),
        only while the screen is still shown."""
        if getattr(self.app, "engine", None) is None:
            return

        def shown() -> bool:
            return self.is_mounted and self in self.app.screen_stack  # (a modal over it is fine)

        def deliver(result: T) -> None:
            if shown():
                done(result)

        def fail(diagnosis: Diagnosis) -> None:
            if failed is not None and shown():
                failed(diagnosis)

        self.app.lookup(query, deliver, fail if failed is not None else None)  # type: ignore[attr-defined]

    def schedule_refresh(self) -> None:
        """Something in the form changed: follow it in the plan and the description a moment later."""
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
        self._refresh_timer = self.set_timer(DEBOUNCE_SECONDS, self.follow_form)

    def follow_form(self) -> None:
        self._refresh_timer = None
        self.apply_to_plan()
        now = self.session.plan.to_dict()
        if now != self._saved:
            self.app.save_session()  # type: ignore[attr-defined]  # quit now, resume: the same values
            self._saved = now
        if self.finished and now != self._ran_with:  # the step ran with other values: it has to run again
            self.finished = False
            self.query_one("#run", Button).label = "Run this step"
        self.form_changed()
        self.tidy()
        self.refresh_description()

    # -- StepScreen hooks ---------------------------------------------------------------------------------------

    def commit_form(self) -> bool:
        invalid = [f for f in self.fields() if f.display and not f.show_problem()]
        extra = self.extra_problems()
        self.tidy()
        if invalid:
            invalid[0].input.focus()
        if invalid or extra:
            what = ([", ".join(f.label for f in invalid)] if invalid else []) + extra
            self.notify("Not run: fix " + "; ".join(what), title="Invalid values", severity="warning", markup=False,
                        timeout=8)
            return False
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
            self._refresh_timer = None
        self.apply_to_plan()
        self.form_changed()
        self.app.save_session()  # type: ignore[attr-defined]
        self._saved = self._ran_with = self.session.plan.to_dict()
        self.refresh_description()
        self.add_class("-ran")
        for form in self.query(".form"):
            form.disabled = True  # the step reads the plan on its worker thread: no edits until it ends
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "field_run":
            return isinstance(self.focused, Input | TextArea | OptionList)
        if action == "field_back":
            return isinstance(self.focused, Input | TextArea)
        return super().check_action(action, parameters)

    def action_field_run(self) -> None:
        self.action_run()

    def action_field_back(self) -> None:
        self.action_back()

    # -- events -------------------------------------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_run()

    def on_step_finished(self, message: StepFinished) -> None:
        # StepScreen.on_step_finished also runs (Textual calls each class's handler): the button, the diagnosis.
        for form in self.query(".form"):
            form.disabled = False

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()  # the field keys show only while a text field has the focus

    def on_input_changed(self, event: Input.Changed) -> None:
        self.tidy()  # after the field's own handler showed (or cleared) its message
        self.schedule_refresh()
