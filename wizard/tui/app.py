"""The wizard app: a factory-built Textual App over one engine.

Screens edit the plan and ask the app to run a step; the app runs it in a thread worker (the SDKs are blocking),
forwards the engine's events to the screen, and follows the flow's state to switch screens. Errors from workers
go through one handler. The cloud is resolved in a worker after the first frame (it may start the sandbox), and
azure/kubernetes are only imported by the steps, never on the first frame's path.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from itertools import groupby
from typing import TYPE_CHECKING, Any, TypeVar

from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from wizard.flow import DONE, FAILED
from wizard.plan import Plan
from wizard.session import Session, SessionError, SessionStore, Target
from wizard.tui.commands import WizardCommands
from wizard.tui.messages import EngineEvent, EventsQueued, StepFinished

if TYPE_CHECKING:  # the engine's modules load with the first step, not on the first frame's path
    from wizard.diagnose import Diagnosis
    from wizard.steps.base import Context, Description, Event
    from wizard.target import Cloud

# Steps with a screen of their own ("module:Class", built like StepScreen); the others use the generic StepScreen.
STEP_SCREENS: dict[str, str] = {
    "federation": "wizard.tui.screens.federation:FederationScreen",
    "trust": "wizard.tui.screens.trust:TrustScreen",
}
STEP_SCREENS["logs"] = "wizard.tui.screens.logs:LogsScreen"
STEP_SCREENS["login"] = "wizard.tui.screens.login:LoginScreen"
STEP_SCREENS["cluster"] = "wizard.tui.screens.cluster:ClusterScreen"
STEP_SCREENS["identity"] = "wizard.tui.screens.identity:IdentityScreen"
STEP_SCREENS["role"] = "wizard.tui.screens.role:RoleScreen"
STEP_SCREENS["deploy"] = "wizard.tui.screens.deploy:DeployScreen"

T = TypeVar("T")
R = TypeVar("R")
# Worker groups: a group cancels its running worker when another starts in it, so steps and tear-downs have one each
# (and `refused` keeps them from running at the same time).
STEP_GROUP, TEARDOWN_GROUP = "engine", "teardown"
# What each action waits for ("delete": the confirmed tear-down, after its own preview has ended).
WAITS_FOR = {"step": (TEARDOWN_GROUP,), "teardown": (STEP_GROUP, TEARDOWN_GROUP), "delete": (STEP_GROUP,),
             "export": (STEP_GROUP,)}


def _screen_class(step: str) -> type:
    import importlib

    from wizard.tui.screens.step import StepScreen

    spec = STEP_SCREENS.get(step)
    if spec is None:
        return StepScreen
    module, _, name = spec.partition(":")
    cls = getattr(importlib.import_module(module), name)
    assert isinstance(cls, type)
    return cls


class WizardApp(App[int]):
    TITLE = "wi-wizard"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]
    COMMANDS = App.COMMANDS | {WizardCommands}

    def __init__(self, *, store: SessionStore, cloud: Callable[[], Cloud], target_label: str,
                 default_plan: str = "", resume: str | None = None) -> None:
        super().__init__()
        self.store = store
        self._resolve_cloud = cloud
        self.target_label = target_label
        self.default_plan = default_plan
        self._resume = resume
        self.cloud: Cloud | None = None
        self.engine: object | None = None
        self._ui_thread = threading.get_ident()
        self._held: contextlib.ExitStack | None = None  # the open session's lock
        self._events: list[Event] = []  # reported by workers, not yet handed to the screen (see _report)
        self._events_lock = threading.Lock()
        self._delivered_at = 0.0  # time.monotonic() of the last hand-over

    def on_mount(self) -> None:
        from wizard.tui.screens.welcome import WelcomeScreen

        self.push_screen(WelcomeScreen(self.store, self.target_label, self.default_plan))
        if self._resume:
            self.open_existing(self._resume)

    # -- sessions -------------------------------------------------------------------------------------------

    def open_new(self, name: str, plan: Plan) -> None:
        try:
            self._lock(name)
            session = self.store.load(name) if self.store.exists(name) else Session(name, plan)
        except SessionError as exc:
            self._release()
            self.notify(str(exc), severity="error", markup=False, timeout=10)
            return
        session.plan = plan
        self._start(session)

    def open_existing(self, name: str) -> None:
        try:
            self._lock(name)
            session = self.store.load(name)
        except SessionError as exc:
            self._release()
            self.notify(str(exc), severity="error", markup=False, timeout=10)
            return
        self._start(session)

    def _lock(self, name: str) -> None:
        """Hold the session's lock while it is open here, taken before it is read: another wi-wizard (screens or
        headless) is refused with this process's PID instead of writing the same file. Raises SessionError."""
        self._release()
        held = contextlib.ExitStack()
        held.enter_context(self.store.locked(name))
        self._held = held

    def _release(self) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None

    def on_unmount(self) -> None:
        self._release()

    @work(thread=True, exclusive=True, group="cloud", exit_on_error=False, description="Connecting")
    def _start(self, session: Session) -> None:
        from wizard.engine import Engine
        from wizard.steps.base import LoginOptions

        cloud = self.cloud or self._resolve_cloud()
        self.cloud = cloud
        if session.target.kind == "real" and not session.outcomes:
            session.target = Target(cloud.kind, cloud.endpoints_path)
        engine = Engine(session, self.store, cloud, report=self._report,
                        logins=LoginOptions(device_code_prompt=self._device_code))
        engine.flow.listeners.append(lambda old, new: self._ui(self.show_state))
        engine.save()
        self.engine = engine
        self._sign_in_again(engine)
        self.call_from_thread(self.show_state)

    def _sign_in_again(self, engine: Any) -> None:
        """A resumed session that had signed in signs in again before its screen shows (credentials are never
        saved), so the step it stopped at runs as it would have. A failure is explained; the login step fixes it."""
        login = engine.session.outcomes.get("login")
        if engine.flow.state == "login" or login is None or login.status != "done":
            return
        self._sign_in(engine, "Could not sign in again")

    def _sign_in(self, engine: Any, failure_title: str) -> bool:
        """Run the login step from a worker thread; a failure is notified under `failure_title`. Any device-code
        modal it opened is closed either way."""
        from wizard.steps.base import StepFailed

        try:
            engine.run_step("login")
        except StepFailed as exc:
            d = exc.diagnosis
            self.call_from_thread(self.notify, f"{d.title}: {d.cause} {d.fix}", title=failure_title,
                                  severity="error", markup=False, timeout=30)
            return False
        finally:
            self.call_from_thread(self._close_device_code)
        return True

    def _close_device_code(self) -> None:
        from wizard.tui.screens.device_code import DeviceCodeModal

        if isinstance(self.screen, DeviceCodeModal):  # it closes itself only when a login screen's run ends
            self.screen.close()

    # -- running steps --------------------------------------------------------------------------------------

    def _busy(self, group: str) -> bool:
        return any(w.group == group and w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in self.workers)

    def refused(self, action: str) -> bool:
        """Whether `action` must wait for work already running (said in a notice). A step and a tear-down both drive
        the session and its clients (and a worker group cancels its running worker when another starts), so neither
        starts while the other runs; an export reads what a step is still writing, so it waits for the step."""
        for group in WAITS_FOR[action]:
            if self._busy(group):
                running = "A step" if group == STEP_GROUP else "A tear-down"
                self.notify(f"{running} is running: wait for it to finish first.", title="Not now",
                            severity="warning", markup=False)
                return True
        return False

    @work(thread=True, exclusive=True, group=STEP_GROUP, exit_on_error=False, description="Running a step")
    def run_step(self, name: str) -> None:
        from wizard.engine import Engine
        from wizard.steps.base import StepFailed

        engine = self.engine
        assert isinstance(engine, Engine)
        diagnosis: Diagnosis | None = None
        try:
            engine.run_step(name)
        except StepFailed as exc:
            diagnosis = exc.diagnosis
        self.call_from_thread(self._finished, name, diagnosis)

    def _finished(self, name: str, diagnosis: Diagnosis | None) -> None:
        from wizard.engine import Engine

        engine = self.engine
        assert isinstance(engine, Engine)
        self.screen.post_message(StepFinished(name, diagnosis))
        if diagnosis is not None and engine.flow.state == name:
            engine.flow.fail()

    # -- what form screens use ------------------------------------------------------------------------------

    def save_session(self) -> None:
        """Save after a screen edited the plan (`session.plan` is the engine's plan: edit it in place)."""
        from wizard.engine import Engine

        if isinstance(self.engine, Engine):
            self.engine.save()

    def describe(self, step: str) -> Description | None:
        """The step's description for the plan as it is now (a form screen refreshes it as fields change)."""
        from wizard.engine import Engine

        if not isinstance(self.engine, Engine):
            return None
        return self.engine.step(step).describe(self.engine.ctx)

    def set_login_method(self, side: str, method: str) -> None:
        """How the login step signs in on one side (not part of the plan: a plan file works with any login)."""
        from wizard.engine import Engine

        if isinstance(self.engine, Engine):
            setattr(self.engine.ctx.logins, side, method)

    @work(thread=True, group="lookup", exit_on_error=False, description="Looking up")
    def lookup(self, query: Callable[[Context], T], done: Callable[[T], Any],
               failed: Callable[[Diagnosis], Any] | None = None) -> None:
        """Run a read-only query (wizard.discover) against the cloud in a thread worker and hand its result to
        `done` on the UI thread. A failure goes through the one error handler below (the notice); `failed`, when
        given, also gets its diagnosis on the UI thread first, so the screen can say what to do in place of the
        result it was waiting for."""
        from wizard.engine import Engine

        engine = self.engine
        assert isinstance(engine, Engine)
        try:
            result = query(engine.ctx)
        except Exception as exc:
            if failed is not None:
                from wizard.diagnose import diagnose

                self.call_from_thread(failed, diagnose(exc))
            raise
        self.call_from_thread(done, result)

    def advance(self, step: str) -> None:
        """Go on from a step that has succeeded (the person has seen what it did)."""
        from wizard.engine import Engine

        if isinstance(self.engine, Engine):
            self.engine.flow.next_from(step)

    def go_back(self) -> None:
        from wizard.engine import Engine
        from wizard.flow import FlowError

        if isinstance(self.engine, Engine):
            try:
                self.engine.flow.back()
            except FlowError as exc:
                self.notify(str(exc), markup=False)

    def revisit(self, step: str) -> None:
        """Send the flow back to a step (a diagnosis names the step that fixes it); the flow's listener switches."""
        from wizard.engine import Engine
        from wizard.flow import FlowError

        if isinstance(self.engine, Engine):
            try:
                self.engine.flow.revisit(step)
            except FlowError as exc:
                self.notify(str(exc), markup=False)

    def show_state(self) -> None:
        """Switch to the screen of the flow's current state."""
        from textual.screen import ModalScreen

        from wizard.engine import Engine
        from wizard.tui.screens.done import DoneScreen

        while isinstance(self.screen, ModalScreen):  # the switch replaces the step screen, never a modal over it
            self.pop_screen()
        engine = self.engine
        assert isinstance(engine, Engine) and self.cloud is not None
        state = engine.flow.state
        detail = self.cloud.arm_url if self.cloud.is_sandbox else ""
        if state == DONE:
            self.switch_screen(DoneScreen(engine.session, self.target_label, detail))
            return
        step = engine.flow.failed_step() if state == FAILED else state
        assert step is not None
        description = engine.step(step).describe(engine.ctx)
        self.switch_screen(_screen_class(step)(engine.session, step, description, self.target_label, detail))

    # -- the summary's actions: export and tear down --------------------------------------------------------

    def export(self, fmt: str | None = None) -> None:
        """Export the session's set-up (the modal picks the format and the file, then writes it)."""
        from pathlib import Path

        from wizard.engine import Engine
        from wizard.tui.screens.export_modal import ExportModal

        if not isinstance(self.engine, Engine):
            self.notify("Start or resume a session first.", markup=False)
            return
        if self.refused("export"):
            return

        def written(path: Path | None) -> None:
            if path is not None:
                self.notify(f"Wrote {path}", title="Exported", markup=False, timeout=10)

        self.push_screen(ExportModal(self.engine.session, fmt), written)

    def teardown(self) -> None:
        """Preview and confirm a tear-down of what the session created (refused while a step or one runs)."""
        if not self.refused("teardown"):
            self._preview_teardown()

    @work(thread=True, exclusive=True, group=TEARDOWN_GROUP, exit_on_error=False,
          description="Previewing the tear-down")
    def _preview_teardown(self) -> None:
        """Sign in (credentials are never saved), read what is left of what the session created, and ask."""
        from wizard import teardown
        from wizard.engine import Engine
        from wizard.tui.screens.teardown_modal import TeardownModal

        engine = self.engine
        if not isinstance(engine, Engine):
            self._ui(lambda: self.notify("Start or resume a session first.", markup=False))
            return
        if not self._sign_in(engine, "Cannot tear down"):
            return
        items = teardown.preview(engine.ctx)

        def answered(confirmed: bool | None) -> None:
            if confirmed and not self.refused("delete"):  # a step may have started while the modal was up
                self.run_teardown(items)

        self.call_from_thread(self.push_screen, TeardownModal(items), answered)

    @work(thread=True, exclusive=True, group=TEARDOWN_GROUP, exit_on_error=False, description="Tearing down")
    def run_teardown(self, items: list[Any]) -> None:
        """Delete what the preview listed (progress reaches the screen as engine events), then show the result."""
        from wizard import teardown
        from wizard.engine import Engine

        engine = self.engine
        assert isinstance(engine, Engine)
        result = teardown.run(engine.ctx, items, self._report)
        engine.save()  # the session records what is gone (and goes back to its start when anything was)

        def show() -> None:
            from wizard.tui.screens.done import DoneScreen, teardown_text

            if isinstance(self.screen, DoneScreen):
                self.screen.show_teardown_result(result)
            else:
                self.notify(teardown_text(result), title="Tear-down", markup=False, timeout=20)

        self.call_from_thread(show)

    # -- from worker threads --------------------------------------------------------------------------------

    # Events a worker may have waiting before it waits for the UI to take them: bounds memory when a pod's log
    # arrives faster than the UI hands it on (a few MB of events at most).
    EVENT_BACKLOG = 20_000
    # How often, at most, queued events are handed to the screen during a burst (an event after a quiet spell
    # goes at once): a chatty pod then costs the UI thread a few messages a frame, not one per chunk it reads.
    EVENT_INTERVAL = 0.05

    def _ui(self, fn: Callable[[], object]) -> None:
        if threading.get_ident() == self._ui_thread:
            self._deliver_events()
            fn()
        else:
            self.call_from_thread(fn)

    def call_from_thread(self, callback: Callable[..., R | Awaitable[R]], *args: Any, **kwargs: Any) -> R:
        """Textual's, but the events the calling worker reported before reach the screen first: a step's events,
        then its `StepFinished` (or a screen switch, a notice), in the order the worker made them."""

        def after_events() -> R | Awaitable[R]:
            self._deliver_events()
            return callback(*args, **kwargs)

        return super().call_from_thread(after_events)

    def _report(self, event: Event) -> None:
        """The engine's reporter. From a worker thread it only queues the event: a chatty pod reports thousands of
        log lines a second, and a blocking round trip to the UI thread plus one message per line capped the logs
        screen at a few thousand lines/s. The first event into an empty queue asks the app to deliver; by the time
        it does, more have usually queued and go to the screen together (consecutive log lines as one event)."""
        if threading.get_ident() == self._ui_thread:
            self._deliver_events()
            self.screen.post_message(EngineEvent(event))
            return
        with self._events_lock:
            self._events.append(event)
            waiting = len(self._events)
        if waiting == 1:
            self.post_message(EventsQueued())
        elif waiting >= self.EVENT_BACKLOG:
            super().call_from_thread(self._deliver_events)  # the worker waits until the UI has taken them

    @on(EventsQueued)
    def _events_queued(self) -> None:
        """Deliver now, or when EVENT_INTERVAL has passed since the last hand-over (more will have queued by then)."""
        wait = self._delivered_at + self.EVENT_INTERVAL - time.monotonic()
        if wait > 0:
            self.set_timer(wait, self._deliver_events)
        else:
            self._deliver_events()

    def _deliver_events(self) -> None:
        """Hand every queued event to the current screen, in order, consecutive log lines of a step joined by
        "\n" into one event (the logs screen splits them; one message per line would cost as much as showing it)."""
        with self._events_lock:
            events, self._events = self._events, []
        if not events:
            return
        self._delivered_at = time.monotonic()
        screen = self.screen
        for step, run in groupby(events, key=lambda e: e.step if e.kind == "log" else None):
            if step is None:  # not log lines: each as it was reported
                for event in run:
                    screen.post_message(EngineEvent(event))
                continue
            first, *more = run
            joined = replace(first, message="\n".join([first.message, *(e.message for e in more)])) if more else first
            screen.post_message(EngineEvent(joined))

    def _device_code(self, uri: str, code: str, expires_on: object) -> None:
        """The credential's prompt (called on the login worker's thread): a modal over the login screen, which
        closes itself when the login step finishes. Nothing is printed: stdout belongs to the screen."""
        from wizard.tui.screens.device_code import DeviceCodeModal

        self._ui(lambda: self.push_screen(DeviceCodeModal(uri, code, expires_on)))

    # -- the one error handler ------------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        from wizard.diagnose import diagnose

        if event.state != WorkerState.ERROR or event.worker.error is None:
            return
        d = diagnose(event.worker.error)
        self.notify(f"{d.title} [{d.code}]: {d.cause} {d.fix}\n{d.detail}", title="Something went wrong",
                    severity="error", markup=False, timeout=30)
