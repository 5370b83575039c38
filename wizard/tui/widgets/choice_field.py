"""A validated text field with the existing values next to it: pick one from the list, or type a new name.

Typing stays the fast path (the existing values are also offered as type-ahead: → accepts the suggestion); the
list is there to see what exists and to pick with the mouse or the arrows. A note under the pair says whether the
typed value is an existing one or a new one — the difference between "use" and "create".
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Input, Select, Static

from wizard.tui.widgets.field import Check, Field


class ChoiceField(Vertical):
    class Picked(Message):
        """A value was picked from the list (the field holds it now)."""

        def __init__(self, choice_field: ChoiceField, value: str) -> None:
            super().__init__()
            self.choice_field = choice_field
            self.value = value

        @property
        def control(self) -> ChoiceField:
            return self.choice_field

    DEFAULT_CSS = """
    ChoiceField { height: auto; }
    ChoiceField > Horizontal { height: auto; }
    ChoiceField Field { width: 1fr; margin-bottom: 0; }
    ChoiceField Select { width: 20; margin-left: 1; }
    ChoiceField > .choice-note { color: $text-muted; height: auto; padding-left: 18; }  /* under the input */
    """

    def __init__(self, label: str, value: str, check: Check, *, id: str, prompt: str,  # noqa: A002
                 existing_note: str = "exists", new_note: str = "new", placeholder: str = "") -> None:
        super().__init__(id=id)
        self._label, self._value, self._check, self._placeholder = label, value, check, placeholder
        self.prompt = prompt
        self.existing_note = existing_note
        self.new_note = new_note
        self.choices: dict[str, str] = {}  # value → its line in the list
        self.loaded = False  # whether the existing values have been looked up yet
        # The screen's own wording of the note (e.g. "exists, but in another resource group"); None: the default.
        self.note_hook: Callable[[ChoiceField], str] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Field(self._label, self._value, self._check, id=f"{self.id}-field", placeholder=self._placeholder)
            yield Select[str]([], prompt=self.prompt, id=f"{self.id}-pick", compact=True)
        yield Static("", classes="choice-note", markup=False)

    def on_mount(self) -> None:
        self.query_one(Select).display = False  # until there is something to pick

    @property
    def field(self) -> Field:
        return self.query_one(Field)

    @property
    def value(self) -> str:
        return self.field.value

    @property
    def problem(self) -> str | None:
        return self.field.problem

    def show_problem(self) -> bool:
        return self.field.show_problem()

    def existing(self) -> str | None:
        """The listed value the field names (Azure names compare without case), or None."""
        wanted = self.value.lower()
        return next((value for value in self.choices if value.lower() == wanted), None)

    @property
    def exists(self) -> bool:
        return self.existing() is not None

    def set_choices(self, choices: dict[str, str]) -> None:
        """The existing values (value → the line shown for it), from a lookup."""
        self.choices = dict(choices)
        self.loaded = True
        pick = self.query_one(Select)
        with pick.prevent(Select.Changed):
            pick.set_options([(Text(line), value) for value, line in self.choices.items()])  # Text: no markup
        pick.display = bool(self.choices)
        self.field.input.suggester = SuggestFromList(list(self.choices), case_sensitive=False)
        self.refresh_note()

    def set_value(self, value: str) -> None:
        self.field.input.value = value  # Input.Changed follows: the field re-checks and the screen hears of it

    def note(self) -> str:
        if not self.loaded or self.problem:
            return ""
        if self.note_hook is not None:
            return self.note_hook(self)
        found = self.existing()
        if found is not None:
            return f"{self.existing_note}: {self.choices[found]}"
        return self.new_note

    def refresh_note(self) -> None:
        note = self.note()
        widget = self.query_one(".choice-note", Static)
        widget.update(note)
        widget.display = bool(note)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.refresh_note()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, str) and event.value != self.value:
            self.set_value(event.value)
            self.field.input.focus()
        if isinstance(event.value, str):
            self.post_message(self.Picked(self, event.value))
            self.call_after_refresh(self._clear_pick)  # the field holds the value; the list goes back to its prompt

    def _clear_pick(self) -> None:
        pick = self.query_one(Select)
        with pick.prevent(Select.Changed):
            pick.clear()
