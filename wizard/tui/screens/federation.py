"""The federation step: before writing the federated credential, show exactly what it will hold — the cluster's
issuer verbatim (trailing slash included), the ServiceAccount's subject and the audience — and where it sits in
the chain of trust. The generic step body below runs the step."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.events import Mount
from textual.widgets import Static

from wizard.session import Session
from wizard.tui.screens.step import StepScreen
from wizard.tui.widgets.trust_diagram import LABEL_WIDTH, TrustDiagram, trust_panel


def fic_preview(session: Session) -> list[tuple[str, str]]:
    """(field, value) of the credential the step writes, from the plan and the cluster step's observations."""
    plan = session.plan
    outcome = session.outcomes.get("cluster")
    issuer = outcome.values.get("issuer_url", "") if outcome is not None else ""
    return [
        ("Name", plan.federation_name),
        ("Issuer", issuer or "not known yet (the cluster step reads it)"),
        ("Subject", plan.subject),
        ("Audience", plan.federation.audience),
    ]


def render_preview(session: Session) -> Text:
    text = Text("Federated credential to write\n", style="bold")
    text.append("\n".join(f"{name:<{LABEL_WIDTH}}{value}" for name, value in fic_preview(session)))
    return text


class FederationScreen(StepScreen):
    @on(Mount)
    async def _show_preview_and_diagram(self) -> None:
        # StepScreen.on_mount runs too: it shows a saved diagnosis.
        preview = Static(render_preview(self.session), id="fic-preview", markup=False)
        await self.query_one("#body").mount(trust_panel(preview, TrustDiagram(self.session)), after="#step-title")
