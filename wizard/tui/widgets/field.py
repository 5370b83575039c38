"""A labelled text field checked as the user types, with the rule's own message under it.

Form screens build their fields from the same validators the plan uses (`wizard.names`), so a value the screen
accepts is a value the plan accepts, and the message is the one a plan file would get.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label, Static

Check = Callable[[str], str | None]  # a value → None when valid, else what is wrong (and how to fix it)


class _Rule(Validator):
    def __init__(self, check: Check) -> None:
        super().__init__()
        self.check = check

    def validate(self, value: str) -> ValidationResult:
        problem = self.check(value)
        return self.failure(problem, value) if problem else self.success()


class Field(Vertical):
    DEFAULT_CSS = """
    Field { height: auto; margin-bottom: 1; }
    Field > Label { color: $text-muted; }
    Field > .field-error { color: $error; height: auto; }
    Field > .field-hint { color: $text-muted; height: auto; }
    """

    def __init__(self, label: str, value: str, check: Check, *, id: str, placeholder: str = "",  # noqa: A002
                 hint: str = "") -> None:
        super().__init__(id=id)
        self.label = label
        self.check = check
        self._initial = value
        self._placeholder = placeholder
        self._hint = hint

    def compose(self) -> ComposeResult:
        yield Label(self.label)
        yield Input(self._initial, placeholder=self._placeholder, validators=[_Rule(self.check)],
                    validate_on=["changed", "submitted"], id=f"{self.id}-input")
        yield Static("", classes="field-error", markup=False)
        if self._hint:
            yield Static(self._hint, classes="field-hint", markup=False)

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def value(self) -> str:
        return self.input.value.strip()

    @property
    def problem(self) -> str | None:
        return self.check(self.value)

    def show_problem(self) -> bool:
        """Show what is wrong (if anything) under the field; True when the value is valid."""
        problem = self.problem
        self.query_one(".field-error", Static).update(f"✗ {problem}" if problem else "")
        self.input.set_class(bool(problem), "-invalid")
        return problem is None

    def on_input_changed(self, event: Input.Changed) -> None:
        self.show_problem()
