"""The end of the flow: what each step made true, and the proof from the workload's logs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from wizard.flow import ORDER
from wizard.session import Session
from wizard.tui.widgets.step_rail import TITLES, StepRail
from wizard.tui.widgets.target_banner import TargetBanner


class DoneScreen(Screen[None]):
    def __init__(self, session: Session, target_label: str, target_detail: str) -> None:
        super().__init__()
        self.session = session
        self.target_label = target_label
        self.target_detail = target_detail

    def compose(self) -> ComposeResult:
        yield TargetBanner(self.target_label, self.target_detail)
        with Horizontal():
            yield StepRail(self.session)
            with VerticalScroll(id="body"):
                logs = self.session.outcomes.get("logs")
                proven = bool(logs and logs.values.get("verdict") == "proven")
                yield Static("✓ Access proven by the workload's own logs" if proven else "Not proven yet",
                             id="verdict", classes="-proven" if proven else "-unproven", markup=False)
                for name in ORDER:
                    outcome = self.session.outcomes.get(name)
                    if outcome and outcome.summary:
                        yield Static(f"{TITLES[name]}: {outcome.summary}", classes="outcome", markup=False)
                if logs and logs.values.get("evidence"):
                    yield Static(logs.values["evidence"], id="evidence", markup=False)
        yield Footer()
