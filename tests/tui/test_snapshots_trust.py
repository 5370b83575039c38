"""Snapshots of the federation and trust screens from fixed sessions (seed plan, fixed observations; no sandbox,
no clock) at a fixed terminal size. The screens are pushed on a bare host app with the wizard's stylesheet: they
only read the session until a step is run, which these tests never do."""

from __future__ import annotations

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen

from tests.tui.form_screens import settle
from tests.tui.trust_fixtures import seed_session
from wizard.diagnose import Diagnosis
from wizard.session import Session
from wizard.steps.base import Description, Event
from wizard.tui.messages import EngineEvent
from wizard.tui.screens.federation import FederationScreen
from wizard.tui.screens.trust import TrustScreen

SIZE = (120, 48)
FEDERATION = Description("Let the identity mi-wi-demo trust tokens of the ServiceAccount default/wi-demo-account.",
                         ["az identity federated-credential create --name fc-wi-demo …"])
TRUST = Description("Prove the trust before deploying, link by link.", ["kubectl create token wi-demo-account …"])


class Host(App[None]):
    """Shows one screen, with no engine: nothing runs here, so nothing ever keeps a step from starting."""

    def __init__(self, screen: Screen[None]) -> None:
        super().__init__()
        self._first = screen

    def on_mount(self) -> None:
        self.push_screen(self._first)

    def refused(self, action: str) -> bool:
        return False


def _screen(kind: type[FederationScreen] | type[TrustScreen], session: Session) -> Screen[None]:
    description = FEDERATION if kind is FederationScreen else TRUST
    return kind(session, session.state, description, "SANDBOX", "https://127.0.0.1:8443")


def test_federation_screen_previews_the_credential_above_the_diagram(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """The federation screen: the yellow SANDBOX banner; under the title "Federation" a "Federated credential to
    write" block with name fc-wi-demo, the issuer https://127.0.0.1:8443/oic/eastus/1111…/2222…/ WITH its trailing
    slash, subject system:serviceaccount:default:wi-demo-account and audience api://AzureADTokenExchange; then the
    boxed chain Cluster → Issuer → Federated → Identity → Role → Scope with every arrow dim "not yet checked"
    (the panel scrolls within 30% of the height); then the form, one line per field: Namespace default,
    ServiceAccount wi-demo-account, Audience api://AzureADTokenExchange with its hint; then the generic step body
    (summary, command, Run this step / Back)."""
    assert snap_compare(Host(_screen(FederationScreen, seed_session())), terminal_size=(120, 64), run_before=settle)


def test_trust_screen_after_a_failed_match(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """The trust screen from a saved session whose trust step failed at the match link: in the diagram the
    issuer + signature arrow is green (✓ passed), the match arrow red (✗ failed), the tenant and both role arrows dim
    (· not yet checked); below the step body the saved diagnosis in red (AADSTS700213, the subject differs, fixed by
    the federation step) and the red Details button."""
    session = seed_session(issuer="passed", signature="passed", match="failed", tenant="skipped", role="skipped")
    session.outcomes["trust"].diagnosis = Diagnosis(
        "AADSTS700213", "The federated credential does not match the token's subject",
        "No federated credential on the identity has the subject system:serviceaccount:default:wi-demo-account.",
        "Run the federation step again to write the credential with this subject.", "federation").to_dict()
    session.state = "trust"
    assert snap_compare(Host(_screen(TrustScreen, session)), terminal_size=SIZE)


def test_trust_screen_turns_arrows_green_as_the_links_are_announced(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """The trust screen while a run announces its links (events posted as the app would forward them): the
    issuer + signature arrow and the match arrow are green, tenant and role are still dim; the event log below
    shows the three announcements."""
    session = seed_session()
    session.state = "trust"

    async def announce(pilot: Pilot[None]) -> None:
        await pilot.pause()
        for message in ("issuer: passed — tokens carry the issuer", "signature: passed — the JWKS verifies it",
                        "match: passed — Entra accepted the token"):
            pilot.app.screen.post_message(EngineEvent(Event("trust", message, "info")))
        await pilot.pause()

    assert snap_compare(Host(_screen(TrustScreen, session)), terminal_size=SIZE, run_before=announce)
