"""Start a new session (from a plan file, or from scratch: the step screens' forms fill a blank plan), or resume a
saved one — with enough about each saved session (its plan, what it created, how it last failed) to pick the right
one. A session file that cannot be read is set aside (never changed) and listed with its problem — unless another
wi-wizard has that session open: a session held elsewhere is listed as such and never read, moved or locked here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Static

from wizard import plan as plan_mod
from wizard.flow import DONE, FAILED
from wizard.session import Session, SessionError, SessionStore, check_name
from wizard.tui.widgets.field import Field
from wizard.tui.widgets.step_rail import TITLES
from wizard.tui.widgets.target_banner import TargetBanner

SCRATCH_NAME = "wi-session"


@dataclass(frozen=True)
class SavedSession:
    """One row of the resume list: the session when it could be read, else what was wrong and where it went, or
    which other process has it open (`holder`: then it was not read)."""

    name: str
    target: str
    state: str
    updated_at: str
    session: Session | None = None
    problem: str = ""
    holder: int | None = None

    @property
    def step(self) -> str:
        """The step column: where the session stands, or why it cannot be resumed from here."""
        if self.holder is not None:
            return held_text(self.holder)
        if self.session is None:
            return "✗ unreadable"
        return "torn down" if torn_down(self.session) else state_title(self.state)


def state_title(state: str) -> str:
    if state == DONE:
        return "done"
    if state == FAILED:
        return "failed"
    return TITLES.get(state, state)


def held_text(pid: int) -> str:
    return f"open in another wi-wizard (pid {pid})"


def torn_down(session: Session) -> bool:
    """Whether the session's set-up was torn down and nothing was built again since: wizard.teardown records a
    successful tear-down as `outcomes["teardown"]` and sends every step after the cluster back to pending."""
    from wizard.flow import ORDER

    record = session.outcomes.get("teardown")
    if record is None or record.status != "done":
        return False
    rebuilt = ORDER[ORDER.index("cluster") + 1:]
    return all(session.outcomes[name].status == "pending" for name in rebuilt if name in session.outcomes)


def read_saved(store: SessionStore) -> list[SavedSession]:
    """Every saved session, newest first. Unreadable files are opened once here, which sets them aside (the store
    never overwrites or deletes them) and yields the message saying what is wrong with them and where they went.
    A session another live wi-wizard holds is not read at all (that process may be writing it, and setting its
    file aside would pull it from under it): it is listed from the store's summary, with the holder's PID."""
    import os

    found = []
    for summary in store.list():
        if summary.holder is not None and summary.holder != os.getpid():  # this app's own open session reads fine
            found.append(SavedSession(summary.name, summary.target, summary.state, summary.updated_at,
                                      holder=summary.holder))
            continue
        try:
            session = store.load(summary.name)
        except SessionError as exc:
            problem = str(exc).replace(f"{store.directory}/", "")  # the file's name is enough; the folder is known
            found.append(SavedSession(summary.name, summary.target, "unreadable", summary.updated_at, None, problem))
            continue
        found.append(SavedSession(summary.name, session.target.label, session.state, session.updated_at, session))
    return found


def describe_saved(saved: SavedSession) -> str:
    """The detail line of a saved session: its plan in brief, what it created, and its last diagnosis."""
    if saved.holder is not None:
        return (f"{saved.name} is {held_text(saved.holder)}: close it there to resume it here (it is not read or "
                "changed while it is open there).")
    if saved.session is None:
        return f"✗ {saved.problem}"
    session, plan = saved.session, saved.session.plan
    cluster = plan.cluster.name or "(not chosen yet)"
    identity = plan.identity.name or "(not chosen yet)"
    created = sum(len(outcome.created) for outcome in session.outcomes.values())
    lines = [
        f"Cluster   {cluster}" + (f" in {plan.cluster.resource_group}" if plan.cluster.resource_group else "")
        + (f" · tenant {plan.cluster.tenant}" if plan.cluster.tenant else ""),
        f"Identity  {identity}" + (f" in {plan.identity.resource_group}" if plan.identity.resource_group else "")
        + (f" · tenant {plan.identity.tenant}" if plan.identity.tenant else ""),
        f"Created   {created} resource{'s' if created != 1 else ''} · "
        + (f"torn down {session.outcomes['teardown'].at}" if torn_down(session)
           else f"at step {state_title(session.state)}")
        + f" · started {session.created_at}",
    ]
    failed = [(name, o.diagnosis) for name, o in session.outcomes.items() if o.status == "failed" and o.diagnosis]
    if failed:
        step, diagnosis = failed[-1]
        lines.append(f"Last failure ({TITLES.get(step, step)}): {diagnosis.get('title', '')} "
                     f"[{diagnosis.get('code', '')}]")
    return "\n".join(lines)


def optional_name(value: str) -> str | None:
    """An empty name is fine (the plan file's name is used); anything else must be a valid session name."""
    return check_name(value) if value else None


class WelcomeScreen(Screen[None]):
    DEFAULT_CSS = """
    WelcomeScreen #welcome { padding: 0 2; }
    WelcomeScreen #tagline { margin: 1 0 0 0; color: $text-muted; }
    WelcomeScreen .section { text-style: bold; margin-top: 1; }
    WelcomeScreen #new-session { height: auto; }
    WelcomeScreen #new-session > Field { width: 1fr; margin: 0 1 0 0; }
    WelcomeScreen #new-session > Button { margin-top: 1; }
    WelcomeScreen #plan-error { color: $error; height: auto; }
    WelcomeScreen #sessions { height: 1fr; min-height: 4; }
    WelcomeScreen #session-detail { height: auto; min-height: 3; padding: 0 1; background: $boost;
                                    color: $text-muted; }
    """
    AUTO_FOCUS = "#plan-path-input"
    BINDINGS = [Binding("n", "focus_plan", "New session"), Binding("r", "resume", "Resume selected")]

    def __init__(self, store: SessionStore, target_label: str, default_plan: str = "") -> None:
        super().__init__()
        self.store = store
        self.target_label = target_label
        self.default_plan = default_plan
        self.saved: dict[str, SavedSession] = {}

    def compose(self) -> ComposeResult:
        yield TargetBanner(self.target_label)
        with Vertical(id="welcome"):
            yield Static("Cross-tenant workload identity, set up and proven with live pod logs.", id="tagline")
            yield Label("New session", classes="section")
            with Horizontal(id="new-session"):
                yield Field("Plan file (empty: start from scratch)", self.default_plan, lambda value: None,
                            id="plan-path", placeholder="path/to/plan.toml, or empty")
                yield Field("Session name", "", optional_name, id="session-name",
                            placeholder="default: the plan file's name")
                yield Button("Start", id="start", variant="primary")
            yield Static("", id="plan-error", markup=False)
            yield Label("Or resume a saved session", classes="section")
            yield DataTable(id="sessions", cursor_type="row", zebra_stripes=True)
            yield Static("", id="session-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.show_error("")
        self.tidy()
        self.refresh_sessions()

    @on(Input.Changed, "#new-session Input")
    def tidy(self) -> None:
        """A field's message line takes room only when it says something."""
        for field in self.query(Field).results(Field):
            error = field.query_one(".field-error", Static)
            error.display = bool(str(error.render()).strip())

    def refresh_sessions(self) -> None:
        table = self.query_one("#sessions", DataTable)
        table.clear(columns=True)
        table.add_columns("session", "target", "step", "last change")
        self.saved = {saved.name: saved for saved in read_saved(self.store)}
        for saved in self.saved.values():
            table.add_row(saved.name, saved.target, saved.step,
                          saved.updated_at if saved.session or saved.holder else "kept aside", key=saved.name)
        if not table.row_count:
            table.add_row("(none yet)", "", "", "")
            self.query_one("#session-detail", Static).update("No saved sessions yet: start one above.")
        else:
            self._show_detail(next(iter(self.saved)))

    def _show_detail(self, name: str | None) -> None:
        saved = self.saved.get(name or "")
        if saved is not None:
            self.query_one("#session-detail", Static).update(describe_saved(saved))

    def _highlighted(self) -> str | None:
        table = self.query_one("#sessions", DataTable)
        if not table.row_count or table.cursor_row is None:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return key if key in self.saved else None

    @on(DataTable.RowHighlighted, "#sessions")
    def _highlight(self) -> None:
        self._show_detail(self._highlighted())

    def action_focus_plan(self) -> None:
        self.query_one("#plan-path-input", Input).focus()

    def action_resume(self) -> None:
        name = self._highlighted()
        if name is None:
            return
        saved = self.saved[name]
        if saved.holder is not None:
            self.notify(f"{name} is {held_text(saved.holder)}: close that one first.", severity="warning",
                        markup=False)
            return
        if saved.session is None:
            self.notify(f"{name} could not be read and was kept aside: start a new session.", severity="warning",
                        markup=False)
            return
        self.app.open_existing(name)  # type: ignore[attr-defined]

    @on(DataTable.RowSelected, "#sessions")
    def _selected(self) -> None:
        self.action_resume()

    @on(Input.Submitted, "#plan-path-input, #session-name-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_start()

    @on(Button.Pressed, "#start")
    def _start(self) -> None:
        self.action_start()

    def new_plan(self) -> tuple[plan_mod.Plan, str] | None:
        """The plan to start with and the session name it suggests; None (the problems shown) when the file is not
        usable. An empty path starts from a blank plan with the defaults."""
        raw = self.query_one("#plan-path", Field).value
        if not raw:
            self.show_error("")
            return plan_mod.Plan(), SCRATCH_NAME
        path = Path(raw).expanduser()
        try:
            plan = plan_mod.load(path)
        except plan_mod.PlanError as exc:
            self.show_error(f"✗ {exc}")
            return None
        self.show_error("")
        return plan, path.stem

    def show_error(self, text: str) -> None:
        """The plan's problems (every one) under the fields; the line takes no room when there are none."""
        error = self.query_one("#plan-error", Static)
        error.update(text)
        error.display = bool(text)

    def _free_name(self, base: str) -> str:
        """`base`, or `base-2`, `base-3`… when saved sessions have those names: starting again from the same plan
        file starts a new session."""
        if not self.store.exists(base):
            return base
        n = 2
        while self.store.exists(f"{base}-{n}"):
            n += 1
        return f"{base}-{n}"

    def action_start(self) -> None:
        name_field = self.query_one("#session-name", Field)
        valid = name_field.show_problem()
        self.tidy()
        if not valid:
            name_field.input.focus()
            return
        found = self.new_plan()
        if found is None:
            self.query_one("#plan-path-input", Input).focus()
            return
        plan, default_name = found
        name = name_field.value or self._free_name(default_name)
        if problem := check_name(name):  # a plan file's name need not be a valid session name
            self.show_error(f"✗ session name {name!r}: {problem}; type a name")
            name_field.input.focus()
            return
        if self.store.exists(name):  # a new session never takes over a saved one (its plan, what it created)
            self.show_error(f"✗ a saved session is named {name!r}: resume it from the list below, or type another "
                            "name")
            name_field.input.focus()
            return
        self.app.open_new(name, plan)  # type: ignore[attr-defined]
