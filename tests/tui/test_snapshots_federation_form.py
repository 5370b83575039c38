"""Snapshots of the federation form: the namespace, ServiceAccount and audience fields above the credential
preview, which follows what is typed (fixed session: the seed plan with fixed observations; no sandbox)."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.test_snapshots_trust import Host, _screen
from tests.tui.trust_fixtures import seed_session
from wizard.steps.base import Description
from wizard.tui.screens.federation import FederationScreen

SIZE = (120, 48)


class FormHost(Host):
    """What a form screen asks of the app, without an engine: nothing to save, no fresh description."""

    def describe(self, step: str) -> Description | None:
        return None

    def save_session(self) -> None:
        pass


async def _type(pilot: Pilot[None], field: str, text: str) -> None:
    await pilot.pause()
    box = pilot.app.screen.query_one(f"#{field}-input", Input)
    box.cursor_blink = False  # a blinking cursor is caught on or off at random
    box.focus()
    box.value = ""
    await pilot.press(*text)
    await pilot.pause(0.4)  # past the form's debounce: the plan has followed


def test_federation_form_preview_follows_the_typed_service_account(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """Namespace "payments" and ServiceAccount "api-reader" were typed: under the credential preview and the
    diagram (a panel that scrolls within 30% of the height) one line per field — Namespace, ServiceAccount,
    Audience (api://AzureADTokenExchange) with the grey hint that changing it is rarely right; the preview reads
    subject system:serviceaccount:payments:api-reader, and so does the diagram's Federated line (scrolled below).
    No field shows a problem; the plan took both values (asserted)."""

    async def edit(pilot: Pilot[None]) -> None:
        await _type(pilot, "namespace", "payments")
        await _type(pilot, "service-account", "api-reader")

    session = seed_session()
    assert snap_compare(FormHost(_screen(FederationScreen, session)), terminal_size=SIZE, run_before=edit)
    assert session.plan.subject == "system:serviceaccount:payments:api-reader"


def test_federation_form_refuses_an_invalid_namespace(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """"Payments_NS" was typed as the namespace and Enter pressed: under the Namespace line, in red, "✗ a namespace
    is at most 63 lower-case letters, digits or '-', …"; the step did not run (the button still says Run this step,
    the event log is empty, a toast says "Not run: fix Namespace"); the preview shows the subject as typed
    (system:serviceaccount:Payments_NS:wi-demo-account) while the plan keeps the valid namespace "default"
    (asserted; the description below still names default/wi-demo-account)."""

    async def edit(pilot: Pilot[None]) -> None:
        await _type(pilot, "namespace", "Payments_NS")
        await pilot.press("enter")
        await pilot.pause()

    session = seed_session()
    assert snap_compare(FormHost(_screen(FederationScreen, session)), terminal_size=SIZE, run_before=edit)
    assert session.plan.kubernetes.namespace == "default"
