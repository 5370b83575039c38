"""Snapshots of the cluster screen over fixed data (the seed plan, two clusters fed through the screen's
`show_clusters`, a fixed clock for the elapsed time): no sandbox, no engine; fixed terminal sizes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual.pilot import Pilot

from tests.tui.fixed_login_cluster import CLUSTERS, ISSUER, FixedFormApp, cluster_failure, signed_in
from tests.tui.form_screens import settle
from wizard.discover import ClusterChoices
from wizard.session import Outcome
from wizard.steps.base import Event
from wizard.tui.messages import EngineEvent, StepFinished
from wizard.tui.screens.cluster import ClusterScreen

SIZE = (120, 40)


def _app(tmp_path: Path, **kwargs: object) -> FixedFormApp:
    app = FixedFormApp(tmp_path, "cluster", ClusterScreen, done=("login",), **kwargs)  # type: ignore[arg-type]
    signed_in(app)
    return app


def _screen(pilot: Pilot[int]) -> ClusterScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ClusterScreen)
    return screen


async def _listed(pilot: Pilot[int], choices: ClusterChoices = CLUSTERS) -> ClusterScreen:
    await pilot.pause()
    screen = _screen(pilot)
    screen.show_clusters(choices)
    await settle(pilot)
    return screen


def test_cluster_table_with_the_plans_cluster_and_its_detail(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """"2 clusters in contoso-platform (Tab to the table, ↑/↓ to choose)", then the table (Name, OIDC issuer,
    Workload identity, Resource group, Location, Kubernetes): aks-platform (green on, on; rg-platform, westeurope)
    and aks-wi-demo (yellow off, off; rg-wi-demo, eastus), the cursor on aks-wi-demo (the plan's). The boxed pane
    titled aks-wi-demo shows its ARM ID, FQDN, "Issuer off", Entra auth off, State Succeeded and "This step will
    enable the OIDC issuer and workload identity (a cluster update, ~minutes on Azure; cannot be turned off)". The
    Run this step button has the focus."""
    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=_listed)


def test_cluster_enabling_in_progress(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """While the step runs: under the detail pane a full (indeterminate, drawn still) progress bar with "0:54
    elapsed" beside it and the step's last progress line under it ("Updating cluster aks-wi-demo (OIDC issuer +
    workload identity): InProgress, 54 s"); the Run this step button is disabled; the event log at the bottom lists
    the progress lines; the table and the detail pane are dimmed (the form is disabled while the step runs)."""

    async def run_before(pilot: Pilot[int]) -> None:
        screen = await _listed(pilot)
        screen.clock = lambda: 100.0
        screen.action_run()  # the app records the step instead of running it; the screen shows it running
        screen.clock = lambda: 154.0
        await pilot.pause(1.1)  # one tick of the elapsed time
        for message in ("Turning on the OIDC issuer and workload identity on aks-wi-demo (a cluster update; a few "
                        "minutes on Azure)",
                        "Updating cluster aks-wi-demo (OIDC issuer + workload identity): InProgress, 54 s"):
            screen.post_message(EngineEvent(Event("cluster", message, "progress")))
        await settle(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_cluster_done_shows_the_issuer_verbatim(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """After the step: the table shows aks-wi-demo with OIDC issuer and workload identity "on"; the pane's Issuer
    and the green box "OIDC issuer URL, verbatim …" show https://127.0.0.1:8443/oic/eastus/…/ WITH its trailing
    slash, next to a "Copy issuer" button; the progress bar is gone; the button reads "Continue ▶"; the description
    says the OIDC issuer and workload identity are already on; the footer offers "c Copy issuer"."""
    app = _app(tmp_path)
    wi_demo = dataclasses.replace(CLUSTERS.clusters[1], oidc_issuer=True, workload_identity=True, issuer_url=ISSUER)
    after = ClusterChoices(CLUSTERS.subscriptions, CLUSTERS.searched, [CLUSTERS.clusters[0], wi_demo])

    async def run_before(pilot: Pilot[int]) -> None:
        screen = await _listed(pilot)
        app.session.outcomes["cluster"] = Outcome(status="done", values={"issuer_url": ISSUER, "oidc_issuer": "true",
                                                                       "workload_identity": "true"})
        screen.post_message(StepFinished("cluster", None))
        await pilot.pause()
        screen.show_clusters(after)
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_cluster_failure_with_diagnosis(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A saved failure of the cluster step (the plan forbids enabling workload identity): below the buttons, in
    red, "✗ Workload identity is off on the cluster [WorkloadIdentityOff]" with Why / Fix (set
    cluster.enable_workload_identity = true, or the az aks update command) and "The cluster step fixes it."; the red
    Details button; the rail marks Cluster ✗; above, the table and the start of the detail pane (ID, FQDN, "Issuer
    off"; the form scrolls, shorter after a run), and the description agrees: they "must already be on (the plan
    does not allow turning them on)"."""
    app = _app(tmp_path, diagnosis=cluster_failure())
    app.session.plan.cluster.enable_workload_identity = False
    assert snap_compare(app, terminal_size=SIZE, run_before=_listed)


def test_cluster_table_at_80_by_24(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The same table state at 80×24: the rail, the title, the count line, the table (scrolls sideways; name,
    OIDC issuer and workload identity columns in view), the start of the detail pane (the form scrolls), the
    description, the Run this step / Back buttons still on screen, and the footer's keys."""
    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=_listed)
