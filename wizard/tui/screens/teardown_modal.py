"""Confirm a tear-down: what will be deleted, what only loses the wizard's annotations (a ServiceAccount that was
there before), and what is kept and why — read from the cloud just now (wizard.teardown.preview). Nothing is
touched until "Tear down" is pressed; escape or Cancel (which has the focus) leaves everything as it is."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from wizard.teardown import Item

ACTIONS = {"delete": ("delete", "bold red"), "remove-annotations": ("remove annotations", "bold yellow"),
           "keep": ("keep", "dim")}


def render_items(items: Sequence[Item]) -> Text:
    """One line per item (action, what), its reason indented under it; names come from the cloud: plain text."""
    text = Text()
    width = max(len(words) for words, _ in ACTIONS.values())
    for index, item in enumerate(items):
        words, style = ACTIONS.get(item.action, (item.action, ""))
        if index:
            text.append("\n")
        text.append(f"{words:<{width}}  ", style=style)
        text.append(item.label, style="bold" if item.action != "keep" else "")
        text.append(f"\n   ↳ {item.reason}", style="dim")
    return text


class TeardownModal(ModalScreen[bool]):
    DEFAULT_CSS = """
    TeardownModal { align: center middle; }
    TeardownModal > Vertical { width: 96%; max-width: 120; height: auto; max-height: 90%; padding: 1 2;
                               border: thick $error; background: $surface; }
    TeardownModal #td-title { text-style: bold; color: $error; }
    TeardownModal #td-intro { color: $text-muted; margin-bottom: 1; }
    TeardownModal #td-list { height: auto; max-height: 20; }
    TeardownModal #td-actions { height: auto; margin-top: 1; }
    TeardownModal #td-actions Button { margin-right: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, items: Sequence[Item]) -> None:
        super().__init__()
        self.items = list(items)

    @property
    def changes(self) -> int:
        return sum(1 for item in self.items if item.action != "keep")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Tear down what this session created?", id="td-title")
            intro = (f"{self.changes} change{'s' if self.changes != 1 else ''}, in this order; kept items stay "
                     "as they are." if self.changes else "Nothing to tear down: nothing the session created is "
                     "left to remove.")
            yield Static(intro, id="td-intro", markup=False)
            with VerticalScroll(id="td-list"):
                yield Static(render_items(self.items), id="td-items", markup=False)
            with Horizontal(id="td-actions"):
                if self.changes:
                    yield Button("Tear down", id="td-confirm", variant="error")
                yield Button("Cancel", id="td-cancel")

    def on_mount(self) -> None:
        self.query_one("#td-cancel", Button).focus()  # the safe choice has the focus

    @on(Button.Pressed, "#td-confirm")
    def _confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#td-cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
