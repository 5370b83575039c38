"""A failed step's diagnosis in full: what happened, why, the fix, the original error (copyable), and a button to
go to the step that fixes it. Dismissed with that step's name, or None when closed."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from wizard.diagnose import Diagnosis
from wizard.tui.screens.modal import EngineModal


class DiagnosisModal(EngineModal[str | None]):
    DEFAULT_CSS = """
    DiagnosisModal { align: center middle; }
    DiagnosisModal > Vertical { width: 90; height: auto; max-height: 90%; padding: 1 2; border: thick $error;
                                background: $surface; }
    DiagnosisModal #dg-title { text-style: bold; color: $error; }
    DiagnosisModal #dg-code { color: $text-muted; margin-bottom: 1; }
    DiagnosisModal .dg-label { text-style: bold; }
    DiagnosisModal .dg-text { margin: 0 0 1 2; }
    DiagnosisModal #dg-detail-box { height: auto; max-height: 8; margin: 0 0 1 2; background: $boost; }
    DiagnosisModal #dg-detail { padding: 0 1; color: $text-muted; }
    DiagnosisModal #dg-actions { height: auto; }
    DiagnosisModal #dg-actions Button { margin-right: 2; }
    """
    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, diagnosis: Diagnosis) -> None:
        super().__init__()
        self.diagnosis = diagnosis

    def compose(self) -> ComposeResult:
        d = self.diagnosis
        with Vertical():
            yield Static(f"✗ {d.title}", id="dg-title", markup=False)
            yield Static(d.code, id="dg-code", markup=False)
            yield Static("Why", classes="dg-label")
            yield Static(d.cause, id="dg-cause", classes="dg-text", markup=False)
            yield Static("Fix", classes="dg-label")
            yield Static(d.fix, id="dg-fix", classes="dg-text", markup=False)
            if d.detail:
                yield Static("Original error", classes="dg-label")
                with VerticalScroll(id="dg-detail-box"):
                    yield Static(d.detail, id="dg-detail", markup=False)
            with Horizontal(id="dg-actions"):
                if d.step:
                    yield Button(f"Go to the {d.step} step", id="dg-goto", variant="primary")
                if d.detail:
                    yield Button("Copy error", id="dg-copy")
                yield Button("Close", id="dg-close")

    def on_mount(self) -> None:
        self.query_one("#dg-actions").query(Button).first().focus()

    def action_close(self) -> None:
        self.close(None)

    @on(Button.Pressed, "#dg-goto")
    def _goto(self) -> None:
        self.close(self.diagnosis.step)

    @on(Button.Pressed, "#dg-copy")
    def _copy(self) -> None:
        self.app.copy_to_clipboard(self.diagnosis.detail)
        self.notify("Error copied.", timeout=3)

    @on(Button.Pressed, "#dg-close")
    def _close(self) -> None:
        self.action_close()
