"""The sign-in step: the cluster's tenant (A) and the identity's tenant (B) side by side — each a tenant and a way
to sign in, or one tenant for both with "same tenant" — then, once signed in, who each side is and which of its
tenant's subscriptions the plan uses.

The tenants and methods go into the plan (and the app's login options) as they are edited and before the step
runs; the subscription choices go into the plan when the person continues. The device code, when one is asked
for, is shown by the app's modal while the step waits in its worker."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Checkbox, Input, Label, Select, Static

from wizard import discover, names
from wizard.steps.base import SIDES, Context, Side
from wizard.tui.messages import StepFinished
from wizard.tui.screens.form import FormStepScreen
from wizard.tui.widgets.field import Field

if TYPE_CHECKING:
    from wizard.azure.arm import Subscription

# (label, method) offered on each kind of cloud; the first is the default (what "auto" means there).
SANDBOX_METHODS = [("Sandbox service principal", "sandbox"), ("Device code", "device-code")]
REAL_METHODS = [("Azure CLI (az login)", "azure-cli"), ("Device code", "device-code"), ("Browser", "browser"),
                ("Service principal (env)", "service-principal")]
SIDE_TITLES = {"cluster": "Cluster tenant (A)", "identity": "Identity tenant (B)"}


def signed_in_subscriptions(side: Side, ctx: Context) -> list[Subscription] | None:
    """A side's subscriptions once the login step has signed it in (None before: there is nothing to ask yet)."""
    return discover.subscriptions(ctx, side) if side in ctx.credentials else None


class LoginScreen(FormStepScreen):
    DEFAULT_CSS = """
    LoginScreen #login-form { height: auto; }
    LoginScreen .side { width: 1fr; height: auto; padding: 0 1; border: round $panel-lighten-2; }
    LoginScreen .side Field { layout: vertical; }
    LoginScreen .side Label { color: $text-muted; }
    LoginScreen .account { height: auto; color: $text-muted; }
    LoginScreen .account.-signed-in { color: $success; }
    LoginScreen .subscription { display: none; height: auto; margin-top: 1; }
    LoginScreen .subscription.-shown { display: block; }
    LoginScreen #same-tenant { margin: 1 0 1 1; }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subscriptions: dict[str, list[Subscription]] = {}  # each signed-in side's, as last listed

    def compose_form(self) -> ComposeResult:
        plan = self.session.plan
        tenants = {"cluster": plan.cluster.tenant, "identity": plan.identity.tenant}
        same = bool(tenants["cluster"]) and tenants["cluster"].lower() == tenants["identity"].lower()
        with VerticalScroll(classes="form"):
            with Horizontal(id="login-form"):
                for side in SIDES:
                    with Vertical(classes="side", id=f"side-{side}") as column:
                        column.border_title = SIDE_TITLES[side]
                        yield Field("Tenant (ID or domain)", tenants[side], names.tenant, id=f"tenant-{side}",
                                    placeholder="contoso.onmicrosoft.com")
                        yield Label("Sign in with")
                        yield Select(self._methods(), value=self._method_of(side), allow_blank=False,
                                     id=f"method-{side}")
                        yield Static("Not signed in yet.", classes="account", id=f"account-{side}", markup=False)
                        with Vertical(classes="subscription", id=f"subscription-box-{side}"):
                            yield Label("Subscription")
                            yield Select[str]([], prompt="Pick a subscription", id=f"subscription-{side}")
            yield Checkbox("Same tenant for cluster and identity (one sign-in serves both)", same,
                           id="same-tenant")

    def on_mount(self) -> None:
        # FormStepScreen.on_mount and StepScreen.on_mount run too (compact widgets, sizes, a saved diagnosis).
        self._mirror(self._same())
        self._apply_methods()
        for side in SIDES:
            self._show_account(side)
            self._look_up_subscriptions(side)  # signed in already (back from a later step): offer them right away

    # -- what the form shows ----------------------------------------------------------------------------------

    def _is_sandbox(self) -> bool:
        cloud = getattr(self.app, "cloud", None)
        return bool(cloud.is_sandbox) if cloud is not None else self.target_label == "SANDBOX"

    def _methods(self) -> list[tuple[str, str]]:
        return SANDBOX_METHODS if self._is_sandbox() else REAL_METHODS

    def _method_of(self, side: Side) -> str:
        known = self.session.logins.get(side)
        offered = [value for _, value in self._methods()]
        return known.method if known is not None and known.method in offered else offered[0]

    def _same(self) -> bool:
        return self.query_one("#same-tenant", Checkbox).value

    def _show_account(self, side: Side) -> None:
        """Who the side is signed in as (from the login step's last successful run)."""
        outcome = self.session.outcomes.get("login")
        login = self.session.logins.get(side)
        signed_in = outcome is not None and outcome.status == "done" and login is not None and bool(login.account)
        line = self.query_one(f"#account-{side}", Static)
        line.set_class(signed_in, "-signed-in")
        line.update(f"Signed in as {login.account} in tenant {login.tenant_id}" if signed_in and login
                    else "Not signed in yet.")

    def _mirror(self, same: bool) -> None:
        """With one tenant for both, the identity side's tenant and method follow the cluster side's."""
        tenant_b = self.query_one("#tenant-identity", Field)
        method_b = self.query_one("#method-identity", Select)
        tenant_b.input.disabled = same
        method_b.disabled = same
        if same:
            tenant_b.input.value = self.query_one("#tenant-cluster", Field).input.value
            method_b.value = self.query_one("#method-cluster", Select).value

    def _look_up_subscriptions(self, side: Side) -> None:
        self.lookup(partial(signed_in_subscriptions, side), partial(self.show_subscriptions, side))

    def show_subscriptions(self, side: Side, found: list[Subscription] | None) -> None:
        """The side's subscriptions to pick from (None: not signed in, nothing to pick), the plan's pre-selected
        (or the only one)."""
        self.query_one(f"#subscription-box-{side}", Vertical).set_class(found is not None, "-shown")
        self._show_account(side)
        if found is None:
            return
        self.subscriptions[side] = found
        picker: Select[str] = self.query_one(f"#subscription-{side}", Select)
        seen = [s.name.lower() for s in found]
        picker.set_options([(s.name if seen.count(s.name.lower()) == 1 else f"{s.name} ({s.id})", s.id)
                            for s in found])
        ref = self._subscription_ref(side)
        chosen = [s for s in found if ref and discover.matches(s, ref)] or (found if len(found) == 1 else [])
        if chosen:
            picker.value = chosen[0].id

    def _subscription_ref(self, side: Side) -> str:
        plan = self.session.plan
        return plan.cluster.subscription if side == "cluster" else plan.identity.subscription

    # -- editing ----------------------------------------------------------------------------------------------

    @on(Checkbox.Changed, "#same-tenant")
    def _same_changed(self, event: Checkbox.Changed) -> None:
        self._mirror(event.value)
        self.schedule_refresh()

    @on(Input.Changed, "#tenant-cluster-input")
    def _tenant_a_changed(self, event: Input.Changed) -> None:
        # FormStepScreen.on_input_changed runs too (the plan and the description follow).
        if self._same():
            self.query_one("#tenant-identity", Field).input.value = event.value

    @on(Select.Changed, "#method-cluster, #method-identity")
    def _method_changed(self, event: Select.Changed) -> None:
        if event.select.id == "method-cluster" and self._same():
            self.query_one("#method-identity", Select).value = event.value
        self._apply_methods()
        self.schedule_refresh()

    def _apply_methods(self) -> None:
        """The login options follow the method pickers (they are not part of the plan: any login runs a plan)."""
        for side in SIDES:
            method = self.query_one(f"#method-{'cluster' if self._same() else side}", Select).value
            if isinstance(method, str):
                self.app.set_login_method(side, method)  # type: ignore[attr-defined]

    def apply_to_plan(self) -> None:
        plan = self.session.plan
        tenant_a, tenant_b = self.query_one("#tenant-cluster", Field), self.query_one("#tenant-identity", Field)
        if tenant_a.problem is None:
            plan.cluster.tenant = tenant_a.value
        source = tenant_a if self._same() else tenant_b
        if source.problem is None:
            plan.identity.tenant = source.value
        self._apply_methods()

    # -- continuing -------------------------------------------------------------------------------------------

    def commit_subscriptions(self) -> bool:
        """The picked subscriptions into the plan (the plan's own reference is kept when it names the same one).
        False, with the picker focused, when a listed side has none picked."""
        plan = self.session.plan
        for side in SIDES:
            found = self.subscriptions.get(side)
            if not found:
                continue  # not listed: the plan's subscription stands, and the next steps resolve it
            picker: Select[str] = self.query_one(f"#subscription-{side}", Select)
            if not isinstance(picker.value, str):
                self.notify(f"Pick the {side} side's subscription first.", severity="warning", markup=False)
                picker.focus()
                return False
            picked = next(s for s in found if s.id == picker.value)
            if not discover.matches(picked, self._subscription_ref(side)):
                if side == "cluster":
                    plan.cluster.subscription = picked.id
                else:
                    plan.identity.subscription = picked.id
        self.app.save_session()  # type: ignore[attr-defined]
        return True

    def action_run(self) -> None:
        if self.finished and not self.commit_subscriptions():
            return
        super().action_run()

    def on_step_finished(self, message: StepFinished) -> None:
        # StepScreen.on_step_finished runs too (button, rail, diagnosis).
        if message.step == self.step and message.diagnosis is None:
            for side in SIDES:
                self._show_account(side)
                self._look_up_subscriptions(side)
