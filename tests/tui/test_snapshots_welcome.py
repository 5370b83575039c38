"""Snapshots of the welcome screen from fixed data (a sessions folder written by the test, fixed timestamps, no
sandbox, no clock on screen) at a fixed terminal size."""

from __future__ import annotations

import os
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.seed_app import SEED
from wizard import plan as plan_mod
from wizard import target
from wizard.diagnose import Diagnosis
from wizard.session import Outcome, Session, SessionStore, Target
from wizard.tui.app import WizardApp

SIZE = (100, 32)
# A fixed folder: the detail of a session set aside names the file, and nothing here may depend on tmp paths.
ASIDE_STAMP = "20260115T093000Z"


class FixedStore(SessionStore):
    """Sets unreadable files aside under a fixed name (the real store stamps the time of day)."""

    def _set_aside(self, path: Path) -> Path:
        aside = path.with_name(f"{path.name}.unreadable-{ASIDE_STAMP}")
        os.replace(path, aside)
        return aside


def _save(store: SessionStore, session: Session, updated_at: str) -> None:
    store.save(session)
    text = store.path(session.name).read_text().replace(session.updated_at, updated_at)
    store.path(session.name).write_text(text)


async def no_blinking(pilot: Pilot[int]) -> None:
    """A blinking cursor is caught on or off at random: keep it on."""
    await pilot.pause()
    for box in pilot.app.screen.query(Input).results(Input):
        box.cursor_blink = False


def saved_sessions(directory: Path) -> FixedStore:
    """Three sessions: one proven on the sandbox, one failed at the trust check, and one corrupt file."""
    store = FixedStore(directory)
    seed = plan_mod.load(SEED)
    sandbox = Target("sandbox", "/fixed/endpoints.json")
    proven = Session("seed-demo", seed, target=sandbox, state="done", created_at="2026-01-14T08:00:00Z")
    proven.outcomes["identity"] = Outcome("done", "created", created=[
        "/subscriptions/55555555-5555-5555-5555-555555555555/resourceGroups/rg-wi-demo",
        "/subscriptions/55555555-5555-5555-5555-555555555555/resourceGroups/rg-wi-demo/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/mi-wi-demo"])
    proven.outcomes["role"] = Outcome("done", "assigned", created=["/subscriptions/5555/roleAssignments/1"])
    _save(store, proven, "2026-01-14T08:30:00Z")
    failed = Session("prod-payments", plan_mod.load(SEED), target=Target("real"), state="failed",
                     created_at="2026-01-15T09:00:00Z")
    failed.plan.cluster.name = "aks-payments"
    failed.outcomes["trust"] = Outcome("failed", diagnosis=Diagnosis(
        "AADSTS700213", "The federated credential does not match the token's subject", "…", "…",
        "federation").to_dict())
    _save(store, failed, "2026-01-15T09:10:00Z")
    store.path("broken").write_text("{ this is not json")
    return store


def test_welcome_screen_lists_saved_sessions_and_sets_a_broken_one_aside(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The red REAL AZURE banner; the resume table lists prod-payments (real Azure, failed, 2026-01-15T09:10:00Z),
    seed-demo (sandbox, done, 2026-01-14T08:30:00Z) and broken ("✗ unreadable", "kept aside"). The cursor is moved to
    "broken": the detail box under the table says it could not be loaded (it is not JSON), that the file was kept as
    broken.json.unreadable-20260115T093000Z and not changed."""
    store = saved_sessions(tmp_path / "sessions")
    app = WizardApp(store=store, cloud=target.real, target_label="REAL AZURE")

    async def highlight_broken(pilot: Pilot[int]) -> None:
        await no_blinking(pilot)
        pilot.app.screen.query_one("#sessions").focus()
        await pilot.press("down", "down")

    assert snap_compare(app, terminal_size=SIZE, run_before=highlight_broken)


def test_welcome_screen_details_a_failed_session(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The same resume list with the first row (prod-payments) highlighted: the detail box shows its cluster
    aks-payments in rg-wi-demo (tenant contoso.onmicrosoft.com), its identity mi-wi-demo in rg-wi-demo (tenant
    fabrikam.onmicrosoft.com), "Created 0 resources · at step failed", and "Last failure (Trust check): The federated
    credential does not match the token's subject [AADSTS700213]"."""
    store = saved_sessions(tmp_path / "sessions")
    app = WizardApp(store=store, cloud=target.real, target_label="REAL AZURE")
    assert snap_compare(app, terminal_size=SIZE, run_before=no_blinking)


def test_welcome_screen_shows_every_problem_of_a_plan_file(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A plan file with three mistakes was given and Start pressed: in red under the fields, "… is not a usable
    plan:" and one line per problem — cluster.name (an AKS cluster name rule), identity.location (an Azure region
    rule) and kubernetes.namespace (the namespace rule); no session was started (the welcome screen stays)."""
    bad = Path("/tmp/wi-wizard-snapshot-bad-plan.toml")  # a fixed path: it is shown on screen
    bad.write_text(SEED.read_text().replace('name = "aks-wi-demo"', 'name = "aks wi demo"')
                   .replace('location = "eastus"', 'location = "East US"')
                   .replace('namespace = "default"', 'namespace = "Default_NS"'))
    app = WizardApp(store=SessionStore(tmp_path / "sessions"), cloud=target.real, target_label="SANDBOX",
                    default_plan=str(bad))

    async def start(pilot: Pilot[int]) -> None:
        await no_blinking(pilot)
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=start)
