"""Snapshots of the states no other snapshot file pins: the export dialog over the summary (ready, and refusing an
unfinished session), the tear-down confirmation when nothing is left to remove, the logs screen with a known
failure in the workload's log and its diagnosis, the resume list with a session open in another wi-wizard and a
torn-down one, and the cluster and role screens after their lookup failed. Fixed data only: no sandbox, no clock,
no live process (a held session's lock names PID 4242, and the store is told it is alive)."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.fixed_login_cluster import FixedFormApp, signed_in
from tests.tui.form_screens import FormApp, session_at, settle
from tests.tui.seed_app import SEED
from tests.tui.summary_fixtures import CLUSTER_ID, proven_session
from tests.tui.test_snapshots_logs import _app as logs_app
from tests.tui.test_snapshots_logs import _screen as logs_screen
from tests.tui.test_snapshots_logs import show_lines
from tests.tui.test_snapshots_trust import Host
from tests.tui.test_snapshots_welcome import FixedStore, no_blinking, saved_sessions
from wizard import plan as plan_mod
from wizard import target
from wizard.diagnose import diagnose
from wizard.plan import PROBE_IMAGE
from wizard.session import Outcome, Session
from wizard.teardown import Item
from wizard.tui.app import WizardApp
from wizard.tui.messages import StepFinished
from wizard.tui.screens.cluster import ClusterScreen
from wizard.tui.screens.done import DoneScreen
from wizard.tui.screens.export_modal import ExportModal
from wizard.tui.screens.role import RoleScreen
from wizard.tui.screens.teardown_modal import TeardownModal
from wizard.workloads import Judge

SUMMARY_SIZE = (120, 44)
HOLDER = 4242
# What azure-core raises when the cloud does not answer (the failed-lookup Pilot test meets the same).
REFUSED = ("HTTPSConnection(host='127.0.0.1', port=8443): Failed to establish a new connection: [Errno 111] "
           "Connection refused")


def _summary(session: Session) -> DoneScreen:
    return DoneScreen(session, "SANDBOX", "https://127.0.0.1:8443")


async def _export(pilot: Pilot[None], session: Session, fmt: str) -> None:
    await pilot.pause()
    pilot.app.push_screen(ExportModal(session, fmt))
    await pilot.pause()
    pilot.app.screen.query_one("#ex-path", Input).cursor_blink = False


def test_export_dialog_over_the_summary(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """The export dialog (blue border) over the dimmed summary: "Export this set-up", the formats script (chosen),
    manifests and terraform as radio buttons, "File" with the default name seed-setup.sh in the focused field, no
    error line, and the Export and Cancel buttons."""
    session = proven_session()

    async def run_before(pilot: Pilot[None]) -> None:
        await _export(pilot, session, "script")

    assert snap_compare(Host(_summary(session)), terminal_size=SUMMARY_SIZE, run_before=run_before)


def test_export_dialog_refuses_an_unfinished_session(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """The same dialog with terraform chosen (file seed-main.tf) for a session whose deploy step failed, after
    Enter: in red under the field, "✗ session 'seed' cannot be exported yet: its deploy step has failed …"; the
    dialog stays open and nothing was written."""
    session = proven_session()
    session.outcomes["deploy"].status = "failed"

    async def run_before(pilot: Pilot[None]) -> None:
        await _export(pilot, session, "terraform")
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(Host(_summary(session)), terminal_size=SUMMARY_SIZE, run_before=run_before)


def test_teardown_confirmation_with_nothing_left_to_remove(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """The tear-down confirmation after an earlier tear-down (red border): "Tear down what this session created?",
    "Nothing to tear down: nothing the session created is left to remove.", one grey "keep" entry — cluster
    aks-wi-demo, ↳ existed before this session; never touched — and only a Cancel button, which has the focus
    (there is no Tear down button)."""
    kept = [Item("cluster", CLUSTER_ID, "keep", "existed before this session; never touched")]

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        pilot.app.push_screen(TeardownModal(kept))
        await pilot.pause()

    assert snap_compare(Host(_summary(proven_session())), terminal_size=SUMMARY_SIZE, run_before=run_before)


def test_logs_screen_with_a_known_failure_and_its_diagnosis(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The logs step after the probe printed a known failure: the status line "· pod wi-demo/wi-probe is Running";
    the bordered log with the probe's lines, the last one "wi-probe: ERROR AADSTS700213: No matching federated
    identity record found …"; under the buttons (the first reads "Run again", the red Details button is shown) the
    diagnosis in red: "✗ Subject mismatch [AADSTS700213]", Why, Fix, "The federation step fixes it." and the error;
    the rail marks Live logs ✗; the footer offers d Details."""
    session = Session("demo", plan_mod.load(SEED), state="logs")
    lines = ["wi-probe: signed in as client 33333333-3333-3333-3333-333333333333",
             "wi-probe: ERROR AADSTS700213: No matching federated identity record found for presented assertion "
             "subject 'system:serviceaccount:wi-demo:wi-probe'. Check your federated identity credential Subject, "
             "Audience and Issuer against the presented assertion."]
    judge = Judge(PROBE_IMAGE)
    verdict = next(v for v in map(judge.feed, lines) if v is not None)
    assert verdict.diagnosis is not None and verdict.diagnosis.code == "AADSTS700213"

    async def run_before(pilot: Pilot[int]) -> None:
        screen = logs_screen(session)
        await show_lines(pilot, screen, lines)
        assert verdict.diagnosis is not None
        session.outcomes["logs"] = Outcome("failed", diagnosis=verdict.diagnosis.to_dict())
        screen.post_message(StepFinished("logs", verdict.diagnosis))
        await pilot.pause()

    assert snap_compare(logs_app(tmp_path), terminal_size=(110, 40), run_before=run_before)


class HeldStore(FixedStore):
    """The fixed sessions, with the one named "seed-demo" open in another wi-wizard (PID 4242, taken as alive)."""

    def holder(self, name: str) -> int | None:
        return HOLDER if name == "seed-demo" else None


def test_welcome_list_with_a_session_open_elsewhere_and_one_torn_down(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The resume list: torn-down (sandbox, step "torn down"), prod-payments (failed), seed-demo with the step
    column "open in another wi-wizard (pid 4242)", broken (✗ unreadable, kept aside). The cursor is on seed-demo:
    the detail box says it is open in another wi-wizard (pid 4242) and to close it there to resume it here."""
    store = saved_sessions(tmp_path / "sessions")
    held = HeldStore(store.directory)
    torn = Session("torn-down", plan_mod.load(SEED), target=store.load("seed-demo").target, state="start",
                   created_at="2026-01-13T08:00:00Z")
    torn.outcomes["login"] = Outcome("done", "signed in")
    torn.outcomes["identity"] = Outcome("pending", "removed by teardown")
    torn.outcomes["teardown"] = Outcome("done", "Torn down", at="2026-01-15T11:00:00Z")
    held.save(torn)
    path = held.path("torn-down")
    path.write_text(path.read_text().replace(torn.updated_at, "2026-01-15T11:00:00Z"))
    app = WizardApp(store=held, cloud=target.real, target_label="REAL AZURE")

    async def run_before(pilot: Pilot[int]) -> None:
        await no_blinking(pilot)
        pilot.app.screen.query_one("#sessions").focus()
        await pilot.press("down", "down")

    assert snap_compare(app, terminal_size=(100, 32), run_before=run_before)


def test_cluster_screen_after_a_failed_lookup(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The cluster step signed in, its lookup failed (the cloud refused the connection): in red above the empty
    table, "✗ Could not list the clusters: Unexpected error (ServiceRequestError HTTPSConnection(host='127.0.0.1',
    port=8443): Failed to establish a new connection: [Errno 111] Connection refused). Press r to retry."; the
    description and the Run button are there for the plan's cluster; the footer offers r Reload clusters."""
    app = FixedFormApp(tmp_path, "cluster", ClusterScreen, done=("login",))
    signed_in(app)

    async def run_before(pilot: Pilot[int]) -> None:
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, ClusterScreen)
        from azure.core.exceptions import ServiceRequestError

        screen.show_lookup_failure(diagnose(ServiceRequestError(REFUSED)))
        await settle(pilot)

    assert snap_compare(app, terminal_size=(110, 34), run_before=run_before)


def test_role_screen_before_the_identity_side_signed_in(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The role step of a resumed session not signed in again: the list holds only the plan's role, Reader; under
    it, in grey, "Sign in first (the Sign in step) to pick from the identity tenant's roles; the
    plan's role Reader is used as is." instead of a loading line; the footer offers r Reload roles."""

    async def run_before(pilot: Pilot[int]) -> None:
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, RoleScreen)
        screen.show_role_definitions(None)
        await settle(pilot)

    assert snap_compare(FormApp(tmp_path, session_at("role")), terminal_size=(100, 34), run_before=run_before)
