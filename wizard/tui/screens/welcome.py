"""Start a new session from a plan file, or resume a saved one."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Static

from wizard import plan as plan_mod
from wizard.session import SessionStore, check_name
from wizard.tui.widgets.target_banner import TargetBanner


class WelcomeScreen(Screen[None]):
    AUTO_FOCUS = "#plan-path"
    BINDINGS = [("n", "focus_plan", "New session"), ("r", "resume", "Resume selected")]

    def __init__(self, store: SessionStore, target_label: str, default_plan: str = "") -> None:
        super().__init__()
        self.store = store
        self.target_label = target_label
        self.default_plan = default_plan

    def compose(self) -> ComposeResult:
        yield TargetBanner(self.target_label)
        with Vertical(id="welcome"):
            yield Static("Cross-tenant workload identity, set up and proven with live pod logs.", id="tagline")
            yield Label("Start a new session from a plan file")
            with Horizontal(id="new-session"):
                yield Input(self.default_plan, placeholder="path/to/plan.toml", id="plan-path")
                yield Input(placeholder="session name (default: the plan's)", id="session-name")
                yield Button("Start", id="start", variant="primary")
            yield Static("", id="plan-error", markup=False)
            yield Label("Or resume a saved session")
            yield DataTable(id="sessions", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#sessions", DataTable)
        table.add_columns("session", "target", "step", "last change")
        for summary in self.store.list():
            table.add_row(summary.name, summary.target, summary.state,
                          summary.updated_at + (f"  ({summary.problem})" if summary.problem else ""),
                          key=summary.name)
        if not table.row_count:
            table.add_row("(none yet)", "", "", "")

    def action_focus_plan(self) -> None:
        self.query_one("#plan-path", Input).focus()

    def action_resume(self) -> None:
        table = self.query_one("#sessions", DataTable)
        if table.row_count and table.cursor_row is not None:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            if key and self.store.exists(key):
                self.app.open_existing(key)  # type: ignore[attr-defined]

    @on(DataTable.RowSelected, "#sessions")
    def _selected(self) -> None:
        self.action_resume()

    @on(Button.Pressed, "#start")
    @on(Input.Submitted)
    def _start(self) -> None:
        error = self.query_one("#plan-error", Static)
        path = Path(self.query_one("#plan-path", Input).value.strip())
        try:
            plan = plan_mod.load(path)
        except plan_mod.PlanError as exc:
            error.update(str(exc))
            return
        name = self.query_one("#session-name", Input).value.strip() or path.stem
        if problem := check_name(name):
            error.update(f"session name {name!r}: {problem}")
            return
        error.update("")
        self.app.open_new(name, plan)  # type: ignore[attr-defined]
