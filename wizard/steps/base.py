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

    def check_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled()

    def wait(self, step: str, seconds: float, message: str) -> None:
        """Wait visibly (a countdown event about once a second) and cancellably."""
        deadline = time.monotonic() + seconds
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
