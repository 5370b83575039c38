"""What every step offers and what it is given.

A step `describe`s itself (plain words + the equivalent az/kubectl commands), `check`s the world (done / missing /
drifted, with what differs, refreshing what it observes), and `apply`s idempotently: safe to run again after a
crash at any line, because names are deterministic and existing resources are found, not duplicated.

Steps never touch the UI: they report through `Context.report` (the TUI turns events into widgets, the command
line into lines) and fail by raising `StepFailed` with a diagnosis.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from wizard.crashpoint import crash_point
from wizard.diagnose import Diagnosis, diagnose
from wizard.plan import Plan
from wizard.session import Session
from wizard.target import Cloud

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

Side = Literal["cluster", "identity"]
SIDES: tuple[Side, Side] = ("cluster", "identity")
# Tags/labels on everything the wizard creates, so teardown knows what is its own even after a crash.
CREATED_BY_TAG = "created-by"
CREATED_BY_VALUE = "wi-wizard"
SESSION_TAG = "wi-wizard-session"


@dataclass(frozen=True)
class Event:
    step: str
    message: str
    kind: str = "info"  # info | progress | wait | warning | log
    seconds_left: float | None = None  # for waits: a countdown the UI can show


Reporter = Callable[[Event], None]


@dataclass
class Check:
    state: str  # "done" | "missing" | "drifted"
    details: list[str] = field(default_factory=list)  # what is missing or differs, in plain words
    values: dict[str, str] = field(default_factory=dict)  # observations (IDs, issuer URL…), never secrets
    # What the check found that this session's own marks (tags, descriptions, annotations) say it created: a crash
    # between creating and saving leaves it unrecorded, and the re-run's check is then all that sees it.
    created: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.state == "done"


@dataclass
class Result:
    summary: str
    values: dict[str, str] = field(default_factory=dict)
    # IDs of what this session owns among what the apply ensured: made now, or made by an earlier run of this
    # session that crashed before saving (known by the wizard's tags/annotations). Not what someone else made.
    created: list[str] = field(default_factory=list)


@dataclass
class Description:
    summary: str
    commands: list[str] = field(default_factory=list)


class StepFailed(Exception):
    def __init__(self, diagnosis: Diagnosis, values: dict[str, str] | None = None,
                 created: list[str] | None = None) -> None:
        super().__init__(str(diagnosis))
        self.diagnosis = diagnosis
        # Observations made before failing (e.g. the trust check's passed/failed links), never secrets, and what
        # was created before failing (so the session still lists it for teardown).
        self.values = dict(values or {})
        self.created = list(created or [])


class Cancelled(Exception):
    """The user (or a signal) stopped the run; nothing is wrong."""


DeviceCodePrompt = Callable[[str, str, Any], None]  # (verification_uri, user_code, expires_on)

_UNSEEN: Any = object()
# What the steps after the first waits import, in the order they need it (see Context.idle).
_LATER_MODULES = ("azure.mgmt.msi", "azure.mgmt.authorization", "kubernetes.client", "kubernetes.config",
                  "kubernetes.client.api.core_v1_api",  # loaded lazily by the client, and the slowest of all
                  "kubernetes.watch")


class Observations:
    """What a step read (or wrote: a write's answer is the object as now stored) of a resource, handed to the next
    reader of the same resource in the same engine run, so a step's apply does not read again what its check read
    a few milliseconds before, nor the deploy step what the trust step has just made (the benchmark's avoidable
    requests).

    Never stale by construction: the engine opens a fresh memo for one `Engine.run` (the headless apply: steps back
    to back, nobody waiting in between) or else for one `Engine.run_step` (the TUI, where minutes may pass between
    steps: nothing crosses them), and closes it at the end, so nothing crosses runs, resumes or processes; only
    the thread that opened it records or takes (a parallel re-check or a UI lookup on the same Context never sees
    it); each observation is taken at most once (`take` removes it), and a step takes it before it writes that
    resource, so a read after a write goes to the cloud unless the write itself recorded its answer.
    Outside an open memo (a test calling `apply` alone, `recheck`), `record` does nothing and `take` reads.
    """

    def __init__(self) -> None:
        self._seen: dict[str, Any] = {}
        self._owner: int | None = None

    def open(self) -> bool:
        """Open a fresh memo for this thread; False (nothing changes) when one is open already."""
        if self._owner is not None:
            return False
        self._seen, self._owner = {}, threading.get_ident()
        return True

    def close(self) -> None:
        self._seen, self._owner = {}, None

    def _mine(self) -> bool:
        return self._owner is not None and self._owner == threading.get_ident()

    def record(self, key: str, value: Any) -> None:
        """Remember what was just read of `key` (a resource's ID or path; None for "does not exist")."""
        if self._mine():
            self._seen[key] = value

    def take(self, key: str, read: Callable[[], Any]) -> Any:
        """The recorded observation of `key` (once), else `read()`."""
        found = self._seen.pop(key, _UNSEEN) if self._mine() else _UNSEEN
        return read() if found is _UNSEEN else found


@dataclass
class LoginOptions:
    """How to sign in on each side. Methods: sandbox, service-principal, azure-cli, device-code, browser."""

    cluster: str = "auto"
    identity: str = "auto"
    device_code_prompt: DeviceCodePrompt | None = None

    def method(self, side: Side) -> str:
        return self.cluster if side == "cluster" else self.identity


@dataclass
class Context:
    plan: Plan
    session: Session
    cloud: Cloud
    report: Reporter = lambda event: None
    logins: LoginOptions = field(default_factory=LoginOptions)
    cancelled: threading.Event = field(default_factory=threading.Event)
    credentials: dict[str, TokenCredential] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)  # gateways and clients, built once per run
    observed: Observations = field(default_factory=Observations)  # check → apply of one step (see Observations)
    warm_up: bool = False  # set by a headless run: `idle` may import the later steps' modules (see `idle`)
    sleep: Callable[[float], None] = time.sleep

    def value(self, step: str, key: str) -> str:
        """An observation a previous step recorded; a clear failure when that step has not run."""
        found = self.session.outcome(step).values.get(key)
        if not found:
            raise StepFailed(Diagnosis("StepOrder", f"The {step} step has not run",
                                       f"This step needs {key!r}, which the {step} step finds.",
                                       f"Run the {step} step first.", step))
        return found

    def credential(self, side: Side) -> TokenCredential:
        found = self.credentials.get(side)
        if found is None:
            raise StepFailed(Diagnosis("NotSignedIn", f"Not signed in to the {side} tenant",
                                       "No login is active for this side of the plan.",
                                       "Run the login step.", "login"))
        return found

    def idle(self) -> None:
        """A step is waiting on the cloud (an LRO, a propagation): in a headless run, use the time to import what
        the later steps need (the kubernetes client alone takes ~0.5 s), once per run (modules already imported
        cost nothing), instead of on their critical path. On this thread, not a background one: two threads
        importing overlapping packages can meet a half-initialised module (a circular import seen from the other
        thread)."""
        if not self.warm_up:
            return
        self.warm_up = False
        import importlib

        for name in _LATER_MODULES:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: S112 (the step that imports it reports the real error)
                continue

    def check_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled()

    def wait(self, step: str, seconds: float, message: str) -> None:
        """Wait visibly (a countdown event about once a second) and cancellably."""
        deadline = time.monotonic() + seconds
        self.idle()
        while (left := deadline - time.monotonic()) > 0:
            self.check_cancelled()
            self.report(Event(step, message, "wait", round(left, 1)))
            crash_point(f"wait:{step}")
            self.sleep(min(1.0, left))
        self.check_cancelled()


class Step(ABC):
    name: ClassVar[str]
    title: ClassVar[str]

    @abstractmethod
    def describe(self, ctx: Context) -> Description: ...

    @abstractmethod
    def check(self, ctx: Context) -> Check: ...

    @abstractmethod
    def apply(self, ctx: Context) -> Result: ...

    def fail(self, error: BaseException | str) -> StepFailed:
        """Turn any error into a StepFailed with a diagnosis pointing at the right step."""
        return StepFailed(diagnose(error, self.name))
