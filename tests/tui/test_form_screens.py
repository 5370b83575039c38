"""The identity, role and deploy forms over fixed sessions (no sandbox): what they write into the plan, when they
refuse to run, and the rules behind their warnings."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, Input, OptionList, RadioButton, Select, TextArea

from tests.tui.form_screens import GROUPS, IDENTITIES, LOCATIONS, ROLES, FormApp, on_screen, session_at
from wizard.plan import PROBE_IMAGE, RoleGrant
from wizard.tui.messages import StepFinished
from wizard.tui.screens.deploy import DeployScreen, env_problems, parse_env, subject_note
from wizard.tui.screens.identity import IdentityScreen
from wizard.tui.screens.role import RoleScreen, broad_warning


def test_enter_on_the_prefilled_identity_form_runs_the_step_and_saves(tmp_path: Path) -> None:
    async def check(app: FormApp, pilot: Pilot[int]) -> None:
        assert isinstance(app.screen, IdentityScreen)
        assert isinstance(app.focused, Input)  # the first field: Enter goes straight to Run
        await pilot.press("enter")
        await pilot.pause()
        assert app.ran == ["identity"] and app.saves == 1

    on_screen(tmp_path, session_at("identity"), check)


def test_picking_an_identity_to_reuse_writes_its_group_and_location_into_the_plan(tmp_path: Path) -> None:
    session = session_at("identity")

    async def check(app: FormApp, pilot: Pilot[int]) -> None:
        screen = app.screen
        assert isinstance(screen, IdentityScreen)
        screen.show_resource_groups(GROUPS)
        screen.show_locations(LOCATIONS)
        screen.show_identities(IDENTITIES)
        screen.query_one("#reuse", Checkbox).value = True
        await pilot.pause()
        screen.action_run()  # mi-wi-demo does not exist in rg-wi-demo: reuse cannot run
        await pilot.pause()
        assert app.ran == []
        assert "Reuse is on" in str(screen.query_one("#reuse-problem").render())
        screen.query_one("#name-pick", Select).value = "mi-legacy"
        await pilot.pause(0.5)
        screen.action_run()
        await pilot.pause()
        i = session.plan.identity
        assert (i.name, i.resource_group, i.location, i.reuse) == ("mi-legacy", "rg-data", "northeurope", True)
        assert app.ran == ["identity"]

    on_screen(tmp_path, session, check)


def test_an_invalid_value_never_reaches_the_plan(tmp_path: Path) -> None:
    session = session_at("identity")

    async def check(app: FormApp, pilot: Pilot[int]) -> None:
        app.screen.query_one("#location-field-input", Input).value = "East US"
        await pilot.pause(0.5)
        assert session.plan.identity.location == "eastus"
        assert "a location is an Azure region name" in str(app.screen.query_one("#location .field-error").render())

    on_screen(tmp_path, session, check)


def test_role_picker_writes_the_highlighted_role_and_the_typed_scope(tmp_path: Path) -> None:
    session = session_at("role")

    async def check(app: FormApp, pilot: Pilot[int]) -> None:
        screen = app.screen
        assert isinstance(screen, RoleScreen)
        screen.show_role_definitions(ROLES)
        screen.query_one("#roles", OptionList).highlighted = 3  # Monitoring Reader
        screen.query_one("#scope-resource", RadioButton).value = True
        await pilot.pause()
        scope = "/subscriptions/55555555-5555-5555-5555-555555555555/resourceGroups/rg-data"
        screen.query_one("#scope-id-input", Input).value = scope
        await pilot.press("enter")
        await pilot.pause()
        assert (session.plan.roles[0].role, session.plan.roles[0].scope) == ("Monitoring Reader", scope)
        assert app.ran == ["role"]

    on_screen(tmp_path, session, check)


def test_switching_to_the_probe_drops_the_custom_image_and_env(tmp_path: Path) -> None:
    session = session_at("deploy")

    async def check(app: FormApp, pilot: Pilot[int]) -> None:
        screen = app.screen
        assert isinstance(screen, DeployScreen)
        assert screen.query_one("#env", TextArea).text.startswith("AZURE_SUBSCRIPTION_ID=${identity.")
        screen.query_one("#image-probe", RadioButton).value = True
        await pilot.pause(0.5)
        assert (session.plan.workload.image, session.plan.workload.env) == (PROBE_IMAGE, {})
        assert "WI_PROBE_RESOURCE" in screen.preview and "ttl.sh" not in screen.preview

    on_screen(tmp_path, session, check, size=(100, 40))


def test_env_lines_are_checked_with_the_plans_rules() -> None:
    env, problems = parse_env("A=1\n\n# note\nB\nA=2\nURL=https://x/?a=b\n")
    assert env == {"A": "1", "URL": "https://x/?a=b"}
    assert problems == ["line 4: expected KEY=VALUE, got 'B'", "line 5: A is set twice"]
    plan = session_at("deploy").plan
    found = env_problems(plan, {"AZURE_TENANT_ID": "x", "1BAD": "y", "OK": "${identity.nope}"})
    assert any("AZURE_TENANT_ID" in p and "set by the wizard" in p for p in found)
    assert any("1BAD" in p and "does not start with a digit" in p for p in found)
    assert any("unknown placeholder ${identity.nope}" in p for p in found)
    assert env_problems(plan, {"FINE": "${identity.client_id}"}) == []


def test_broad_roles_warn_only_at_subscription_scope() -> None:
    owner = next(d for d in ROLES if d.role_name == "Owner")
    assert broad_warning(RoleGrant("Owner", "subscription"), owner).startswith("⚠ Owner on the whole subscription")
    assert broad_warning(RoleGrant("Owner", "resource-group"), owner) == ""
    assert broad_warning(RoleGrant("Reader", "subscription"), None) == ""
    custom = ROLES[0].__class__("id", "guid", "Everything", "all", "CustomRole", ("*",))
    assert broad_warning(RoleGrant("Everything", "subscription"), custom) != ""


def test_the_subject_note_appears_when_the_service_account_differs_from_the_federation() -> None:
    session = session_at("deploy")
    assert subject_note(session) == ""
    session.plan.kubernetes.namespace = "apps"
    assert "system:serviceaccount:default:wi-demo-account" in subject_note(session)
    assert "system:serviceaccount:apps:wi-demo-account" in subject_note(session)


def test_enter_on_the_role_list_runs_and_other_grants_are_shown_read_only(tmp_path: Path) -> None:
    session = session_at("role")
    session.plan.roles.append(RoleGrant("Monitoring Reader", "resource-group"))

    async def check(app: FormApp, pilot: Pilot[int]) -> None:
        screen = app.screen
        assert isinstance(screen, RoleScreen)
        screen.show_role_definitions(ROLES)
        await pilot.pause()
        assert isinstance(app.focused, OptionList)
        others = screen.query_one("#other-grants")
        assert others.display and "Monitoring Reader on resource-group" in str(others.render())
        await pilot.press("enter")
        await pilot.pause()
        assert app.ran == ["role"]
        assert [(g.role, g.scope) for g in session.plan.roles] == [("Reader", "subscription"),
                                                                   ("Monitoring Reader", "resource-group")]

    on_screen(tmp_path, session, check)


def test_a_valid_edit_is_saved_as_it_is_made_and_an_unchanged_form_is_not(tmp_path: Path) -> None:
    session = session_at("deploy")

    async def check(app: FormApp, pilot: Pilot[int]) -> None:
        await pilot.pause(0.5)
        assert app.saves == 0  # opening the screen changes nothing
        app.screen.query_one("#namespace-input", Input).value = "apps"
        await pilot.pause(0.5)
        assert session.plan.kubernetes.namespace == "apps" and app.saves == 1

    on_screen(tmp_path, session, check, size=(100, 40))


def test_a_late_lookup_keeps_continue_but_a_real_change_asks_to_run_again(tmp_path: Path) -> None:
    async def check(app: FormApp, pilot: Pilot[int]) -> None:
        screen = app.screen
        assert isinstance(screen, RoleScreen)
        await pilot.press("enter")
        screen.post_message(StepFinished("role", None))
        await pilot.pause()
        run = screen.query_one("#run", Button)
        assert str(run.label) == "Continue ▶"
        screen.show_role_definitions(ROLES)  # the definitions arrive after the step ended
        await pilot.pause(0.5)
        assert str(run.label) == "Continue ▶"
        screen.query_one("#roles", OptionList).highlighted = 2  # Owner: the plan changes
        await pilot.pause(0.5)
        assert str(run.label) == "Run this step" and screen.session.plan.roles[0].role == "Owner"

    on_screen(tmp_path, session_at("role"), check)
