"""The identity step (tenant B): where the user-assigned managed identity lives and what it is called — a new one
the step creates, or an existing one it reuses.

Each name is a field checked as it is typed (the plan's own rules), with what already exists in the identity
subscription next to it (looked up once the screen opens): picking an existing identity fills in its resource
group and location too, so "reuse" is one pick away. Under each field a note says whether the step will use
something that exists or create it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Checkbox, Static

from wizard import names
from wizard.steps.base import Context
from wizard.tui.screens.form import FormStepScreen
from wizard.tui.widgets.choice_field import ChoiceField

if TYPE_CHECKING:
    from wizard.azure.arm import Identity, Location, ResourceGroup


def _signed_in(ctx: Context) -> bool:
    """Whether the identity side is signed in (a resumed session is not until its login step runs again): before,
    there is nothing to look up and the fields work without their lists."""
    return "identity" in ctx.credentials


def _identity_subscription_id(ctx: Context) -> str:
    from wizard.steps.armsupport import subscription

    return subscription(ctx, "identity").id


class IdentityScreen(FormStepScreen):
    DEFAULT_CSS = """
    IdentityScreen .choice-note.-warning { color: $warning; }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.identities: list[Identity] = []  # what the lookup found in the identity subscription

    def compose_form(self) -> ComposeResult:
        i = self.session.plan.identity
        with VerticalScroll(classes="form"):
            yield Static(f"In tenant {i.tenant}, subscription {i.subscription}", classes="form-context",
                         markup=False)
            yield ChoiceField("Resource group", i.resource_group, names.resource_group, id="rg",
                              prompt="Pick existing", existing_note="exists",
                              new_note="new: the step creates it in the location below")
            yield ChoiceField("Location", i.location, names.location, id="location", prompt="Pick region")
            yield ChoiceField("Identity name", i.name, names.identity, id="name", prompt="Pick existing")
            yield Checkbox("Reuse an existing identity (nothing is created)", i.reuse, id="reuse")
            yield Static("", id="reuse-problem", classes="form-problem", markup=False)

    def on_mount(self) -> None:
        self.query_one("#location", ChoiceField).note_hook = self._location_note
        self.query_one("#name", ChoiceField).note_hook = self._identity_note
        self.lookup(_groups, self.show_resource_groups)
        self.lookup(_locations, self.show_locations)
        self.lookup(_identities, self.show_identities)

    # -- results of the lookups ---------------------------------------------------------------------------------

    def show_resource_groups(self, groups: list[ResourceGroup] | None) -> None:
        if groups is None:
            return
        self.query_one("#rg", ChoiceField).set_choices(
            {g.name: f"{g.name} ({g.location})" for g in sorted(groups, key=lambda g: g.name.lower())})

    def show_locations(self, locations: list[Location] | None) -> None:
        if locations is None:
            return
        self.query_one("#location", ChoiceField).set_choices(
            {loc.name: f"{loc.name} ({loc.display_name})" for loc in locations})

    def show_identities(self, identities: list[Identity] | None) -> None:
        if identities is None:
            return
        self.identities = sorted(identities, key=lambda x: (x.name.lower(), x.resource_group.lower()))
        self.query_one("#name", ChoiceField).set_choices(
            {x.name: f"{x.name} ({x.resource_group}, {x.location})" for x in self.identities})
        self._refresh_notes()

    # -- the form -----------------------------------------------------------------------------------------------

    def _match(self) -> Identity | None:
        """The existing identity the form names (name and resource group), if the lookup found one."""
        name, group = self.query_one("#name", ChoiceField).value, self.query_one("#rg", ChoiceField).value
        return next((x for x in self.identities
                     if x.name.lower() == name.lower() and x.resource_group.lower() == group.lower()), None)

    def _identity_note(self, choice: ChoiceField) -> str:
        found = self._match()
        reuse = self.query_one("#reuse", Checkbox).value
        if found is not None:
            verb = "will be used" if reuse else "exists: the step uses it"
            return f"{found.name} in {found.resource_group} ({found.location}) {verb}"
        elsewhere = [x.resource_group for x in self.identities if x.name.lower() == choice.value.lower()]
        if elsewhere:
            return (f"an identity named {choice.value} is in resource group {elsewhere[0]}: pick it from the list to "
                    "use that one")
        return "no such identity here: pick one from the list" if reuse else "new: the step creates it"

    def _location_note(self, choice: ChoiceField) -> str:
        if choice.exists:
            return ""
        return f"{choice.value} is not among the subscription's regions"

    def _reuse_problem(self) -> str:
        """Reusing needs an identity that exists (known once the lookup has answered)."""
        name = self.query_one("#name", ChoiceField)
        if not self.query_one("#reuse", Checkbox).value or not name.loaded or name.problem:
            return ""
        if self._match() is None:
            return (f"✗ Reuse is on, but resource group {self.query_one('#rg', ChoiceField).value} has no identity "
                    f"named {name.value}: pick one from the list, or turn reuse off to create it.")
        return ""

    def _refresh_notes(self) -> None:
        for choice in self.query(ChoiceField):
            choice.refresh_note()
        location = self.query_one("#location", ChoiceField)
        location.query_one(".choice-note").set_class(bool(location.note()), "-warning")
        self.query_one("#reuse-problem", Static).update(self._reuse_problem())

    def extra_problems(self) -> list[str]:
        problem = self._reuse_problem()
        self.query_one("#reuse-problem", Static).update(problem)
        return [problem.removeprefix("✗ ")] if problem else []

    def apply_to_plan(self) -> None:
        i = self.session.plan.identity
        rg, location, name = (self.query_one(f"#{x}", ChoiceField) for x in ("rg", "location", "name"))
        if rg.problem is None:
            i.resource_group = rg.value
        if location.problem is None:
            i.location = location.value
        if name.problem is None:
            i.name = name.value
        i.reuse = self.query_one("#reuse", Checkbox).value

    def form_changed(self) -> None:
        self._refresh_notes()

    @on(ChoiceField.Picked, "#name")
    def _picked_identity(self, event: ChoiceField.Picked) -> None:
        """An existing identity: its resource group and location come with it."""
        found = next((x for x in self.identities if x.name == event.value), None)
        if found is not None:
            self.query_one("#rg", ChoiceField).set_value(found.resource_group)
            self.query_one("#location", ChoiceField).set_value(found.location)

    @on(Checkbox.Changed, "#reuse")
    def _reuse_changed(self) -> None:
        self.schedule_refresh()


def _groups(ctx: Context) -> list[ResourceGroup] | None:
    from wizard import discover

    return discover.resource_groups(ctx, _identity_subscription_id(ctx), "identity") if _signed_in(ctx) else None


def _locations(ctx: Context) -> list[Location] | None:
    from wizard import discover

    return discover.locations(ctx, _identity_subscription_id(ctx), "identity") if _signed_in(ctx) else None


def _identities(ctx: Context) -> list[Identity] | None:
    from wizard import discover

    return discover.identities(ctx, _identity_subscription_id(ctx), "identity") if _signed_in(ctx) else None
