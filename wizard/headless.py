"""The headless face of the engine: `apply`, `resume --headless` and `sessions`, with plain-text or JSON output.

Exit codes: 0 only when the workload's logs prove access; 1 when a step failed (the diagnosis is printed);
2 when the input is unusable (plan, session, target); 130 when interrupted.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from wizard import plan as plan_mod
from wizard.engine import Engine
from wizard.flow import DONE, ORDER, START
from wizard.session import Session, SessionError, SessionStore, Target, check_name, process_alive
from wizard.steps.base import Cancelled, Event, LoginOptions
from wizard.target import Cloud, TargetError

EXIT_PROVEN, EXIT_FAILED, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
MARKS = {"done": "✓", "failed": "✗", "skipped": "-", "progress": "…"}


class InputError(Exception):
    """Unusable input; the message says what is wrong and how to fix it."""


class Printer:
    """Turns engine events into lines: one per step, plus waits (throttled) and the workload's log lines."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._lock = threading.Lock()
        self._last_wait: dict[str, tuple[str, float]] = {}
        self._started: set[str] = set()

    def line(self, text: str) -> None:
        with self._lock:
            print(text, file=self.out, flush=True)

    def __call__(self, event: Event) -> None:
        name = f"{event.step:<11}"
        if event.kind == "done":
            self._started.discard(event.step)
            self.line(f"  {MARKS['done']} {name} {event.message}")
        elif event.kind == "progress" and event.step not in self._started:
            self._started.add(event.step)  # a step's first progress event only announces it (its title)
        elif event.kind in {"wait", "progress"}:
            # What is being waited for (a cluster update, a pod starting, a retried ARM call): shown when it
            # changes, and again every 10 s while it lasts; counters (elapsed seconds) do not count as a change.
            key = re.sub(r"\d+", "#", event.message)
            last = self._last_wait.get(event.step)
            now = time.monotonic()
            if last is None or last[0] != key or now - last[1] >= 10:
                self._last_wait[event.step] = (key, now)
                left = f" ({event.seconds_left:.0f} s left)" if event.seconds_left is not None else ""
                self.line(f"  {MARKS['progress']} {name} {event.message}{left}")
        elif event.kind == "log":
            self.line(f"    │ {event.message}")
        elif event.kind in {"info", "warning"}:
            self.line(f"  {'!' if event.kind == 'warning' else ' '} {name} {event.message}")


def resolve_cloud(sandbox: bool, endpoints: Path | None) -> Cloud:
    from wizard import target

    if endpoints is not None:
        return target.sandbox(endpoints)
    if sandbox:
        from wizard.sandbox.launcher import LaunchError, ensure_running

        try:
            return target.sandbox(ensure_running())
        except LaunchError as exc:
            raise TargetError(str(exc)) from None
    return target.real()


def cloud_of(session: Session) -> Cloud:
    """The cloud a session was made against (so `resume` needs no flag); restarts the default sandbox if needed."""
    from wizard import paths, target

    if session.target.kind != "sandbox":
        return target.real()
    endpoints = Path(session.target.endpoints or "")
    if endpoints.parent == paths.sandbox_dir().absolute():
        return resolve_cloud(True, None)
    # A sandbox removes its endpoints file when it stops; one that was killed leaves it, naming a dead process.
    cloud = target.sandbox(endpoints) if endpoints.is_file() else None
    gone = f"{endpoints} does not exist" if cloud is None else \
        f"its process {cloud.sandbox.get('pid')} is gone" if not _alive(cloud.sandbox.get("pid")) else None
    if gone is not None:
        state_dir = shlex.quote(str(endpoints.parent))
        raise TargetError(f"session {session.name!r} was made against the sandbox in {endpoints.parent}, which is not "
                          f"running ({gone}). Start it again with `wi-wizard sandbox serve --state-dir {state_dir}` "
                          "(it keeps its world and its port), then resume.")
    assert cloud is not None
    return cloud


def _alive(pid: Any) -> bool:
    """Whether a process runs with this PID (an unknown PID counts as alive: the endpoints file is then trusted)."""
    return not isinstance(pid, int) or pid <= 0 or process_alive(pid)


def _summary(session: Session, engine: Engine | None) -> dict[str, Any]:
    steps = []
    for name in ORDER:
        outcome = session.outcomes.get(name)
        steps.append({"step": name, "status": outcome.status if outcome else "pending",
                      "summary": outcome.summary if outcome else "", "values": outcome.values if outcome else {},
                      "diagnosis": outcome.diagnosis if outcome else None})
    logs = session.outcomes.get("logs")
    return {
        "session": session.name, "target": session.target.label, "state": session.state,
        "proven": bool(logs and logs.values.get("verdict") == "proven" and session.state == DONE),
        "changed": _changed(engine) if engine else [], "created": engine.stats.created if engine else [],
        "steps": steps,
    }


def _changed(engine: Engine) -> list[str]:
    """The steps that changed the world in this run. Signing in always happens (no credential is saved) and
    changes nothing, so a re-run that only signed in still has nothing to change."""
    return [name for name in engine.stats.applied if name != "login"]


def _finish(engine: Engine, printer: Printer, as_json: bool, started: float) -> int:
    session = engine.session
    result = _summary(session, engine)
    elapsed = time.monotonic() - started
    failed = next((s for s in result["steps"] if s["status"] == "failed"), None)
    if failed and failed["diagnosis"]:
        d = failed["diagnosis"]
        printer.line(f"  {MARKS['failed']} {failed['step']:<11} {d['title']} [{d['code']}]")
        printer.line(f"      why: {d['cause']}")
        printer.line(f"      fix: {d['fix']}" + (f" (then resume at the {d['step']} step)" if d["step"] else ""))
        if d.get("detail"):
            printer.line(f"      error: {d['detail']}")
    if result["proven"]:
        logs = session.outcomes["logs"]
        printer.line(f"Access proven in {elapsed:.1f} s. {logs.summary}")
        for line in logs.values.get("evidence", "").splitlines():
            printer.line(f"  evidence: {line if len(line) <= 150 else line[:147] + '...'}")
        if not _changed(engine):
            printer.line("Nothing to change: everything was already in place.")
    elif session.state != DONE:
        printer.line(f"Not proven: stopped at the {failed['step'] if failed else session.state} step. "
                     f"Resume with `wi-wizard resume {session.name} --headless` once fixed.")
    if as_json:
        result["seconds"] = round(elapsed, 2)
        print(json.dumps(result, indent=2), flush=True)
    return EXIT_PROVEN if result["proven"] else EXIT_FAILED


def _logins(login: str, session: Session | None = None) -> LoginOptions:
    """The login methods asked for; `auto` on resume means "as the session signed in before" (it remembers the
    method, never the credential), so a device-code session prompts again rather than switching methods."""
    def prompt(uri: str, code: str, expires_on: Any) -> None:
        print(f"To sign in, open {uri} and enter the code {code} (expires {expires_on:%H:%M:%S}).",
              file=sys.stderr, flush=True)

    cluster, _, identity = login.partition(",")
    cluster, identity = cluster or "auto", identity or cluster or "auto"
    if session is not None and login == "auto":
        remembered = {side: known.method for side, known in session.logins.items()}
        cluster, identity = remembered.get("cluster", cluster), remembered.get("identity", identity)
    return LoginOptions(cluster=cluster, identity=identity, device_code_prompt=prompt)


def _drive(engine: Engine, printer: Printer, as_json: bool, resume: bool) -> int:
    started = time.monotonic()
    try:
        if resume:
            engine.resume()
        else:
            engine.run()
    except (KeyboardInterrupt, Cancelled):
        engine.ctx.cancelled.set()
        printer.line(f"Interrupted; the session is saved. Resume with `wi-wizard resume {engine.session.name} "
                     "--headless`.")
        return EXIT_INTERRUPTED
    return _finish(engine, printer, as_json, started)


def apply(plan_path: Path, *, sandbox: bool = False, endpoints: Path | None = None, session_name: str | None = None,
          as_json: bool = False, login: str = "auto", store: SessionStore | None = None) -> int:
    printer = Printer(sys.stderr if as_json else sys.stdout)
    store = store or SessionStore()
    try:
        plan = plan_mod.load(plan_path)
        name = session_name or plan_path.stem
        if problem := check_name(name):
            raise InputError(f"--session {name!r}: {problem}")
        cloud = resolve_cloud(sandbox, endpoints)
        target = Target(cloud.kind, cloud.endpoints_path)
    except (plan_mod.PlanError, SessionError, TargetError, InputError) as exc:
        print(f"wi-wizard: {exc}", file=sys.stderr)
        return EXIT_INPUT
    try:
        # Locked before the session is read: a copy read while another process runs it would be stale, and
        # saving it would lose what that run recorded (a file being set aside must not be moved from under it).
        with store.locked(name):
            session = _session_to_apply(store, name, plan, target)
            printer.line(f"wi-wizard apply · {plan_path} · {cloud.label} ({cloud.arm_url}) · session {name}")
            engine = Engine(session, store, cloud, report=printer, logins=_logins(login))
            engine.save()
            return _drive(engine, printer, as_json, resume=False)
    except (SessionError, InputError) as exc:
        print(f"wi-wizard: {exc}", file=sys.stderr)
        return EXIT_INPUT


def _session_to_apply(store: SessionStore, name: str, plan: plan_mod.Plan, target: Target) -> Session:
    """The saved session of this name with the plan to apply (a re-run), or a new one."""
    if not store.exists(name):
        return Session(name, plan, target)
    session = store.load(name)
    if session.target != target:
        raise InputError(f"session {name!r} was made against {session.target.label} "
                         f"({session.target.endpoints or 'Azure'}); choose another --session name")
    session.plan = plan
    session.state = START  # a re-run re-checks every step from the first; unchanged steps do nothing
    return session


def resume(name: str, *, as_json: bool = False, login: str = "auto", store: SessionStore | None = None) -> int:
    printer = Printer(sys.stderr if as_json else sys.stdout)
    store = store or SessionStore()
    try:
        with store.locked(name):
            session = store.load(name)
            cloud = cloud_of(session)
            printer.line(f"wi-wizard resume · session {name} · {cloud.label} · at {session.state}")
            engine = Engine(session, store, cloud, report=printer, logins=_logins(login, session))
            return _drive(engine, printer, as_json, resume=True)
    except (SessionError, TargetError) as exc:
        print(f"wi-wizard: {exc}", file=sys.stderr)
        return EXIT_INPUT


def sessions(as_json: bool = False, store: SessionStore | None = None) -> int:
    found = (store or SessionStore()).list()
    if as_json:
        print(json.dumps([s.__dict__ for s in found], indent=2))
        return 0
    if not found:
        print("No saved sessions. Start one with `wi-wizard` or `wi-wizard apply PLAN.toml`.")
        return 0
    print(f"{'SESSION':<28} {'TARGET':<11} {'STEP':<11} LAST CHANGE")
    for s in found:
        print(f"{s.name:<28} {s.target:<11} {s.state:<11} {s.updated_at}" + (f"  ({s.problem})" if s.problem else ""))
    return 0
