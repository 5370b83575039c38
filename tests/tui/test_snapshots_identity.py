"""Snapshots of the identity screen over a fixed session (the seed plan, signed in, cluster found) with fixed
lookup results fed through the screen's `show_…` methods: no sandbox, no clock."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Checkbox, Input

from tests.tui.form_screens import GROUPS, IDENTITIES, LOCATIONS, FormApp, session_at, settle
from wizard.tui.screens.identity import IdentityScreen


async def _looked_up(pilot: Pilot[int]) -> IdentityScreen:
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, IdentityScreen)
    screen.show_resource_groups(GROUPS)
    screen.show_locations(LOCATIONS)
    screen.show_identities(IDENTITIES)
    return screen


def test_identity_screen_filled_from_the_plan_at_80x24(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """At 80×24: "Identity" with the context line (tenant fabrikam.onmicrosoft.com, subscription fabrikam-shared);
    one line each for Resource group = rg-wi-demo (note "exists: rg-wi-demo (eastus)"), Location = eastus (no
    note: a known region), Identity name = mi-wi-demo (note "new: the step creates it"), each with its "Pick …"
    list; the resource group field focused (tinted); the unticked "Reuse an existing identity" box; the first lines
    of the description (it scrolls); the Run this step / Back buttons still on screen; the footer shows "^r Run this
    step" and "^b Back" (the keys that work from a text field)."""

    async def run_before(pilot: Pilot[int]) -> None:
        await _looked_up(pilot)
        await settle(pilot)

    assert snap_compare(FormApp(tmp_path, session_at("identity")), terminal_size=(80, 24), run_before=run_before)


def test_identity_screen_refuses_to_run_with_invalid_names(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The resource group typed as "rg wi demo!" and the identity name as "mi", then Enter: both fields are red
    with the rule under each ("a resource group name is 1–90 letters, …" and "a managed identity name is 3–128
    …"), the resource group field has the focus, and a warning toast lists both; the step did not run. The
    description still names rg-wi-demo / mi-wi-demo: invalid values never reach the plan."""

    async def run_before(pilot: Pilot[int]) -> None:
        screen = await _looked_up(pilot)
        screen.query_one("#rg-field-input", Input).value = "rg wi demo!"
        screen.query_one("#name-field-input", Input).value = "mi"
        screen.query_one("#name-field-input", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.ran == []  # type: ignore[attr-defined]

    assert snap_compare(FormApp(tmp_path, session_at("identity")), terminal_size=(100, 34), run_before=run_before)


def test_identity_screen_reusing_a_picked_identity(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Reuse ticked and mi-billing-reader picked from the identities list: the resource group became rg-shared
    ("exists: rg-shared (westeurope)"), the location westeurope, the name note says "mi-billing-reader in rg-shared
    (westeurope) will be used"; the description says "Use the existing user-assigned managed identity
    mi-billing-reader … It must exist; nothing is created." with only the `az identity show` command."""

    async def run_before(pilot: Pilot[int]) -> None:
        screen = await _looked_up(pilot)
        screen.query_one("#reuse", Checkbox).value = True
        from textual.widgets import Select

        screen.query_one("#name-pick", Select).value = "mi-billing-reader"
        await settle(pilot)

    assert snap_compare(FormApp(tmp_path, session_at("identity")), terminal_size=(100, 34), run_before=run_before)
