"""The role step: what the identity may do in its tenant — a role (picked from the tenant's built-in roles, each
with its description, least privilege first) at a scope (the identity's subscription, its resource group, or one
resource typed in).

A broad role (Owner, Contributor, the two role-assignment admins, or any role allowing every action) at a whole
subscription is allowed but warned about: the workload would be able to change or delete everything there.

The screen edits the plan's first role grant; a plan with several (from a plan file) shows the others read-only
and the step assigns them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import OptionList, RadioButton, RadioSet, Static
from textual.widgets.option_list import Option

from wizard import names
from wizard.diagnose import Diagnosis
from wizard.plan import RoleGrant
from wizard.steps.base import Context
from wizard.tui.screens.form import FormStepScreen, lookup_failure
from wizard.tui.widgets.field import Field

if TYPE_CHECKING:
    from wizard.azure.arm import RoleDefinition

# Roles that may change anything (or hand out access to anything) in their scope.
LOADING = "Loading the tenant's roles…"
BROAD_ROLES = frozenset({"owner", "contributor", "user access administrator",
                         "role based access control administrator"})
SCOPES = ("subscription", "resource-group", "resource")


def is_broad(role: str, definition: RoleDefinition | None) -> bool:
    """Whether a role can do (or grant) everything: by name, or because its actions include "*"."""
    return role.strip().lower() in BROAD_ROLES or (definition is not None and "*" in definition.actions)


def broad_warning(grant: RoleGrant, definition: RoleDefinition | None) -> str:
    """The warning for a broad role at subscription scope ("" when there is nothing to warn about)."""
    if grant.scope != "subscription" or not is_broad(grant.role, definition):
        return ""
    return (f"⚠ {grant.role} on the whole subscription lets the workload change or delete everything in it (and "
            "grant access to others, for the admin roles). Prefer Reader or a narrower scope; it is still allowed.")


class RoleScreen(FormStepScreen):
    DEFAULT_CSS = """
    RoleScreen #roles { height: 6; text-wrap: nowrap; text-overflow: ellipsis; }
    RoleScreen #role-description { color: $text-muted; height: auto; margin-bottom: 1; }
    RoleScreen #role-description.-failed { color: $error; }
    RoleScreen #role-scope { margin-bottom: 1; }
    RoleScreen #other-grants { color: $text-muted; height: auto; }
    """
    BINDINGS = [Binding("r", "reload", "Reload roles")]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.definitions: list[RoleDefinition] = []
        # What the description line says until the tenant's roles are listed (or why they are not).
        self.roles_status = LOADING
        self.roles_failed = False

    @property
    def grant(self) -> RoleGrant:
        if not self.session.plan.roles:
            self.session.plan.roles.append(RoleGrant())
        return self.session.plan.roles[0]

    def compose_form(self) -> ComposeResult:
        grant = self.grant
        kind = grant.scope if grant.scope in SCOPES[:2] else "resource"
        with VerticalScroll(classes="form"):
            yield OptionList(Option(self._option_text(grant.role, ""), id=grant.role), id="roles", markup=False)
            yield Static("", id="role-description", markup=False)
            with RadioSet(id="role-scope"):
                yield RadioButton(f"Subscription  {self._scope_text('subscription')}", value=kind == "subscription",
                                  id="scope-subscription")
                yield RadioButton(f"Resource group  {self._scope_text('resource-group')}",
                                  value=kind == "resource-group", id="scope-resource-group")
                yield RadioButton("One resource (its ID)", value=kind == "resource", id="scope-resource")
            yield Field("Resource ID", grant.scope if kind == "resource" else "", names.scope, id="scope-id",
                        placeholder="/subscriptions/<id>/resourceGroups/<group>/providers/…")
            yield Static("", id="broad-warning", classes="form-warning", markup=False)
            yield Static(self._other_grants(), id="other-grants", markup=False)

    def on_mount(self) -> None:
        self.query_one("#scope-id", Field).display = self._scope_kind() == "resource"
        self.query_one("#other-grants", Static).display = len(self.session.plan.roles) > 1
        self._show_warning()
        self.action_reload()

    def action_reload(self) -> None:
        self._roles_status(LOADING)
        self.lookup(_definitions, self.show_role_definitions, self.show_lookup_failure)

    def _roles_status(self, line: str, failed: bool = False) -> None:
        self.roles_status, self.roles_failed = line, failed
        self._show_warning()

    def show_lookup_failure(self, diagnosis: Diagnosis) -> None:
        """Listing the roles failed (the app's notice has the details): say so, and how to try again."""
        self._roles_status(lookup_failure("the tenant's roles", diagnosis,
                                          f"; the plan's role {self.grant.role} is used as is"), failed=True)

    def first_focus(self) -> OptionList:
        return self.query_one("#roles", OptionList)  # Enter on the highlighted role runs the step

    # -- what is shown ------------------------------------------------------------------------------------------

    def _scope_text(self, kind: str) -> str:
        values = self.session.outcomes["identity"].values if "identity" in self.session.outcomes else {}
        if kind == "subscription":
            sub = values.get("subscription_id", "")
            return f"/subscriptions/{sub}" if sub else f"({self.session.plan.identity.subscription})"
        return values.get("resource_group_id", "") or f"({self.session.plan.identity.resource_group})"

    @staticmethod
    def _option_text(role: str, description: str) -> Text:
        """One line per role (the highlighted role's description is shown in full under the list)."""
        text = Text.assemble((f"{role} ", "bold"), (f"— {description}" if description else "", "dim"))
        text.no_wrap = True
        text.overflow = "ellipsis"
        return text

    def _other_grants(self) -> str:
        others = self.session.plan.roles[1:]
        if not others:
            return ""
        return ("This screen edits the first role; the plan also assigns (edit the plan file to change them): "
                + "; ".join(f"{g.role} on {g.scope}" for g in others))

    def show_role_definitions(self, definitions: list[RoleDefinition] | None) -> None:
        """The roles to pick from (Reader first); the plan's role stays highlighted (listed even when the tenant
        does not offer it by that name, e.g. a role definition ID). None: the identity side is not signed in."""
        if definitions is None:
            self._roles_status(f"Sign in first (the Sign in step) to pick from the identity tenant's roles; the "
                               f"plan's role {self.grant.role} is used as is.")
            return
        if not definitions:
            self._roles_status(f"The identity tenant listed no roles; the plan's role {self.grant.role} is used as "
                               "is. Press r to look again.")
            return
        self.roles_failed = False
        self.definitions = list(definitions)
        roles = self.query_one("#roles", OptionList)
        current = self.grant.role
        options = [Option(self._option_text(d.role_name, d.description), id=d.role_name) for d in definitions]
        if self._definition(current) is None:
            options.insert(0, Option(self._option_text(current, "(the plan's role)"), id=current))
        found = self._definition(current)
        key = (found.role_name if found is not None else current).lower()
        with roles.prevent(OptionList.OptionHighlighted):
            roles.set_options(options)
            roles.highlighted = next((i for i, o in enumerate(options) if o.id is not None and o.id.lower() == key), 0)
        roles.scroll_to_highlight(top=True)
        self._show_warning()

    def _definition(self, role: str) -> RoleDefinition | None:
        return next((d for d in self.definitions if d.role_name.lower() == role.lower()
                     or d.guid == role.lower() or d.id.lower() == role.lower()), None)

    def _scope_kind(self) -> str:
        pressed = self.query_one("#role-scope", RadioSet).pressed_button
        return pressed.id.removeprefix("scope-") if pressed is not None and pressed.id else "subscription"

    def _show_warning(self) -> None:
        definition = self._definition(self.grant.role)
        line = self.query_one("#role-description", Static)
        line.update(f"{definition.role_name}: {definition.description}" if definition else self.roles_status
                    if not self.definitions else f"{self.grant.role}: not a built-in role of this tenant")
        line.set_class(self.roles_failed and not self.definitions, "-failed")
        self.query_one("#broad-warning", Static).update(broad_warning(self.grant, definition))
        self.tidy()

    # -- editing ------------------------------------------------------------------------------------------------

    def apply_to_plan(self) -> None:
        grant = self.grant
        roles = self.query_one("#roles", OptionList)
        if roles.highlighted is not None:
            chosen = roles.get_option_at_index(roles.highlighted).id
            if chosen and names.role(chosen) is None:
                grant.role = chosen
        kind = self._scope_kind()
        if kind != "resource":
            grant.scope = kind
        elif (field := self.query_one("#scope-id", Field)).problem is None:
            grant.scope = field.value

    def form_changed(self) -> None:
        self._show_warning()

    @on(OptionList.OptionHighlighted, "#roles")
    def _role_highlighted(self) -> None:
        self.apply_to_plan()  # at once: the warning follows the highlight as the arrows move
        self._show_warning()
        self.schedule_refresh()

    @on(OptionList.OptionSelected, "#roles")
    def _role_selected(self) -> None:
        self.action_run()  # Enter on a role: that one, run

    @on(RadioSet.Changed, "#role-scope")
    def _scope_changed(self) -> None:
        resource = self._scope_kind() == "resource"
        field = self.query_one("#scope-id", Field)
        field.display = resource
        if resource:
            field.input.focus()
        self.apply_to_plan()
        self._show_warning()
        self.schedule_refresh()


def _definitions(ctx: Context) -> list[RoleDefinition] | None:
    """The identity tenant's built-in roles (None before the identity side has signed in: a resumed session)."""
    from wizard import discover
    from wizard.steps.armsupport import known, subscription

    if "identity" not in ctx.credentials:
        return None

    sub = known(ctx, "identity", "subscription_id") or subscription(ctx, "identity").id
    return discover.role_definitions(ctx, f"/subscriptions/{sub}", "identity")
