"""What the end-to-end TUI tests share: drive the wizard with key presses only (counting them), and read back
from the sandbox — with a login of its own, not the app's — what the wizard says it made."""

from __future__ import annotations

from typing import Any

from tests.engine.support import signed_in
from tests.tui.seed_app import screen_ready
from wizard.azure.arm import Arm, parse_id
from wizard.kube.client import Kube
from wizard.sandbox import Sandbox
from wizard.session import Session
from wizard.tui.app import WizardApp
from wizard.tui.screens.done import DoneScreen


class Keys:
    """Presses keys on the app and counts them; settles (workers finished, screen switched) after each."""

    def __init__(self, app: WizardApp, pilot: Any) -> None:
        self.app = app
        self.pilot = pilot
        self.count = 0

    async def settle(self) -> None:
        await self.pilot.pause()
        await self.app.workers.wait_for_complete()
        await self.pilot.pause(0.2)
        await self.app.workers.wait_for_complete()
        await screen_ready(self.app, self.pilot)
        await self.pilot.pause()

    async def press(self, *keys: str) -> None:
        for key in keys:
            await self.pilot.press(key)
            self.count += 1
            await self.settle()

    async def enter_until_summary(self, limit: int) -> list[str]:
        """Enter, and Enter again, until the summary shows: the happy path with the defaults. Returns the step
        screens seen, in order (one entry per screen change)."""
        seen: list[str] = []
        while not isinstance(self.app.screen, DoneScreen):
            assert self.count < limit, f"still on {type(self.app.screen).__name__} after {self.count} presses"
            step = getattr(self.app.screen, "step", None)
            if step is not None and (not seen or seen[-1] != step):
                seen.append(step)
            await self.press("enter")
        return seen


def assert_made_in_the_sandbox(box: Sandbox, session: Session) -> None:
    """The identity, its federated credential, the role assignment and the pod exist as the session recorded
    them — read with a fresh login of the sandbox's service principals."""
    ctx, _ = signed_in(box, session.plan)
    ctx.session.outcomes["cluster"] = session.outcomes["cluster"]
    identity = session.outcomes["identity"].values
    parsed = parse_id(identity["identity_id"])
    arm = Arm.for_side(ctx, "identity")
    assert arm.read(identity["identity_id"])["properties"]["clientId"] == identity["client_id"]
    fics = arm.fics(parsed.subscription_id).list(parsed.resource_group, parsed.name)
    federation = session.outcomes["federation"].values
    assert [(f.issuer, f.subject) for f in fics] == [(federation["issuer"], session.plan.subject)]
    scopes = session.outcomes["role"].values["scopes"].splitlines()
    assignments = arm.roles(parsed.subscription_id).assignments(scopes[0], identity["principal_id"])
    assert {a.id.lower() for a in assignments} >= {
        a.lower() for a in session.outcomes["role"].values["assignment_ids"].splitlines()}
    k = session.plan.kubernetes
    kube = Kube.connect(ctx)
    pod = kube.get_pod(k.namespace, session.plan.workload.pod)
    assert pod is not None and pod["spec"]["serviceAccountName"] == k.service_account
    account = kube.get_service_account(k.namespace, k.service_account)
    assert account is not None
    assert account["metadata"]["annotations"]["azure.workload.identity/client-id"] == identity["client_id"]


def arm_exists(box: Sandbox, session: Session, resource_id: str) -> bool:
    """Whether an ARM resource exists, read with a fresh login."""
    from azure.core.exceptions import ResourceNotFoundError

    ctx, _ = signed_in(box, session.plan)
    try:
        Arm.for_side(ctx, "identity").read(resource_id)
    except ResourceNotFoundError:
        return False
    return True
