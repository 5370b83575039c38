"""The federation step: before writing the federated credential, show exactly what it will hold — the cluster's
issuer verbatim (trailing slash included), the ServiceAccount's subject and the audience — and where it sits in
the chain of trust. The namespace, ServiceAccount and audience are edited here: valid values go into the plan as
they are typed (FormStepScreen's rules) and the preview follows. The generic step body below runs the step."""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.events import Mount
from textual.widgets import Input, Static

from wizard import names
from wizard.plan import DEFAULT_AUDIENCE, KubernetesSide
from wizard.session import Session
from wizard.tui.screens.form import FormStepScreen
from wizard.tui.widgets.field import Field
from wizard.tui.widgets.trust_diagram import LABEL_WIDTH, TrustDiagram, trust_panel

AUDIENCE_HINT = f"Changing it is rarely right: Entra ID expects {DEFAULT_AUDIENCE} for workload identity."


def service_account_name(value: str) -> str | None:
    return names.object_name(value, "a ServiceAccount name")


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


def with_fields(session: Session, namespace: str, service_account: str, audience: str) -> Session:
    """A copy of the session whose plan holds the fields as typed, valid or not: what the preview shows at once
    (the plan itself only ever takes valid values)."""
    plan = session.plan
    edited = replace(plan, kubernetes=KubernetesSide(namespace, service_account),
                     federation=replace(plan.federation, audience=audience))
    return replace(session, plan=edited)


class FederationScreen(FormStepScreen):
    DEFAULT_CSS = """
    FederationScreen #federation-form { max-height: 40%; }
    """

    def compose_form(self) -> ComposeResult:
        k, federation = self.session.plan.kubernetes, self.session.plan.federation
        with VerticalScroll(id="federation-form", classes="form"):
            yield Field("Namespace", k.namespace, names.namespace, id="namespace")
            yield Field("ServiceAccount", k.service_account, service_account_name, id="service-account")
            yield Field("Audience", federation.audience, names.audience, id="audience", hint=AUDIENCE_HINT)

    @on(Mount)
    async def _show_preview_and_diagram(self) -> None:
        # StepScreen.on_mount runs too: it shows a saved diagnosis.
        preview = Static(render_preview(self.session), id="fic-preview", markup=False)
        panel = trust_panel(preview, TrustDiagram(self.session))
        panel.styles.max_height = "30vh"  # the form below needs room too (80×24)
        await self.query_one("#body").mount(panel, after="#step-title")

    def apply_to_plan(self) -> None:
        """The valid values go into the plan (an invalid one never does; its field shows why)."""
        plan = self.session.plan
        namespace, account, audience = (self.query_one(f"#{name}", Field)
                                        for name in ("namespace", "service-account", "audience"))
        if namespace.problem is None:
            plan.kubernetes.namespace = namespace.value
        if account.problem is None:
            plan.kubernetes.service_account = account.value
        if audience.problem is None:
            plan.federation.audience = audience.value

    def on_input_changed(self, event: Input.Changed) -> None:
        super().on_input_changed(event)
        if self.query("#fic-preview"):  # mounted just after the form
            namespace, account, audience = (self.query_one(f"#{name}", Field).value
                                            for name in ("namespace", "service-account", "audience"))
            shown = with_fields(self.session, namespace, account, audience)
            self.query_one("#fic-preview", Static).update(render_preview(shown))
            self.query_one(TrustDiagram).show(shown)
