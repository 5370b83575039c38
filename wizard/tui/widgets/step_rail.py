"""The steps of the flow down the left side, each with its state: where you are and what is done."""

from __future__ import annotations

from textual.widgets import Static

from wizard.flow import ORDER
from wizard.session import Session

TITLES = {"login": "Sign in", "cluster": "Cluster", "identity": "Identity", "role": "Role",
          "federation": "Federation", "trust": "Trust check", "deploy": "Deploy", "logs": "Live logs"}
MARKS = {"done": "✓", "failed": "✗", "skipped": "–", "pending": " "}


class StepRail(Static):
    DEFAULT_CSS = """
    StepRail { width: 20; height: 100%; padding: 1 1; border-right: solid $panel-lighten-2; }
    """

    def __init__(self, session: Session) -> None:
        super().__init__(self.render_rail(session), markup=False)

    @staticmethod
    def render_rail(session: Session) -> str:
        lines = []
        for name in ORDER:
            outcome = session.outcomes.get(name)
            mark = MARKS.get(outcome.status if outcome else "pending", " ")
            pointer = "▶" if session.state == name else " "
            lines.append(f"{pointer} {mark} {TITLES[name]}")
        return "\n".join(lines)

    def refresh_from(self, session: Session) -> None:
        self.update(self.render_rail(session))
