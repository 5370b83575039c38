"""The chain of trust, top to bottom: tenant A's cluster → its OIDC issuer → the federated credential → tenant B's
identity → its role → the scope. Each arrow carries the trust-check links that prove it and is coloured by their
state (passed, failed, not yet checked), so a failure points at the one hop to fix.

Built only from a `Session` (the plan plus the steps' observations), never from the cloud: the screens stay thin
and the diagram can be drawn for any saved session. The issuer is shown verbatim — its trailing slash is what the
federated credential must copy. Values are added as plain text (never markup): they come from the cloud.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from wizard.session import Session

LINKS = ("issuer", "signature", "match", "tenant", "role")
# Which trust-check links prove each arrow, in chain order (the arrow leads from the node above to the node below).
ARROWS: tuple[tuple[str, ...], ...] = (("issuer", "signature"), ("match",), ("tenant",), ("role",), ("role",))
STATE_STYLE = {"passed": ("✓", "bold green"), "failed": ("✗", "bold red"), "unchecked": ("·", "dim")}
STATE_WORDS = {"passed": "passed", "failed": "failed", "unchecked": "not yet checked"}
# The trust step announces each link as "<link>: passed — …" or "<link>: failed — …".
_LINK_EVENT = re.compile(r"^(issuer|signature|match|tenant|role): (passed|failed)\b")
LABEL_WIDTH = 12


def link_states(session: Session) -> dict[str, str]:
    """Each link's state from the trust step's saved observations: passed, failed, or unchecked (also "skipped",
    which the trust step records for links it did not reach)."""
    outcome = session.outcomes.get("trust")
    values = outcome.values if outcome is not None else {}
    states = {}
    for link in LINKS:
        value = values.get(f"link.{link}", "")
        states[link] = value if value in ("passed", "failed") else "unchecked"
    return states


def link_from_event(message: str) -> tuple[str, str] | None:
    """(link, state) when a trust-step event message announces a link's result, else None."""
    found = _LINK_EVENT.match(message)
    return (found.group(1), found.group(2)) if found else None


def arrow_state(states: Mapping[str, str], links: tuple[str, ...]) -> str:
    """An arrow has failed if any of its links failed, passed when all passed, and is otherwise unchecked."""
    mine = [states.get(link, "unchecked") for link in links]
    if "failed" in mine:
        return "failed"
    return "passed" if all(state == "passed" for state in mine) else "unchecked"


def _value(session: Session, step: str, key: str) -> str:
    outcome = session.outcomes.get(step)
    return outcome.values.get(key, "") if outcome is not None else ""


def nodes(session: Session) -> list[tuple[str, str]]:
    """(label, text) for each node of the chain, from observations when known, else from the plan."""
    plan = session.plan
    cluster_tenant = _value(session, "login", "cluster_tenant_id") or plan.cluster.tenant
    identity_tenant = (_value(session, "identity", "tenant_id") or _value(session, "login", "identity_tenant_id")
                       or plan.identity.tenant)
    issuer = _value(session, "cluster", "issuer_url") or "not known yet (the cluster step reads it)"
    client_id = _value(session, "identity", "client_id")
    scopes = _value(session, "role", "scopes").replace("\n", ", ")
    return [
        ("Cluster", f"{plan.cluster.name} · tenant A {cluster_tenant}"),
        ("Issuer", issuer),
        ("Federated", f"{plan.federation_name} · subject {plan.subject} · audience {plan.federation.audience}"),
        ("Identity", f"{plan.identity.name}" + (f" · client {client_id}" if client_id else "")
         + f" · tenant B {identity_tenant}"),
        ("Role", ", ".join(grant.role for grant in plan.roles)),
        ("Scope", scopes or ", ".join(grant.scope for grant in plan.roles)),
    ]


def render_diagram(session: Session, states: Mapping[str, str]) -> Text:
    text = Text()
    chain = nodes(session)
    for index, (label, value) in enumerate(chain):
        text.append(f"{label:<{LABEL_WIDTH}}", style="bold")
        text.append(value)
        if index < len(ARROWS):
            links = ARROWS[index]
            state = arrow_state(states, links)
            mark, style = STATE_STYLE[state]
            text.append("\n")
            text.append(f"  ▼ {mark} {' + '.join(links)}: {STATE_WORDS[state]}", style=style)
            text.append("\n")
    return text


class TrustDiagram(Static):
    """The chain of trust for one session; `show` redraws it (with live link states while the trust step runs)."""

    DEFAULT_CSS = """
    TrustDiagram { height: auto; padding: 0 1; border: round $panel-lighten-2; }
    """

    def __init__(self, session: Session, states: Mapping[str, str] | None = None) -> None:
        self.states = dict(states) if states is not None else link_states(session)
        super().__init__(render_diagram(session, self.states), markup=False)

    def show(self, session: Session, states: Mapping[str, str] | None = None) -> None:
        """Redraw from `session`; `states` overrides the saved link states (e.g. as a run announces them)."""
        self.states = dict(states) if states is not None else link_states(session)
        self.update(render_diagram(session, self.states))


def trust_panel(*widgets: Widget) -> VerticalScroll:
    """The diagram (and what goes with it) above a step's body, scrolling past 40% of the screen's height so the
    step's own buttons and event log stay in view on a small terminal."""
    panel = VerticalScroll(*widgets, id="trust-panel")
    panel.styles.height = "auto"
    panel.styles.max_height = "40vh"
    return panel
