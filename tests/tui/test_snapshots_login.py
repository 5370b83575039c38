"""Snapshots of the sign-in screen over fixed data (the seed plan, a hand-made session, subscriptions fed through
the screen's `show_subscriptions`): no sandbox, no engine, no clock; fixed terminal size."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Checkbox, Input

from tests.tui.fixed_login_cluster import SUB_A, SUB_A2, SUB_B, FixedFormApp, signed_in
from tests.tui.form_screens import settle
from wizard.tui.messages import StepFinished
from wizard.tui.screens.login import LoginScreen

SIZE = (120, 40)


def _app(tmp_path: Path) -> FixedFormApp:
    return FixedFormApp(tmp_path, "login", LoginScreen)


def test_login_filled_for_two_tenants(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The sign-in screen pre-filled from the seed plan: two boxed columns side by side, "Cluster tenant (A)" with
    contoso.onmicrosoft.com and "Identity tenant (B)" with fabrikam.onmicrosoft.com, each signing in with "Sandbox
    service principal" and "Not signed in yet." (grey); the "same tenant" box below is not ticked; then the
    description (one sign-in per tenant), the az login command and the Run this step / Back buttons."""
    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=settle)


def test_login_same_tenant_mirrors_the_cluster_side(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """After ticking "same tenant": the identity column's tenant field reads contoso.onmicrosoft.com like
    the cluster column's, and its tenant and method are greyed out (disabled); the box is ticked (X); the
    description below now reads "Sign in once to tenant contoso.onmicrosoft.com (cluster and identity share it)"."""

    async def run_before(pilot: Pilot[int]) -> None:
        await pilot.pause()
        pilot.app.screen.query_one("#same-tenant", Checkbox).value = True
        await settle(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_login_invalid_tenant_is_shown_under_the_field(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The cluster tenant typed as "contoso onmicrosoft" (a space), then Enter: under the field in red "✗ a tenant
    is a tenant ID (a GUID) or a verified domain such as contoso.onmicrosoft.com"; the identity side unchanged;
    the step did not run (Run this step still enabled; a toast "Invalid values — Not run: fix Tenant (ID or
    domain)"); the description keeps the last valid tenant, contoso.onmicrosoft.com."""

    async def run_before(pilot: Pilot[int]) -> None:
        await pilot.pause()
        field = pilot.app.screen.query_one("#tenant-cluster-input", Input)
        field.value = "contoso onmicrosoft"
        field.focus()
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_login_signed_in_offers_each_sides_subscriptions(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """After the login step: each column says "Signed in as <app ID> in tenant <tenant ID>" in green, and a
    "Subscription" picker appears under it — contoso-platform pre-selected on the cluster side (the plan's, among
    two), fabrikam-shared on the identity side; the button reads "Continue ▶"."""
    app = _app(tmp_path)
    signed_in(app)

    async def run_before(pilot: Pilot[int]) -> None:
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, LoginScreen)
        screen.post_message(StepFinished("login", None))
        await pilot.pause()
        screen.show_subscriptions("cluster", [SUB_A, SUB_A2])
        screen.show_subscriptions("identity", [SUB_B])
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
