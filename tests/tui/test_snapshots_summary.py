"""Snapshots of the summary screen and its tear-down confirmation, from a fixed proven session (no sandbox, no
clock), at a fixed terminal size."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.tui.summary_fixtures import proven_session, teardown_items
from tests.tui.test_snapshots_trust import Host
from wizard.tui.screens.done import DoneScreen
from wizard.tui.screens.teardown_modal import TeardownModal

SIZE = (120, 44)


def _summary() -> DoneScreen:
    return DoneScreen(proven_session(), "SANDBOX", "https://127.0.0.1:8443")


def test_summary_of_a_proven_session_lists_what_it_created(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """The summary: the yellow SANDBOX banner, the rail with every step ✓; in green "✓ Access proven by the
    workload's own logs", one line per step saying what it did, the evidence line in grey; then "Created by this
    session": a table (focused, first row highlighted) grouped by where — tenant B fabrikam.onmicrosoft.com
    (resource group rg-wi-demo, managed identity mi-wi-demo, role assignment 7777…, federated credential
    fc-wi-demo), then cluster aks-wi-demo (Kubernetes) (ServiceAccount and pod in default) — and under it the full
    ID of the highlighted resource (/subscriptions/5555…/resourceGroups/rg-wi-demo); then the Export…, Tear down…
    and Copy ID buttons; the footer shows c Copy ID, e Export, t Tear down."""
    assert snap_compare(Host(_summary()), terminal_size=SIZE)


def test_teardown_confirmation_lists_the_preview(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """The tear-down confirmation over the dimmed summary (red border): "Tear down what this session created?",
    "5 changes, in this order; kept items stay as they are.", then one entry per item, its reason under it (↳, grey):
    red "delete" pod default/wi-demo-app; yellow "remove annotations" ServiceAccount default/wi-demo-account (it
    existed before); red "delete" federated credential fc-wi-demo, role assignment 7777… on /subscriptions/5555…,
    managed identity mi-wi-demo; grey "keep" resource group rg-wi-demo (holds other resources) and cluster
    aks-wi-demo (never touched); the red "Tear down" button and "Cancel", which has the focus."""

    async def confirm(pilot: Pilot[None]) -> None:
        await pilot.pause()
        pilot.app.push_screen(TeardownModal(teardown_items()))
        await pilot.pause()

    assert snap_compare(Host(_summary()), terminal_size=SIZE, run_before=confirm)
