"""The whole wizard in one place: the steps in order, when one is skipped, and how the flow moves.

    login → cluster → identity → role → federation → trust → deploy → logs → done
                         (any step can fail → failed; retry goes back to the failed step)

States are the step names plus `done` and `failed`; the session stores the state, so a crash or a quit resumes
exactly here. The TUI follows state changes to switch screens; the headless `apply` runs the same transitions.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wizard.plan import Plan
from wizard.session import Session

if TYPE_CHECKING:  # the steps load with the first step run (the welcome screen needs only the states)
    from wizard.steps.base import Step


@dataclass(frozen=True)
class StepSpec:
    name: str
    # Why the step is skipped for this plan (None: it runs). Guards read only the plan: what was observed
    # (OIDC already on, identity already there) is the step's own check, which then has nothing to do.
    skip: Callable[[Plan], str | None] = lambda plan: None


STEPS: tuple[StepSpec, ...] = (
    StepSpec("login"),
    StepSpec("cluster"),
    StepSpec("identity"),
    StepSpec("role", skip=lambda plan: None if plan.roles else "the plan grants no role"),
    StepSpec("federation"),
    StepSpec("trust"),
    StepSpec("deploy"),
    StepSpec("logs"),
)
ORDER = tuple(spec.name for spec in STEPS)
DONE, FAILED, START = "done", "failed", "start"
STATES = (*ORDER, DONE, FAILED)


def load_step(name: str) -> Step:
    """The step implementation of `wizard/steps/<name>.py` (the one Step subclass named `name` there)."""
    from wizard.steps.base import Step

    module = importlib.import_module(f"wizard.steps.{name}")
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, Step) and value is not Step and value.name == name:
            return value()
    raise LookupError(f"wizard/steps/{name}.py defines no step named {name!r}")


class FlowError(Exception):
    pass


class Flow:
    """Moves the session's state; every move is announced to `listeners` (the engine saves, the TUI switches)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.listeners: list[Callable[[str, str], None]] = []  # (old, new)
        if session.state == START or session.state not in STATES:
            session.state = self._first_from(0)

    @property
    def state(self) -> str:
        return self.session.state

    @property
    def plan(self) -> Plan:
        return self.session.plan

    def skipped(self, name: str) -> str | None:
        spec = STEPS[ORDER.index(name)]
        return spec.skip(self.plan)

    def failed_step(self) -> str | None:
        """The step whose failure put the flow in `failed` (the first step whose outcome failed)."""
        return next((n for n in ORDER if self.session.outcomes.get(n) and
                     self.session.outcomes[n].status == "failed"), None)

    def _first_from(self, index: int) -> str:
        for name in ORDER[index:]:
            if self.skipped(name) is None:
                return name
        return DONE

    def _move(self, new: str) -> str:
        old = self.session.state
        self.session.state = new
        for listener in self.listeners:
            listener(old, new)
        return new

    def next(self) -> str:
        if self.state in (DONE, FAILED):
            raise FlowError(f"cannot go on from {self.state}")
        return self._move(self._first_from(ORDER.index(self.state) + 1))

    def next_from(self, name: str) -> str:
        """Go on from a step that has just succeeded, wherever the flow stood (e.g. `failed`, when that step was
        the failed one and a re-run fixed it)."""
        if name not in ORDER:
            raise FlowError(f"no step named {name!r}")
        return self._move(self._first_from(ORDER.index(name) + 1))

    def back(self) -> str:
        current = self.failed_step() if self.state == FAILED else self.state
        index = len(ORDER) if current in (DONE, None) else ORDER.index(current)
        for name in reversed(ORDER[:index]):
            if self.skipped(name) is None:
                return self._move(name)
        raise FlowError("already at the first step")

    def fail(self) -> str:
        if self.state in (DONE, FAILED):
            raise FlowError(f"cannot fail from {self.state}")
        return self._move(FAILED)

    def retry(self) -> str:
        step = self.failed_step()
        if self.state != FAILED or step is None:
            raise FlowError("nothing failed")
        return self._move(step)

    def revisit(self, name: str) -> str:
        """Jump back to a step (a diagnosis names the step that fixes it); later steps will be re-checked."""
        if name not in ORDER:
            raise FlowError(f"no step named {name!r}")
        if why := self.skipped(name):  # the flow would run a step this plan has nothing for
            raise FlowError(f"the {name} step is skipped: {why}; change the plan first")
        return self._move(name)
