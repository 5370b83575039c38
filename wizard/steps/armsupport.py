"""What the ARM-backed steps (cluster, identity, role, federation) share: tags, error mapping, the subscription
of each side, and reading earlier observations without failing (for `describe`, which must work before anything
has run)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from wizard.diagnose import Diagnosis
from wizard.steps.base import CREATED_BY_TAG, CREATED_BY_VALUE, SESSION_TAG, Cancelled, Context, Side, StepFailed

if TYPE_CHECKING:
    from wizard.azure.arm import Arm, Subscription, Waiter
    from wizard.steps.base import Step


def tags(ctx: Context) -> dict[str, str]:
    """ARM tags on everything the wizard creates: teardown finds its own by them, even after a crash."""
    return {CREATED_BY_TAG: CREATED_BY_VALUE, SESSION_TAG: ctx.session.name}


def created_by_note(ctx: Context) -> str:
    return f"Created by wi-wizard session {ctx.session.name}"


def known(ctx: Context, step: str, key: str) -> str | None:
    """An observation of an earlier step if it has one (None otherwise; never raises, unlike `ctx.value`)."""
    outcome = ctx.session.outcomes.get(step)
    return outcome.values.get(key) if outcome is not None else None


def waiter(ctx: Context, step: str) -> Waiter:
    """A gateway wait that shows a countdown and can be cancelled."""
    return lambda seconds, message: ctx.wait(step, seconds, message)


@contextmanager
def failures(step: Step) -> Iterator[None]:
    """Every error leaving a step becomes StepFailed with a diagnosis (cancellation and StepFailed pass)."""
    from wizard.azure.arm import ArmProblem

    try:
        yield
    except (StepFailed, Cancelled):
        raise
    except ArmProblem as exc:
        raise StepFailed(exc.diagnosis(step.name)) from exc
    except Exception as exc:
        raise step.fail(exc) from exc


def gateway(ctx: Context, side: Side) -> Arm:
    from wizard.azure.arm import Arm

    return Arm.for_side(ctx, side)


def subscription(ctx: Context, side: Side) -> Subscription:
    """The plan's subscription of a side, resolved (ID or name) among those that side's login can see."""
    from wizard.azure.arm import ArmProblem

    ref = ctx.plan.cluster.subscription if side == "cluster" else ctx.plan.identity.subscription
    tenant_id = known(ctx, "login", f"{side}_tenant_id") or ""
    account = known(ctx, "login", f"{side}_account")
    who = f"The {side}-side login" + (f" ({account})" if account else "")
    try:
        return gateway(ctx, side).subscriptions.resolve(ref, tenant_id, who)
    except ArmProblem as exc:
        raise StepFailed(Diagnosis(exc.code, exc.title, exc.cause,
                                   f"{exc.fix} Set {side}.subscription in the plan accordingly.", side)) from exc


def same_location(a: str, b: str) -> bool:
    """ARM spells locations 'eastus' in bodies but accepts 'East US': compare them as ARM does."""
    return a.replace(" ", "").lower() == b.replace(" ", "").lower()
