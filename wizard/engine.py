"""The engine: runs the flow's steps against a cloud, saving the session after every transition.

One engine, two faces: the TUI calls `run_step` from thread workers and follows the flow's listeners; the
headless `apply` calls `run`. `resume` signs in again (credentials are never saved), re-checks the finished steps
in parallel, and goes back to the first one that is no longer true ("deleted outside the wizard").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from wizard.crashpoint import crash_point
from wizard.diagnose import diagnose
from wizard.flow import DONE, FAILED, ORDER, Flow, load_step
from wizard.session import Outcome, Session, SessionStore, now_iso
from wizard.steps.base import Cancelled, Check, Context, Event, LoginOptions, Reporter, Step, StepFailed
from wizard.target import Cloud

# azure-identity logs a WARNING for every failed get_token (the trust check's refused exchange is an expected
# finding, already turned into a diagnosis), and with no handler configured Python's last-resort handler prints it
# on stderr: noise under the headless output and torn screens in the TUI. Steps report through events instead.
for _library in ("azure", "msal", "urllib3"):
    logging.getLogger(_library).addHandler(logging.NullHandler())


@dataclass
class RunStats:
    applied: list[str] = field(default_factory=list)  # steps that had something to do
    created: list[str] = field(default_factory=list)  # resources created in this run
    seconds: dict[str, float] = field(default_factory=dict)


def _unchanged(summary: str) -> str:
    """A re-checked step keeps what it said when it did its work, marked as unchanged."""
    if not summary:
        return "already in place"
    return summary if summary.endswith(UNCHANGED) else summary + UNCHANGED


UNCHANGED = " (unchanged)"


def _adopt(outcome: Outcome, created: list[str]) -> None:
    """Record resources as this session's own (for teardown), once each."""
    outcome.created.extend(c for c in created if c not in outcome.created)


class Engine:
    def __init__(self, session: Session, store: SessionStore, cloud: Cloud, *, report: Reporter | None = None,
                 logins: LoginOptions | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.session = session
        self.store = store
        self.ctx = Context(plan=session.plan, session=session, cloud=cloud, report=report or (lambda e: None),
                           logins=logins or LoginOptions(), sleep=sleep)
        self.flow = Flow(session)
        self.flow.listeners.append(lambda old, new: self.save())
        self.stats = RunStats()
        self._steps: dict[str, Step] = {}

    def step(self, name: str) -> Step:
        if name not in self._steps:
            self._steps[name] = load_step(name)
        return self._steps[name]

    def save(self) -> None:
        self.store.save(self.session)

    # -- one step -------------------------------------------------------------------------------------------

    def run_step(self, name: str) -> Outcome:
        """Check the step; apply it when it is not done. Saves the outcome either way; raises StepFailed."""
        step = self.step(name)
        outcome = self.session.outcome(name)
        started = time.monotonic()
        self.ctx.report(Event(name, step.title, "progress"))
        opened = self.ctx.observed.open()  # what the check reads, its apply may use once (see Observations)
        try:
            check = step.check(self.ctx)
            if check.done:
                outcome.values.update(check.values)
                _adopt(outcome, check.created)
                outcome.summary = "; ".join(check.details) or _unchanged(outcome.summary)
            else:
                if check.details:
                    self.ctx.report(Event(name, "; ".join(check.details), "info"))
                result = step.apply(self.ctx)
                crash_point(f"applied:{name}")  # created in the cloud, not yet saved in the session
                outcome.values.update(check.values)
                outcome.values.update(result.values)
                outcome.summary = result.summary
                _adopt(outcome, result.created)
                self.stats.applied.append(name)
                self.stats.created.extend(result.created)
        except Cancelled:
            raise
        except StepFailed as exc:
            self._record_failure(outcome, exc)
            raise
        except Exception as exc:  # an error no step anticipated still becomes a diagnosis, never a traceback
            failure = StepFailed(diagnose(exc, name))
            self._record_failure(outcome, failure)
            raise failure from exc
        finally:
            if opened:
                self.ctx.observed.close()
            self.stats.seconds[name] = time.monotonic() - started
        outcome.status, outcome.diagnosis, outcome.at = "done", None, now_iso()
        self.save()
        self.ctx.report(Event(name, outcome.summary, "done"))
        return outcome

    def _record_failure(self, outcome: Outcome, failure: StepFailed) -> None:
        """A failed step still keeps what it found and made (e.g. which trust links passed, objects it created)."""
        outcome.values.update(failure.values)
        _adopt(outcome, failure.created)
        outcome.status, outcome.diagnosis, outcome.at = "failed", failure.diagnosis.to_dict(), now_iso()
        self.save()

    # -- the whole flow ---------------------------------------------------------------------------------------

    def run(self) -> str:
        """Run from the current state to `done` or `failed`."""
        if self.flow.state == FAILED:
            self.flow.retry()
        self.ctx.warm_up = True  # nothing else imports meanwhile (no UI here): waits may import later steps' modules
        # Steps run back to back here: what one observed, the next may use (once; see Observations).
        opened = self.ctx.observed.open()
        try:
            while self.flow.state not in (DONE, FAILED):
                self.ctx.check_cancelled()
                try:
                    self.run_step(self.flow.state)
                except StepFailed:
                    self.flow.fail()
                    break
                crash_point(f"boundary:{self.flow.state}")  # saved, not yet moved on
                self.flow.next()
        finally:
            if opened:
                self.ctx.observed.close()
        return self.flow.state

    def recheck(self, names: list[str]) -> dict[str, Check]:
        """Check several finished steps at once (they only read the world). Each announces itself with a
        `progress` event when its check starts, so a UI can show every step being re-checked."""

        def one(name: str) -> Check:
            self.ctx.report(Event(name, f"re-checking: {self.step(name).title}", "progress"))
            try:
                return self.step(name).check(self.ctx)
            except StepFailed as exc:
                return Check("drifted", [exc.diagnosis.title + ": " + exc.diagnosis.cause])
            except Cancelled:
                raise
            except Exception as exc:
                return Check("drifted", [str(diagnose(exc, name))])

        if not names:
            return {}
        with ThreadPoolExecutor(max_workers=min(4, len(names)), thread_name_prefix="recheck") as pool:
            return dict(zip(names, pool.map(one, names), strict=True))

    def resume(self) -> str:
        """Sign in again, re-check what was finished, redo what is no longer true, and go on."""
        if self.flow.state == FAILED:
            self.flow.retry()
        current = self.flow.state
        stop = len(ORDER) if current == DONE else ORDER.index(current)
        finished = [n for n in ORDER[:stop]
                    if self.session.outcomes.get(n) and self.session.outcomes[n].status == "done"]
        if "login" in finished:
            try:
                self.run_step("login")
            except StepFailed:  # nothing can be re-checked without signing in: stop at the login step
                self.flow.revisit("login")
                self.flow.fail()
                return self.flow.state
            finished.remove("login")
        elif current != "login":
            self.flow.revisit("login")
            return self.run()
        checks = self.recheck(finished)
        for index, name in enumerate(finished):
            check = checks[name]
            if check.done:
                outcome = self.session.outcome(name)
                changed = [f"{key} was {outcome.values[key]!r}, is now {value!r}"
                           for key, value in check.values.items() if outcome.values.get(key, value) != value]
                outcome.values.update(check.values)
                if changed:
                    self.ctx.report(Event(name, "changed outside the wizard: " + "; ".join(changed), "warning"))
                self.ctx.report(Event(name, _unchanged(outcome.summary), "done"))
                if changed and finished[index + 1:]:
                    # The later steps were checked in parallel against what this step observed before (e.g. a
                    # re-created cluster's new issuer): check them again against what it observes now.
                    checks.update(self.recheck(finished[index + 1:]))
                continue
            why = "; ".join(check.details) or "it is no longer in place"
            self.ctx.report(Event(name, f"changed outside the wizard: {why}; doing it again", "warning"))
            self.session.outcome(name).status = "pending"
            self.flow.revisit(name)
            break
        else:
            if current == DONE:
                self.save()
                return DONE
        return self.run()
