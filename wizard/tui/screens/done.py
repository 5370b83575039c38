"""The summary at the end of the flow: the verdict and the proof from the workload's logs, everything the session
created (grouped by where it lives, each ID copyable), and what to do next — export the set-up as a script,
manifests or Terraform, or tear it down (previewed and confirmed first; progress and result shown here)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Label, Log, Static

from wizard.flow import ORDER
from wizard.session import Session
from wizard.tui.messages import EngineEvent
from wizard.tui.widgets.step_rail import TITLES, StepRail
from wizard.tui.widgets.target_banner import TargetBanner

if TYPE_CHECKING:
    from wizard.teardown import TeardownResult

_SUBSCRIPTION = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)


def kind_and_name(resource_id: str) -> tuple[str, str]:
    """What a created resource is and its short name, in words (teardown's reading of the ID)."""
    from wizard import teardown

    kind = teardown.kind_of(resource_id)
    return teardown.KIND_WORDS.get(kind, "resource"), teardown.Item(kind, resource_id, teardown.KEEP, "").name


def _value(session: Session, step: str, key: str) -> str:
    outcome = session.outcomes.get(step)
    return outcome.values.get(key, "") if outcome is not None else ""


def where_of(session: Session, resource_id: str) -> str:
    """Which side a created resource lives on: the cluster's Kubernetes API, tenant B (the identity's
    subscription) or tenant A (the cluster's)."""
    if "/k8s/" in resource_id:
        return f"cluster {session.plan.cluster.name} (Kubernetes)"
    found = _SUBSCRIPTION.match(resource_id)
    subscription = found.group(1).lower() if found else ""
    if subscription and subscription == _value(session, "identity", "subscription_id").lower():
        tenant = _value(session, "identity", "tenant_id") or session.plan.identity.tenant
        return f"tenant B {tenant}"
    if subscription and subscription == _value(session, "cluster", "subscription_id").lower():
        tenant = _value(session, "login", "cluster_tenant_id") or session.plan.cluster.tenant
        return f"tenant A {tenant}"
    return "elsewhere"


def created_resources(session: Session) -> list[tuple[str, str, str, str]]:
    """(where, kind, name, ID) of everything the session created, grouped by where (tenant B, tenant A, the cluster's
    Kubernetes API), in the order the steps made them within each group."""
    seen: list[str] = []
    for name in ORDER:
        outcome = session.outcomes.get(name)
        for resource_id in outcome.created if outcome else []:
            if resource_id not in seen:
                seen.append(resource_id)
    rows = [(where_of(session, rid), *kind_and_name(rid), rid) for rid in seen]
    order = {where: index for index, where in enumerate(dict.fromkeys(row[0] for row in rows))}
    return sorted(rows, key=lambda row: (row[0].startswith("cluster"), order[row[0]]))


class DoneScreen(Screen[None]):
    DEFAULT_CSS = """
    DoneScreen #summary-body { padding: 0 2; }
    DoneScreen #verdict { text-style: bold; margin: 1 0; }
    DoneScreen #verdict.-proven { color: $success; }
    DoneScreen #verdict.-unproven { color: $warning; }
    DoneScreen .outcome { margin-bottom: 0; }
    DoneScreen #evidence { color: $text-muted; margin-top: 1; }
    DoneScreen .section { text-style: bold; margin-top: 1; }
    DoneScreen #created { height: auto; max-height: 14; overflow-x: hidden; }
    DoneScreen #created-id { color: $text-muted; background: $boost; padding: 0 1; }
    DoneScreen #summary-actions { height: auto; margin: 1 0; }
    DoneScreen #summary-actions Button { margin-right: 2; }
    DoneScreen #teardown-result { height: auto; }
    DoneScreen #teardown-events { height: 8; border: round $panel-lighten-2; display: none; }
    DoneScreen #teardown-events.-shown { display: block; }
    """
    AUTO_FOCUS = "#created"  # arrows go through what was created; c copies the highlighted ID
    BINDINGS = [Binding("c", "copy", "Copy ID"), Binding("e", "export", "Export"),
                Binding("t", "teardown", "Tear down")]

    def __init__(self, session: Session, target_label: str, target_detail: str) -> None:
        super().__init__()
        self.session = session
        self.target_label = target_label
        self.target_detail = target_detail
        self.created: list[tuple[str, str, str, str]] = []

    def compose(self) -> ComposeResult:
        yield TargetBanner(self.target_label, self.target_detail)
        with Horizontal():
            yield StepRail(self.session)
            with VerticalScroll(id="summary-body"):
                logs = self.session.outcomes.get("logs")
                proven = bool(logs and logs.values.get("verdict") == "proven")
                yield Static("✓ Access proven by the workload's own logs" if proven else "Not proven yet",
                             id="verdict", classes="-proven" if proven else "-unproven", markup=False)
                for name in ORDER:
                    outcome = self.session.outcomes.get(name)
                    if outcome and outcome.summary:
                        yield Static(f"{TITLES[name]}: {outcome.summary}", classes="outcome", markup=False)
                if logs and logs.values.get("evidence"):
                    yield Static(logs.values["evidence"], id="evidence", markup=False)
                yield Label("Created by this session (c copies the highlighted ID)", classes="section")
                yield DataTable(id="created", cursor_type="row", zebra_stripes=True)
                yield Static("", id="created-id", markup=False)
                with Horizontal(id="summary-actions"):
                    yield Button("Export…", id="export", variant="primary")
                    yield Button("Tear down…", id="teardown", variant="error")
                    yield Button("Copy ID", id="copy")
                yield Static("", id="teardown-result", markup=False)
                yield Log(id="teardown-events", max_lines=1000)
        yield Footer()

    def on_mount(self) -> None:
        self.show_created()
        # The table takes the focus (its keys work at once), which scrolls the body down to it: the verdict at the
        # top is what the person came for, so the body starts at the top.
        self.call_after_refresh(self.query_one("#summary-body", VerticalScroll).scroll_home, animate=False)

    def show_created(self) -> None:
        table = self.query_one("#created", DataTable)
        table.clear(columns=True)
        table.add_columns("where", "kind", "name")
        self.created = created_resources(self.session)
        for index, (where, kind, name, _) in enumerate(self.created):
            table.add_row(where, kind, name, key=str(index))
        if not table.row_count:
            torn = self.session.outcomes.get("teardown")
            table.add_row("(nothing left: the tear-down removed it)" if torn and torn.status == "done"
                          else "(nothing: every resource already existed)", "", "")
        self._show_id()

    def highlighted_id(self) -> str | None:
        row = self.query_one("#created", DataTable).cursor_row
        return self.created[row][3] if 0 <= row < len(self.created) else None

    @on(DataTable.RowHighlighted, "#created")
    def _show_id(self) -> None:
        """The highlighted resource's full ID under the table (IDs are too long for a column)."""
        self.query_one("#created-id", Static).update(self.highlighted_id() or "")

    def action_copy(self) -> None:
        resource_id = self.highlighted_id()
        if resource_id is None:
            self.notify("Nothing to copy: the session created no resources.", timeout=3)
            return
        self.app.copy_to_clipboard(resource_id)
        self.notify(f"Copied {resource_id}", timeout=4, markup=False)

    def action_export(self) -> None:
        self.app.export()  # type: ignore[attr-defined]

    def action_teardown(self) -> None:
        self.app.teardown()  # type: ignore[attr-defined]

    @on(Button.Pressed, "#copy")
    def _copy(self) -> None:
        self.action_copy()

    @on(Button.Pressed, "#export")
    def _export(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#teardown")
    def _teardown(self) -> None:
        self.action_teardown()

    # -- tear-down progress and result ----------------------------------------------------------------------

    def on_engine_event(self, message: EngineEvent) -> None:
        events = self.query_one("#teardown-events", Log)
        events.add_class("-shown")
        event = message.event
        events.write_line(f"{'!' if event.kind == 'warning' else '·'} {event.message}")

    def show_teardown_result(self, result: TeardownResult) -> None:
        """What the tear-down did: deleted, kept (and why is in the preview), failed (with why)."""
        self.query_one("#teardown-result", Static).update(teardown_text(result))
        self.show_created()  # what is gone has left the session's lists
        if result.deleted:  # the proof no longer stands: say so where it was shown, and the rail follows
            verdict = self.query_one("#verdict", Static)
            verdict.update(f"Torn down: {teardown_text(result).splitlines()[0].removeprefix('Tear-down: ')} "
                           f"`wi-wizard resume {self.session.name}` sets it up again.")
            verdict.set_classes("-unproven")
            self.query_one(StepRail).refresh_from(self.session)
            self.query_one("#summary-body", VerticalScroll).scroll_home(animate=False)


def teardown_text(result: TeardownResult) -> str:
    """A tear-down result in words."""
    cleaned = f", {len(result.unannotated)} cleaned of our annotations" if result.unannotated else ""
    lines = [f"Tear-down: {len(result.deleted)} deleted{cleaned}, {len(result.kept)} kept, "
             f"{len(result.failed)} failed."]
    lines += [f"  ✗ {ref}: {why}" for ref, why in result.failed]
    return "\n".join(lines)
