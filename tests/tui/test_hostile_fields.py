"""Hostile text in a form field (wizard/tui/widgets/field.py): typed or pasted control characters, escape
sequences, 10 000 characters, path traversal — each shows the rule's inline error under the field, marks the input
invalid, and never raises; the error line is the validator's own short sentence (the value itself is not echoed
into the terminal). A valid value typed afterwards clears the error."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from wizard import names
from wizard.tui.widgets.field import Check, Field

HOSTILE = {
    "control characters": "aks\x00\x07\x1b[2J",
    "terminal escape": "\x1b]0;owned\x07aks",
    "10k characters": "a" * 10_000,
    "path traversal": "../../etc",
    "bidi override": "\u202eskа-evil",
    "only spaces": "   \t  ",
}
FIELDS: dict[str, tuple[Check, str]] = {
    "cluster": (names.cluster, "aks-wi-demo"),
    "namespace": (names.namespace, "default"),
    "tenant": (names.tenant, "contoso.onmicrosoft.com"),
    "scope": (names.scope, "subscription"),
    "env-name": (names.env_name, "AZURE_REGION"),
}


class OneField(App[None]):
    def __init__(self, check: Check, value: str) -> None:
        super().__init__()
        self.check, self.start = check, value

    def compose(self) -> ComposeResult:
        yield Field("Value", self.start, self.check, id="value")


async def _drive(check: Check, good: str) -> list[tuple[str, str, bool]]:
    """For every hostile text: (what, the inline error shown, whether the input is marked invalid); the last row
    is the valid value typed again."""
    app = OneField(check, good)
    seen: list[tuple[str, str, bool]] = []
    async with app.run_test(size=(80, 24)) as pilot:
        field = app.query_one(Field)
        for what, text in HOSTILE.items():
            field.input.value = ""
            field.input.focus()
            printable = "".join(c for c in text[:8] if c.isprintable())  # a few keys typed: enough to show it
            await pilot.press(*[c if c.isalnum() else _key(c) for c in printable if _key(c)])  # typed…
            field.input.value = text  # …and pasted whole, control characters included
            await pilot.press("enter")
            await pilot.pause()
            error = str(field.query_one(".field-error", Static).render())
            seen.append((what, error, field.input.has_class("-invalid")))
        field.input.value = good
        await pilot.pause()
        seen.append(("valid", str(field.query_one(".field-error", Static).render()), field.input.has_class("-invalid")))
    return seen


def _key(c: str) -> str:
    """The Pilot key name of a printable character."""
    return {".": "full_stop", "/": "slash", "-": "minus", "[": "left_square_bracket", ";": "semicolon",
            " ": "space", "]": "right_square_bracket"}.get(c, c if c.isalnum() else "")


@pytest.mark.parametrize("name", list(FIELDS))
def test_hostile_text_in_a_field_shows_the_rules_inline_error_and_never_raises(name: str) -> None:
    check, good = FIELDS[name]

    seen = asyncio.run(_drive(check, good))

    *hostile, valid = seen
    for what, error, invalid in hostile:
        expected = check(HOSTILE[what].strip())
        assert expected is not None, f"{what} must be refused by the {name} rule"
        assert error == f"✗ {expected}", (what, error)
        assert invalid, what
        assert error.isprintable() and len(error) < 300
    assert valid == ("valid", "", False)
