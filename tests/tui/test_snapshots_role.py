"""Snapshots of the role screen over a fixed session (identity created, fixed role definitions fed through
`show_role_definitions`): no sandbox, no clock."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import OptionList

from tests.tui.form_screens import ROLES, FormApp, session_at, settle
from wizard.tui.screens.role import RoleScreen


async def _listed(pilot: Pilot[int]) -> RoleScreen:
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, RoleScreen)
    screen.show_role_definitions(ROLES)
    return screen


def test_role_screen_lists_roles_with_descriptions_reader_first(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The role list: one line per role, the name in bold and its description dimmed and cut with "…"; Reader
    (the plan's role) highlighted at the top and its full description under the list ("Reader: View all
    resources, but does not allow you to make any changes."); the scope choice with "Subscription
    /subscriptions/5555…" selected; no warning; the description assigns Reader on /subscriptions/5555…; the list
    has the focus and the footer shows "^r Run this step" (Enter on the list runs too)."""

    async def run_before(pilot: Pilot[int]) -> None:
        await _listed(pilot)
        await settle(pilot)

    assert snap_compare(FormApp(tmp_path, session_at("role")), terminal_size=(100, 34), run_before=run_before)


def test_role_screen_warns_about_owner_on_the_subscription(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Owner highlighted (two presses of ↓ from Reader) with the subscription scope: a yellow line "⚠ Owner on the
    whole subscription lets the workload change or delete everything in it …; it is still allowed." under the
    scope choice; the description and its `az role assignment create … --role Owner` command follow the choice;
    the Run button is still there (the warning does not block)."""

    async def run_before(pilot: Pilot[int]) -> None:
        screen = await _listed(pilot)
        screen.query_one("#roles", OptionList).focus()
        await pilot.press("down", "down")
        await settle(pilot)
        assert screen.session.plan.roles[0].role == "Owner"

    assert snap_compare(FormApp(tmp_path, session_at("role")), terminal_size=(100, 34), run_before=run_before)
