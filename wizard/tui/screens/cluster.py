"""The cluster step: the clusters the cluster-side login can see, with their OIDC issuer and workload identity
state; the one highlighted is the plan's cluster, and the pane beside it says what the step will do to it. While
the step turns the issuer on (a cluster update that takes minutes on Azure) a progress bar, the elapsed time and
the step's progress lines show it is alive; when it is done, the issuer URL is shown exactly as Azure reports it
(trailing slash and all), with a key to copy it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Button, DataTable, Label, ProgressBar, Static

from wizard import discover
from wizard.diagnose import Diagnosis
from wizard.tui.messages import EngineEvent, StepFinished
from wizard.tui.screens.form import FormStepScreen, lookup_failure

if TYPE_CHECKING:
    from wizard.azure.arm import Cluster, Subscription

# The state this screen is about comes right after the name, so it stays in view on narrow terminals.
COLUMNS = ("Name", "OIDC issuer", "Workload identity", "Resource group", "Location", "Kubernetes")
LOOKING_UP = "Looking up the clusters the cluster-side login can see…"


def _on_off(value: bool) -> Text:
    return Text("on", style="green") if value else Text("off", style="yellow")


def cluster_detail(cluster: Cluster, enable_allowed: bool) -> list[tuple[str, str]]:
    """What the pane says about one cluster, and what the step would do to it: (label, value) rows."""
    ready = cluster.oidc_issuer and bool(cluster.issuer_url) and cluster.workload_identity
    if ready:
        action = "will read its issuer URL (the OIDC issuer and workload identity are already on)"
    elif enable_allowed:
        action = ("will enable the OIDC issuer and workload identity (a cluster update, ~minutes on Azure; cannot "
                  "be turned off)")
    else:
        action = "will stop: they are off and the plan does not allow turning them on"
    aad = "Entra ID (managed AAD)" if cluster.aad else "off (local Kubernetes accounts)"
    return [("ID", cluster.id), ("FQDN", cluster.fqdn or "–"), ("Issuer", cluster.issuer_url or "off"),
            ("Entra auth", aad), ("State", cluster.provisioning_state or "–"), ("This step", action)]


def detail_grid(rows: list[tuple[str, str]]) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")  # an ARM ID breaks anywhere rather than leaving a ragged gap
    for name, value in rows:
        grid.add_row(name, Text(value))
    return grid


class ClusterScreen(FormStepScreen):
    DEFAULT_CSS = """
    ClusterScreen #clusters { height: auto; max-height: 8; }
    ClusterScreen #cluster-status { height: auto; color: $text-muted; margin-bottom: 1; }
    ClusterScreen #cluster-status.-failed { color: $error; }
    ClusterScreen #cluster-detail { height: auto; padding: 0 1; margin-top: 1; border: round $panel-lighten-2; }
    ClusterScreen #progress { height: auto; display: none; margin-bottom: 1; }
    ClusterScreen #progress.-running { display: block; }
    ClusterScreen #progress-row { height: 1; }
    ClusterScreen #progress-row ProgressBar { width: 30; }
    ClusterScreen #elapsed { width: auto; margin-left: 2; }
    ClusterScreen #progress-message { height: auto; color: $text-muted; }
    ClusterScreen #issuer-box { height: auto; display: none; margin-bottom: 1; padding: 0 1;
                                border: round $success; }
    ClusterScreen #issuer-box.-shown { display: block; }
    ClusterScreen #issuer-row { height: auto; }
    ClusterScreen #issuer { width: 1fr; text-style: bold; }
    ClusterScreen #copy-issuer { margin-left: 1; }
    """
    BINDINGS = [Binding("c", "copy_issuer", "Copy issuer"), Binding("r", "reload", "Reload clusters")]
    AUTO_FOCUS = "#run"  # Enter runs the step for the pre-selected cluster; the table is a Tab away

    clock: Callable[[], float] = time.monotonic  # elapsed time of the run (tests fix it)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clusters: dict[str, Cluster] = {}  # by ARM ID, as last listed
        self.subscriptions: dict[str, Subscription] = {}  # the cluster tenant's, by lower-case ID
        self.detail: list[tuple[str, str]] = []  # the pane's rows, for the highlighted cluster
        self.started: float | None = None  # when the running step started, on `clock`'s scale
        self._ticker: Timer | None = None

    def compose_form(self) -> ComposeResult:
        # The issuer and the progress stay outside the form: the form is disabled while the step runs.
        with Vertical(id="issuer-box"):  # first: once the step is done, the issuer is what matters
            yield Label("OIDC issuer URL, verbatim (the federated credential must match it byte for byte)")
            with Horizontal(id="issuer-row"):
                yield Static("", id="issuer", markup=False)
                yield Button("Copy issuer", id="copy-issuer", compact=True)
        with Vertical(id="progress"):
            with Horizontal(id="progress-row"):
                yield ProgressBar(total=None, show_eta=False, show_percentage=False)
                yield Static("", id="elapsed", markup=False)
            yield Static("", id="progress-message", markup=False)
        with VerticalScroll(classes="form"):
            yield Static(LOOKING_UP, id="cluster-status", markup=False)
            table: DataTable[str | Text] = DataTable(id="clusters", cursor_type="row", zebra_stripes=True)
            table.add_columns(*COLUMNS)
            yield table
            yield Static("", id="cluster-detail", markup=False)

    def on_mount(self) -> None:
        # FormStepScreen.on_mount and StepScreen.on_mount run too (sizes, a saved diagnosis).
        self.query_one("#cluster-detail", Static).display = False
        outcome = self.session.outcomes.get(self.step)
        if outcome is not None and outcome.status == "done" and outcome.values.get("issuer_url"):
            self.show_issuer(outcome.values["issuer_url"])
        self.action_reload()

    # -- the table --------------------------------------------------------------------------------------------

    def action_reload(self) -> None:
        self._status(LOOKING_UP)
        self.lookup(discover.cluster_choices, self.show_clusters, self.show_lookup_failure)

    def _status(self, line: str, failed: bool = False) -> None:
        status = self.query_one("#cluster-status", Static)
        status.update(line)
        status.set_class(failed, "-failed")

    def show_lookup_failure(self, diagnosis: Diagnosis) -> None:
        """The listing failed (the app's notice has the details): say so where the table's count would be, and how
        to try again; the plan's cluster is still what the step runs for."""
        self._status(lookup_failure("the clusters", diagnosis), failed=True)

    def show_clusters(self, choices: discover.ClusterChoices | None) -> None:
        """Fill the table (None: not signed in yet) and highlight the plan's cluster."""
        table: DataTable[str | Text] = self.query_one("#clusters", DataTable)
        table.clear()
        self.clusters = {}
        self._status("")
        status = self.query_one("#cluster-status", Static)
        if choices is None:
            status.update("Sign in first (the Sign in step) to list the clusters; the plan's cluster is used as is.")
            return
        self.subscriptions = {s.id.lower(): s for s in choices.subscriptions}
        for cluster in choices.clusters:
            self.clusters[cluster.id] = cluster
            table.add_row(cluster.name, _on_off(cluster.oidc_issuer), _on_off(cluster.workload_identity),
                          cluster.resource_group, cluster.location, cluster.kubernetes_version, key=cluster.id)
        where = ", ".join(self.subscriptions[s.lower()].name if s.lower() in self.subscriptions else s
                          for s in choices.searched) or "no subscription"
        count = len(choices.clusters)
        if not count:
            status.update(f"No clusters in {where}: create one there, or sign in to another subscription (the Sign "
                          "in step); press r to look again.")
            return
        line = f"{count} cluster{'s' if count != 1 else ''} in {where} (Tab to the table, ↑/↓ to choose)"
        planned = self._planned()
        if planned is not None:
            table.move_cursor(row=table.get_row_index(planned.id))
            self._show_detail(planned)
        elif self.session.plan.cluster.name and choices.clusters:
            line += f"; the plan's cluster {self.session.plan.cluster.name} is not among them: pick one"
        status.update(line)

    def _is_planned(self, cluster: Cluster) -> bool:
        c = self.session.plan.cluster
        sub = self.subscriptions.get(cluster.subscription_id.lower())
        same_sub = not c.subscription or c.subscription.lower() == cluster.subscription_id.lower() \
            or (sub is not None and discover.matches(sub, c.subscription))
        return same_sub and c.resource_group.lower() == cluster.resource_group.lower() \
            and c.name.lower() == cluster.name.lower()

    def _planned(self) -> Cluster | None:
        return next((c for c in self.clusters.values() if self._is_planned(c)), None)

    def _show_detail(self, cluster: Cluster) -> None:
        detail = self.query_one("#cluster-detail", Static)
        self.detail = cluster_detail(cluster, self.session.plan.cluster.enable_workload_identity)
        detail.update(detail_grid(self.detail))
        detail.border_title = cluster.name
        detail.display = True

    @on(DataTable.RowHighlighted, "#clusters")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        cluster = self.clusters.get(str(event.row_key.value))
        if cluster is not None:
            self._show_detail(cluster)

    @on(DataTable.RowSelected, "#clusters")
    def _selected(self, event: DataTable.RowSelected) -> None:
        cluster = self.clusters.get(str(event.row_key.value))
        if cluster is not None:
            self.choose(cluster)
            self.query_one("#run", Button).focus()  # Enter again runs the step for it

    def highlighted(self) -> Cluster | None:
        table: DataTable[str | Text] = self.query_one("#clusters", DataTable)
        if not self.clusters or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self.clusters.get(str(key.value))

    def choose(self, cluster: Cluster) -> None:
        """A cluster becomes the plan's (kept as the plan names it when it is the same one)."""
        if self._is_planned(cluster):
            return
        c = self.session.plan.cluster
        c.subscription, c.resource_group, c.name = cluster.subscription_id, cluster.resource_group, cluster.name
        if self.finished:  # another cluster than the one the step ran for: run again
            self.finished = False
            self.query_one("#run", Button).label = "Run this step"
        self.app.save_session()  # type: ignore[attr-defined]
        self.refresh_description()

    def apply_to_plan(self) -> None:
        """The highlighted cluster is the one the step runs for (no table yet: the plan's cluster as it is)."""
        cluster = self.highlighted()
        if cluster is not None:
            self.choose(cluster)

    # -- running ----------------------------------------------------------------------------------------------

    def action_run(self) -> None:
        running = not self.finished
        super().action_run()
        if running and self.query_one("#run", Button).disabled:  # the step started
            self.show_running(self.clock())

    def show_running(self, started: float) -> None:
        """The progress display for a run that started at `started` (on `clock`'s scale)."""
        self.started = started
        self.query_one("#issuer-box").set_class(False, "-shown")
        self.query_one("#progress").set_class(True, "-running")
        self.query_one("#progress-message", Static).update("")
        self._tick()
        if self._ticker is None:
            self._ticker = self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        if self.started is not None:
            elapsed = int(self.clock() - self.started)
            self.query_one("#elapsed", Static).update(f"{elapsed // 60}:{elapsed % 60:02d} elapsed")

    def _stop_running(self) -> None:
        self.started = None
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        self.query_one("#progress").set_class(False, "-running")

    def on_engine_event(self, message: EngineEvent) -> None:
        # StepScreen.on_engine_event runs too (the event log).
        if message.event.step == self.step and message.event.kind == "progress":
            self.query_one("#progress-message", Static).update(message.event.message)

    def on_step_finished(self, message: StepFinished) -> None:
        # StepScreen.on_step_finished runs too (button, rail, diagnosis).
        if message.step != self.step:
            return
        self._stop_running()
        if message.diagnosis is None:
            outcome = self.session.outcomes.get(self.step)
            issuer = outcome.values.get("issuer_url", "") if outcome is not None else ""
            if issuer:
                self.show_issuer(issuer)
            self.refresh_description()  # what the step found (e.g. "already on") instead of what it would do
            self.action_reload()  # the table shows the cluster's new state

    # -- the issuer -------------------------------------------------------------------------------------------

    def show_issuer(self, issuer: str) -> None:
        self.query_one("#issuer", Static).update(issuer)
        self.query_one("#issuer-box").set_class(True, "-shown")
        self.refresh_bindings()

    def issuer(self) -> str:
        outcome = self.session.outcomes.get(self.step)
        return outcome.values.get("issuer_url", "") if outcome is not None and outcome.status == "done" else ""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_issuer":
            return bool(self.issuer())
        return super().check_action(action, parameters)

    def action_copy_issuer(self) -> None:
        issuer = self.issuer()
        if issuer:
            self.app.copy_to_clipboard(issuer)
            self.notify("Issuer URL copied.", timeout=3)

    @on(Button.Pressed, "#copy-issuer")
    def _copy(self) -> None:
        self.action_copy_issuer()
