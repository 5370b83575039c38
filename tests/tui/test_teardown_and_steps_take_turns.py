"""A step and a tear-down never run at the same time, and neither cancels the other: each has its own worker group
(a group cancels its running worker when another starts in it), and starting one while the other runs is refused
with a notice — as is an export while a step runs. Driven with Pilot over fixed screens; the running step or
tear-down is a worker in that group that waits until the test lets it end."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

from textual.worker import Worker, WorkerState

from tests.tui.fixed_screens import FixedStepApp
from tests.tui.form_screens import FormApp, session_at
from tests.tui.seed_app import record_notices
from wizard.tui.app import STEP_GROUP, TEARDOWN_GROUP, WizardApp


def _hold(app: WizardApp, group: str, release: threading.Event) -> Worker[None]:
    """A worker in `group` that runs until `release` is set (a step or a tear-down in progress)."""
    return app.run_worker(lambda: release.wait(10), thread=True, group=group, exclusive=True,
                          exit_on_error=False)


def _while_held(tmp_path: Path, group: str, act: Callable[[WizardApp], None]) -> tuple[WorkerState, list[str]]:
    """Over a fixed step screen, a worker in `group` stands for a running step or tear-down while `act` runs:
    (that worker's state right after `act`, every notice shown)."""

    async def drive() -> tuple[WorkerState, list[str]]:
        app = FixedStepApp(tmp_path, "cluster")
        notices = record_notices(app)
        release = threading.Event()
        async with app.run_test() as pilot:
            await pilot.pause()
            held = _hold(app, group, release)
            await pilot.pause()
            act(app)
            await pilot.pause()
            state = held.state
            release.set()
            await app.workers.wait_for_complete()
            return state, notices

    return asyncio.run(drive())


def test_a_tear_down_is_refused_while_a_step_runs_and_the_step_goes_on(tmp_path: Path) -> None:
    def start_a_tear_down_and_an_export(app: WizardApp) -> None:
        app.teardown()  # the summary's t, or the palette's "Tear down"
        app.export()

    state, notices = _while_held(tmp_path, STEP_GROUP, start_a_tear_down_and_an_export)
    assert state == WorkerState.RUNNING, "starting a tear-down did not cancel the running step"
    assert notices.count("A step is running: wait for it to finish first.") == 1, notices
    assert notices[-1] == "Start or resume a session first.", "export: refused only for want of a session here"


def test_a_step_is_refused_while_a_tear_down_runs_and_runs_once_it_has_ended(tmp_path: Path) -> None:
    async def drive() -> tuple[list[str], list[str], list[str], WorkerState]:
        app = FormApp(tmp_path, session_at("identity"))
        notices = record_notices(app)
        release = threading.Event()
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            teardown = _hold(app, TEARDOWN_GROUP, release)
            await pilot.pause()
            await pilot.press("enter")  # Enter in the first field runs the step
            await pilot.pause()
            refused, state = list(app.ran), teardown.state
            release.set()
            await app.workers.wait_for_complete()
            await pilot.press("enter")
            await pilot.pause()
            return refused, list(app.ran), notices, state

    refused, ran, notices, state = asyncio.run(drive())
    assert refused == [] and state == WorkerState.RUNNING
    assert "A tear-down is running: wait for it to finish first." in notices
    assert ran == ["identity"], "the same key runs the step once the tear-down has ended"


def test_a_second_tear_down_is_refused_while_one_runs(tmp_path: Path) -> None:
    state, notices = _while_held(tmp_path, TEARDOWN_GROUP, lambda app: app.teardown())
    assert state == WorkerState.RUNNING
    assert notices == ["A tear-down is running: wait for it to finish first."]
