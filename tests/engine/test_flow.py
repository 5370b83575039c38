"""The flow's state machine: the steps in order, the skip guard, moving on, back, failing, retrying and revisiting,
with every move announced; and every state has its step implementation in wizard/steps."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import wizard.steps
from tests.engine.support import seed_plan
from wizard.flow import DONE, FAILED, ORDER, START, STATES, Flow, FlowError, load_step
from wizard.plan import Plan
from wizard.session import Outcome, Session
from wizard.steps.base import Step

STEPS = ["login", "cluster", "identity", "role", "federation", "trust", "deploy", "logs"]


def flow(state: str = START, plan: Plan | None = None) -> tuple[Flow, list[tuple[str, str]]]:
    """A flow on a fresh session, and the (old, new) moves its listener heard."""
    moves: list[tuple[str, str]] = []
    f = Flow(Session("flow-test", plan or seed_plan(), state=state))
    f.listeners.append(lambda old, new: moves.append((old, new)))
    return f, moves


def no_roles() -> Plan:
    plan = seed_plan()
    plan.roles = []  # from_dict refuses an empty [[roles]]; a plan built by the screens may have none
    return plan


def test_the_order_is_login_to_logs_and_the_states_add_done_and_failed() -> None:
    assert list(ORDER) == STEPS
    assert (*STEPS, DONE, FAILED) == STATES


def test_a_new_session_starts_at_the_first_step_without_announcing_a_move() -> None:
    f, moves = flow()
    assert f.state == "login" == f.session.state
    assert moves == []


def test_next_walks_every_step_in_order_then_done_announcing_each_move() -> None:
    f, moves = flow()
    visited = [f.state]
    while f.state != DONE:
        visited.append(f.next())

    assert visited == [*STEPS, DONE]
    assert moves == list(zip([*STEPS], [*STEPS[1:], DONE], strict=True))
    assert f.session.state == DONE


def test_every_listener_hears_every_move() -> None:
    f, first = flow()
    second: list[tuple[str, str]] = []
    f.listeners.append(lambda old, new: second.append((old, new)))

    f.next()
    f.fail()

    assert first == second == [("login", "cluster"), ("cluster", FAILED)]


def test_a_plan_without_roles_skips_the_role_step_both_ways() -> None:
    f, _ = flow("identity", no_roles())

    assert f.skipped("role") == "the plan grants no role"
    assert f.next() == "federation"
    assert f.back() == "identity"


def test_a_plan_with_roles_skips_nothing() -> None:
    f, _ = flow()
    assert [f.skipped(name) for name in ORDER] == [None] * len(ORDER)


def test_a_session_resumed_at_a_step_stays_there() -> None:
    f, _ = flow("federation")
    assert f.state == "federation"


@pytest.mark.parametrize("state", ["bogus", "", "role "])
def test_a_session_in_an_unknown_state_starts_again_at_the_first_step(state: str) -> None:
    f, _ = flow(state)
    assert f.state == "login"


def test_next_from_done_or_failed_is_refused() -> None:
    for state in (DONE, FAILED):
        f, moves = flow(state)
        with pytest.raises(FlowError, match=f"cannot go on from {state}"):
            f.next()
        assert f.state == state and moves == []


def test_back_goes_to_the_previous_step_and_stops_at_the_first() -> None:
    f, moves = flow("cluster")
    assert f.back() == "login"
    with pytest.raises(FlowError, match="already at the first step"):
        f.back()
    assert moves == [("cluster", "login")]


def test_back_from_done_goes_to_the_last_step() -> None:
    f, _ = flow(DONE)
    assert f.back() == "logs"


def test_back_from_failed_goes_to_the_step_before_the_failed_one() -> None:
    f, _ = flow(FAILED)
    f.session.outcomes["trust"] = Outcome(status="failed")
    assert f.back() == "federation"


def test_fail_then_retry_returns_to_the_failed_step() -> None:
    f, moves = flow("trust")
    f.session.outcomes["login"] = Outcome(status="done")
    f.session.outcomes["trust"] = Outcome(status="failed")

    assert f.fail() == FAILED
    assert f.failed_step() == "trust"
    assert f.retry() == "trust"
    assert moves == [("trust", FAILED), (FAILED, "trust")]


def test_the_failed_step_is_the_first_step_whose_outcome_failed() -> None:
    f, _ = flow(FAILED)
    for name, status in (("login", "done"), ("role", "failed"), ("logs", "failed")):
        f.session.outcomes[name] = Outcome(status=status)
    assert f.failed_step() == "role"


def test_fail_from_done_or_failed_is_refused() -> None:
    for state in (DONE, FAILED):
        f, _ = flow(state)
        with pytest.raises(FlowError, match=f"cannot fail from {state}"):
            f.fail()


def test_retry_without_a_failure_is_refused() -> None:
    running, _ = flow("role")
    with pytest.raises(FlowError, match="nothing failed"):
        running.retry()
    failed_without_outcome, _ = flow(FAILED)
    with pytest.raises(FlowError, match="nothing failed"):
        failed_without_outcome.retry()


def test_revisit_jumps_back_to_the_step_a_diagnosis_names() -> None:
    f, moves = flow(FAILED)
    f.session.outcomes["trust"] = Outcome(status="failed")

    assert f.revisit("federation") == "federation"
    assert f.next() == "trust"
    assert moves == [(FAILED, "federation"), ("federation", "trust")]


def test_revisit_of_an_unknown_step_is_refused() -> None:
    f, moves = flow("trust")
    with pytest.raises(FlowError, match="no step named 'teardown'"):
        f.revisit("teardown")
    assert f.state == "trust" and moves == []


def test_revisit_of_a_step_the_plan_skips_is_refused_with_the_reason() -> None:
    f, moves = flow("trust", no_roles())
    with pytest.raises(FlowError, match="the role step is skipped: the plan grants no role"):
        f.revisit("role")
    assert f.state == "trust" and moves == []


# -- the step implementations -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ORDER)
def test_load_step_finds_the_step_of_every_state(name: str) -> None:
    step = load_step(name)

    assert isinstance(step, Step)
    assert step.name == name
    assert step.title and step.title.strip() == step.title
    assert type(step).__module__ == f"wizard.steps.{name}"


def test_every_step_class_in_wizard_steps_is_a_state_of_the_flow() -> None:
    """A step implemented but missing from STEPS would never run."""
    found: dict[str, str] = {}
    for module in pkgutil.iter_modules(wizard.steps.__path__):
        loaded = importlib.import_module(f"wizard.steps.{module.name}")
        for value in vars(loaded).values():
            if (isinstance(value, type) and issubclass(value, Step) and value is not Step
                    and value.__module__ == loaded.__name__ and getattr(value, "name", None)):
                found[value.name] = module.name
    assert found == {name: name for name in ORDER}


def test_load_step_of_a_module_without_that_step_says_so() -> None:
    with pytest.raises(LookupError, match=r"wizard/steps/base.py defines no step named 'base'"):
        load_step("base")


def test_next_from_goes_on_after_a_failed_step_that_a_rerun_fixed() -> None:
    """The screens re-run a failed step; once it succeeds, the flow goes on from that step, not from `failed`."""
    flow = Flow(Session("s", Plan()))
    flow.next()  # cluster
    flow.fail()
    assert flow.state == FAILED

    assert flow.next_from("cluster") == "identity"
