"""The device-code and diagnosis modals driven with Pilot over a step screen built from fixed data."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from textual.widgets import Button, LoadingIndicator, Log, Static

from tests.tui.fixed_screens import DEVICE_CODE, DEVICE_URI, EXPIRES_ON, FixedStepApp, trust_diagnosis
from tests.tui.seed_app import open_seed_plan, seed_app
from wizard.engine import Engine
from wizard.sandbox import Sandbox
from wizard.steps.base import Event
from wizard.tui.messages import StepFinished
from wizard.tui.screens.device_code import DeviceCodeModal
from wizard.tui.screens.diagnosis import DiagnosisModal
from wizard.tui.screens.step import StepScreen


def _text(app: FixedStepApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def test_device_code_prompt_shows_url_and_code_and_closes_when_the_login_step_finishes(tmp_path: Path) -> None:
    async def drive() -> None:
        app = FixedStepApp(tmp_path, "login")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            # The credential calls its prompt on the login worker's thread.
            await asyncio.to_thread(app._device_code, DEVICE_URI, DEVICE_CODE, EXPIRES_ON)
            await pilot.pause()
            assert isinstance(app.screen, DeviceCodeModal)
            assert _text(app, "#dc-uri") == DEVICE_URI
            assert _text(app, "#dc-code") == DEVICE_CODE
            assert _text(app, "#dc-expiry") == "The code expires at 09:45:00 UTC."
            assert app.screen.query(LoadingIndicator)
            await asyncio.to_thread(app._report, Event("login", "Waiting for the device code to be entered"))
            app.screen.post_message(StepFinished("cluster", None))  # another step's end leaves it up
            await pilot.pause()
            assert isinstance(app.screen, DeviceCodeModal)
            app.screen.post_message(StepFinished("login", None))
            await pilot.pause()
            assert isinstance(app.screen, StepScreen), "the modal closes itself when the login step finishes"
            # The step screen beneath got the messages the modal received while it was up.
            assert str(app.screen.query_one("#run", Button).label) == "Continue ▶"
            assert "· Waiting for the device code to be entered" in app.screen.query_one("#events", Log).lines

    asyncio.run(drive())


def test_device_code_copy_button_copies_the_code_and_escape_closes_the_modal(tmp_path: Path) -> None:
    async def drive() -> None:
        app = FixedStepApp(tmp_path, "login")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            app.push_screen(DeviceCodeModal(DEVICE_URI, DEVICE_CODE, EXPIRES_ON))
            await pilot.pause()
            await pilot.click("#dc-copy")
            assert app.clipboard == DEVICE_CODE
            await pilot.click("#dc-copy-uri")
            assert app.clipboard == DEVICE_URI
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, StepScreen)
            assert str(app.screen.query_one("#run", Button).label) == "Run this step", "nothing else happened"

    asyncio.run(drive())


def test_diagnosis_modal_go_to_button_dismisses_with_the_step_that_fixes_it(tmp_path: Path) -> None:
    diagnosis = trust_diagnosis()
    results: list[str | None] = []

    async def drive() -> None:
        app = FixedStepApp(tmp_path, "trust")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            app.push_screen(DiagnosisModal(diagnosis), results.append)
            await pilot.pause()
            assert _text(app, "#dg-title") == "✗ Issuer mismatch"
            assert _text(app, "#dg-code") == "AADSTS700211"
            assert _text(app, "#dg-cause") == diagnosis.cause
            assert _text(app, "#dg-fix") == diagnosis.fix
            assert "AADSTS700211: No matching federated identity record" in _text(app, "#dg-detail")
            await pilot.click("#dg-copy")
            assert app.clipboard == diagnosis.detail
            assert str(app.screen.query_one("#dg-goto", Button).label) == "Go to the federation step"
            await pilot.click("#dg-goto")
            await pilot.pause()
            assert isinstance(app.screen, StepScreen)

    asyncio.run(drive())
    assert results == ["federation"]


def test_a_failed_step_screen_opens_its_diagnosis_with_d_and_revisits_the_step_it_names(tmp_path: Path) -> None:
    async def drive() -> None:
        app = FixedStepApp(tmp_path, "trust", done=("login", "cluster", "identity", "role", "federation"),
                           diagnosis=trust_diagnosis())
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert app.screen.query_one("#details", Button).display, "a failed step offers its details"
            await pilot.press("d")
            await pilot.pause()
            assert isinstance(app.screen, DiagnosisModal)
            await pilot.press("escape")  # closing it revisits nothing
            await pilot.pause()
            assert isinstance(app.screen, StepScreen) and app.revisited == []
            await pilot.click("#details")
            await pilot.pause()
            await pilot.click("#dg-goto")
            await pilot.pause()
            assert app.revisited == ["federation"]

    asyncio.run(drive())


def test_a_step_screen_without_a_failure_offers_no_details(tmp_path: Path) -> None:
    async def drive() -> None:
        app = FixedStepApp(tmp_path, "cluster", done=("login",))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert not app.screen.query_one("#details", Button).display
            await pilot.press("d")
            await pilot.pause()
            assert isinstance(app.screen, StepScreen)

    asyncio.run(drive())


def test_go_to_step_revisits_it_through_the_engine_and_a_flow_move_closes_any_modal(
        make_sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    """Through the real engine over a private sandbox, signed in and on the cluster step: a diagnosis's "Go to the
    login step" button moves the flow back to login through `app.revisit`; a flow move while a modal is up closes
    the modal and switches the step screen beneath (the stack never grows). An unknown step leaves the flow and
    the screen where they were (the app shows the FlowError as a notice instead of crashing)."""
    box = make_sandbox()
    endpoints = box.state_dir / "endpoints.json"

    async def drive() -> None:
        app = seed_app(endpoints, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await open_seed_plan(app, pilot)
            assert isinstance(app.screen, StepScreen) and app.screen.step == "login"
            for _ in range(2):  # run, then continue
                app.screen.query_one("#run", Button).press()
                await pilot.pause()
                await app.workers.wait_for_complete()
                await pilot.pause(0.2)
            assert isinstance(app.screen, StepScreen) and app.screen.step == "cluster"
            depth = len(app.screen_stack)
            # A diagnosis that names the login step, through the Details button and the modal's "Go to" button.
            app.screen._show_diagnosis(replace(trust_diagnosis(), step="login"))
            await pilot.pause()
            await pilot.click("#details")
            await pilot.pause()
            assert isinstance(app.screen, DiagnosisModal)
            await pilot.click("#dg-goto")
            await pilot.pause(0.2)
            assert isinstance(app.screen, StepScreen) and app.screen.step == "login"
            assert len(app.screen_stack) == depth
            # A flow move while a modal is up (the device-code modal when the login fails) closes the modal.
            app.push_screen(DeviceCodeModal(DEVICE_URI, DEVICE_CODE, EXPIRES_ON))
            await pilot.pause()
            app.revisit("cluster")
            await pilot.pause(0.2)
            assert isinstance(app.screen, StepScreen) and app.screen.step == "cluster"
            assert len(app.screen_stack) == depth
            app.revisit("no-such-step")
            await pilot.pause()
            assert isinstance(app.screen, StepScreen) and app.screen.step == "cluster"
            assert isinstance(app.engine, Engine) and app.engine.flow.state == "cluster"

    asyncio.run(drive())
