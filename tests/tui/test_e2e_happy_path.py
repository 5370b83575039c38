"""The seed scenario from launch to the proof, with key presses only, on a live sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Input, Static

from tests.tui.e2e_support import Keys, arm_exists, assert_made_in_the_sandbox
from tests.tui.seed_app import seed_app
from wizard.flow import ORDER
from wizard.sandbox import Sandbox
from wizard.tui.screens.done import DoneScreen
from wizard.tui.screens.export_modal import ExportModal
from wizard.tui.screens.teardown_modal import TeardownModal

HAPPY_PATH_KEYS = 17


def test_the_seed_scenario_is_proven_with_seventeen_presses_of_enter(
        make_sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    """17 key presses, all Enter, from launch to the summary's "Access proven" banner: 1 on the welcome screen
    (the seed plan is pre-filled), then 2 per step — run it, continue — for the 8 steps (sign in, cluster,
    identity, role, federation, trust check, deploy, live logs: the proof appears on the logs screen after the
    15th). Then the sandbox holds what the wizard says it made; `e` on the summary exports the set-up as a script;
    and `t`, confirmed, tears it down."""
    box = make_sandbox(kubelet_speed=20.0)  # pods start and stop fast: the flow, not the kubelet, is tested

    async def drive() -> None:
        app = seed_app(box.state_dir / "endpoints.json", tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            keys = Keys(app, pilot)
            await keys.settle()
            await keys.press("enter")  # the welcome screen: start from the pre-filled seed plan
            seen = await keys.enter_until_summary(limit=40)
            assert seen == list(ORDER)
            assert keys.count == HAPPY_PATH_KEYS
            screen = app.screen
            assert isinstance(screen, DoneScreen)
            assert "Access proven" in str(screen.query_one("#verdict", Static).render())
            assert_made_in_the_sandbox(box, screen.session)
            identity_id = screen.session.outcomes["identity"].values["identity_id"]

            # Export the set-up from the summary: e, the modal (the file name pre-filled, here put in tmp), Enter.
            await keys.press("e")
            export = app.screen
            assert isinstance(export, ExportModal)
            path = export.query_one("#ex-path", Input)
            assert path.value == "seed-cross-tenant-setup.sh"
            path.value = str(tmp_path / path.value)
            await keys.press("enter")
            assert app.screen is screen
            script = (tmp_path / "seed-cross-tenant-setup.sh").read_text()
            assert "az identity federated-credential create" in script and identity_id.split("/")[-1] in script

            # Then tear it down from the summary: t, the confirmation (Cancel has the focus), Tear down.
            await keys.press("t")
            assert isinstance(app.screen, TeardownModal)
            assert "mi-wi-demo" in str(app.screen.query_one("#td-items", Static).render())
            await keys.press("shift+tab", "enter")
            assert app.screen is screen
            result = str(screen.query_one("#teardown-result", Static).render())
            assert "0 failed" in result and "deleted" in result, result
            assert screen.created == [], "what is gone has left the list"
            verdict = str(screen.query_one("#verdict", Static).render())
            assert verdict.startswith("Torn down:") and "wi-wizard resume seed-cross-tenant" in verdict, verdict
            assert not arm_exists(box, screen.session, identity_id)

    asyncio.run(drive())
