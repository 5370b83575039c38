"""The wizard app: a factory-built Textual App over one engine.

Screens edit the plan and ask the app to run a step; the app runs it in a thread worker (the SDKs are blocking),
forwards the engine's events to the screen, and follows the flow's state to switch screens. Errors from workers
go through one handler. The cloud is resolved in a worker after the first frame (it may start the sandbox), and
azure/kubernetes are only imported by the steps, never on the first frame's path.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from wizard.diagnose import Diagnosis, diagnose
from wizard.flow import DONE, FAILED
from wizard.plan import Plan
from wizard.session import Session, SessionError, SessionStore, Target
from wizard.steps.base import Context, Description, Event, LoginOptions, StepFailed
from wizard.target import Cloud
from wizard.tui.commands import WizardCommands
from wizard.tui.messages import EngineEvent, StepFinished

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
    CSS_PATH = "app.tcss"
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
        try:
            engine.run_step("login")
        except StepFailed as exc:
            d = exc.diagnosis
            self.call_from_thread(self.notify, f"{d.title}: {d.cause} {d.fix}", title="Could not sign in again",
                                  severity="error", markup=False, timeout=30)
        finally:
            self.call_from_thread(self._close_device_code)

    def _close_device_code(self) -> None:
        from wizard.tui.screens.device_code import DeviceCodeModal

        if isinstance(self.screen, DeviceCodeModal):  # it closes itself only when a login screen's run ends
            self.screen.close()

    # -- running steps --------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="engine", exit_on_error=False, description="Running a step")
    def run_step(self, name: str) -> None:
        from wizard.engine import Engine

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
    def lookup(self, query: Callable[[Context], T], done: Callable[[T], Any]) -> None:
        """Run a read-only query (wizard.discover) against the cloud in a thread worker and hand its result to
        `done` on the UI thread; a failure goes through the one error handler below."""
        from wizard.engine import Engine

        engine = self.engine
        assert isinstance(engine, Engine)
        result = query(engine.ctx)
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

        def written(path: Path | None) -> None:
            if path is not None:
                self.notify(f"Wrote {path}", title="Exported", markup=False, timeout=10)

        self.push_screen(ExportModal(self.engine.session, fmt), written)

    @work(thread=True, exclusive=True, group="engine", exit_on_error=False, description="Previewing the tear-down")
    def teardown(self) -> None:
        """Sign in (credentials are never saved), read what is left of what the session created, and ask."""
        from wizard import teardown
        from wizard.engine import Engine
        from wizard.tui.screens.teardown_modal import TeardownModal

        engine = self.engine
        if not isinstance(engine, Engine):
            self._ui(lambda: self.notify("Start or resume a session first.", markup=False))
            return
        try:
            engine.run_step("login")
        except StepFailed as exc:
            d = exc.diagnosis
            self.call_from_thread(self.notify, f"{d.title}: {d.cause} {d.fix}", title="Cannot tear down",
                                  severity="error", markup=False, timeout=30)
            return
        finally:
            self.call_from_thread(self._close_device_code)
        items = teardown.preview(engine.ctx)

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.run_teardown(items)

        self.call_from_thread(self.push_screen, TeardownModal(items), answered)

    @work(thread=True, exclusive=True, group="engine", exit_on_error=False, description="Tearing down")
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

    def _ui(self, fn: Callable[[], object]) -> None:
        if threading.get_ident() == self._ui_thread:
            fn()
        else:
            self.call_from_thread(fn)

    def _report(self, event: Event) -> None:
        self._ui(lambda: self.screen.post_message(EngineEvent(event)))

    def _device_code(self, uri: str, code: str, expires_on: object) -> None:
        """The credential's prompt (called on the login worker's thread): a modal over the login screen, which
        closes itself when the login step finishes. Nothing is printed: stdout belongs to the screen."""
        from wizard.tui.screens.device_code import DeviceCodeModal

        self._ui(lambda: self.push_screen(DeviceCodeModal(uri, code, expires_on)))

    # -- the one error handler ------------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR or event.worker.error is None:
            return
        d = diagnose(event.worker.error)
        self.notify(f"{d.title} [{d.code}]: {d.cause} {d.fix}\n{d.detail}", title="Something went wrong",
                    severity="error", markup=False, timeout=30)
