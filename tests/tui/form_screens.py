"""A WizardApp showing one form screen (identity, role, deploy) over a fixed session, with no engine: the
description is the real step's `describe` for the plan as the form leaves it (no network: describing reads only the
plan and the session), Run records the step instead of running it, and lookups are fed by the test through the
screen's `show_…` methods. For deterministic snapshots and fast Pilot tests of the forms."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual import events
from textual.pilot import Pilot
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from tests.tui.trust_fixtures import CLIENT_ID, FIXED_AT, IDENTITY_TENANT, ISSUER, SCOPE, SEED
from wizard import plan as plan_mod
from wizard import target
from wizard.azure.arm import Identity, Location, ResourceGroup, RoleDefinition
from wizard.flow import load_step
from wizard.session import Outcome, Session, SessionStore
from wizard.steps.base import Context, Description
from wizard.tui.app import WizardApp, _screen_class
from wizard.tui.screens.step import StepScreen

SUB = "55555555-5555-5555-5555-555555555555"
CLUSTER_TENANT = "66666666-6666-6666-6666-666666666666"
CLUSTER_ID = ("/subscriptions/77777777-7777-7777-7777-777777777777/resourceGroups/rg-wi-demo/providers/"
              "Microsoft.ContainerService/managedClusters/aks-wi-demo")

GROUPS = [ResourceGroup(f"/subscriptions/{SUB}/resourceGroups/{name}", name, loc)
          for name, loc in (("rg-wi-demo", "eastus"), ("rg-shared", "westeurope"), ("rg-data", "northeurope"))]
LOCATIONS = [Location(name, display) for name, display in (
    ("eastus", "East US"), ("eastus2", "East US 2"), ("northeurope", "North Europe"), ("uksouth", "UK South"),
    ("westeurope", "West Europe"), ("westus2", "West US 2"))]
IDENTITIES = [Identity(f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/"
                       f"userAssignedIdentities/{name}", name, SUB, rg, loc, cid, pid, IDENTITY_TENANT)
              for name, rg, loc, cid, pid in (
                  ("mi-billing-reader", "rg-shared", "westeurope", "a1a1a1a1-0000-0000-0000-000000000001",
                   "b1b1b1b1-0000-0000-0000-000000000001"),
                  ("mi-legacy", "rg-data", "northeurope", "a1a1a1a1-0000-0000-0000-000000000002",
                   "b1b1b1b1-0000-0000-0000-000000000002"))]
_ROLES = (
    ("acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader", "View all resources, but does not allow you to make any "
     "changes."),
    ("b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor", "Grants full access to manage all resources, but does "
     "not allow you to assign roles in Azure RBAC."),
    ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner", "Grants full access to manage all resources, including the "
     "ability to assign roles in Azure RBAC."),
    ("43d0d8ad-25c7-4714-9337-8ba259a9fe05", "Monitoring Reader", "Can read all monitoring data."),
    ("ba92f5b4-2d11-453d-a403-e96b0029c9fe", "Storage Blob Data Contributor", "Read, write, and delete Azure "
     "Storage containers and blobs."),
    ("18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "User Access Administrator", "Lets you manage user access to Azure "
     "resources."),
)
ROLES = [RoleDefinition(f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}", guid,
                        name, text, "BuiltInRole") for guid, name, text in _ROLES]


def session_at(step: str) -> Session:
    """The seed plan signed in on both sides (cross-tenant) with the cluster found; the identity and role steps
    done when `step` comes after them; the federation credential written when `step` is deploy."""
    session = Session("fixed", plan_mod.load(SEED), state=step, created_at=FIXED_AT, updated_at=FIXED_AT)
    o = session.outcomes
    o["login"] = Outcome("done", "signed in", {"cluster_tenant_id": CLUSTER_TENANT, "identity_tenant_id":
                                               IDENTITY_TENANT, "same_tenant": "false"}, at=FIXED_AT)
    o["cluster"] = Outcome("done", "found", {"issuer_url": ISSUER, "oidc_issuer": "true", "cluster_id": CLUSTER_ID,
                                             "workload_identity": "true"}, at=FIXED_AT)
    if step in ("role", "deploy"):
        o["identity"] = Outcome("done", "created", {
            "client_id": CLIENT_ID, "tenant_id": IDENTITY_TENANT, "subscription_id": SUB,
            "resource_group_id": f"/subscriptions/{SUB}/resourceGroups/rg-wi-demo", "principal_id":
            "88888888-8888-8888-8888-888888888888"}, at=FIXED_AT)
    if step == "deploy":
        o["role"] = Outcome("done", "assigned", {"scopes": SCOPE}, at=FIXED_AT)
        o["federation"] = Outcome("done", "written", {"subject": session.plan.subject}, at=FIXED_AT)
        o["trust"] = Outcome("done", "proven", {"verdict": "passed"}, at=FIXED_AT)
    return session


class FormApp(WizardApp):
    """`step`'s own screen (from STEP_SCREENS) over `session`; `ran` and `saves` record what Run asked for."""

    def __init__(self, tmp: Path, session: Session) -> None:
        super().__init__(store=SessionStore(tmp / "sessions"), cloud=target.real, target_label="SANDBOX")
        self.session = session
        self.ran: list[str] = []
        self.saves = 0

    def on_mount(self, event: events.Mount) -> None:  # type: ignore[override]
        event.prevent_default()  # the step's screen instead of the welcome screen
        step = self.session.state
        screen = _screen_class(step)(self.session, step, self.describe(step), self.target_label,
                                     "https://127.0.0.1:8443")
        self.push_screen(screen)

    @property
    def form(self) -> StepScreen:
        assert isinstance(self.screen, StepScreen)
        return self.screen

    def describe(self, step: str) -> Description:
        return load_step(step).describe(Context(self.session.plan, self.session, target.real()))

    def save_session(self) -> None:
        self.saves += 1

    def run_step(self, name: str) -> None:  # type: ignore[override]
        self.ran.append(name)


async def settle(pilot: Pilot[int], seconds: float = 0.5) -> None:
    """Let the form follow its last edit (the description and notes refresh after a short pause); no blinking
    cursors in a snapshot."""
    await pilot.pause(seconds)
    # A form gives its first field the focus after its first refresh (and the footer then shows the field keys):
    # on a loaded machine that can come later than the pause, so wait for it rather than for a time.
    for _ in range(100):
        if getattr(pilot.app.screen, "opened", True):
            break
        await pilot.pause(0.05)
    await pilot.pause()  # the focus it gave is applied on the next pass
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False  # type: ignore[attr-defined]
    # The footer follows the focus (a field shows its keys) by recomposing after a refresh: on a loaded machine
    # that can still be pending here, so wait until it shows the keys of the focus the snapshot shows.
    screen = pilot.app.screen
    if screen.query(Footer):
        screen.refresh_bindings()
        for _ in range(100):
            wanted = {binding.action for _, binding, _, _ in screen.active_bindings.values() if binding.show}
            shown = {key.action for key in screen.query(FooterKey) if not key.has_class("-command-palette")}
            if wanted == shown:
                break
            await pilot.pause(0.05)
    await pilot.pause()


def on_screen(tmp: Path, session: Session, check: Callable[[FormApp, Pilot[int]], Awaitable[None]],
              size: tuple[int, int] = (100, 34)) -> None:
    """Open the session's step screen in a FormApp at a fixed size and run `check` once it has settled."""

    async def run() -> None:
        app = FormApp(tmp, session)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await check(app, pilot)

    asyncio.run(run())
