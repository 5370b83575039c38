"""The welcome screen, the summary and the palette, driven with Pilot over fixed data (no sandbox): starting from
scratch, refusing a bad session name inline, copying a created resource's ID, refusing an export of an unfinished
session inside its modal, and the palette offering what applies."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import events
from textual.widgets import Input, Static

from tests.tui.fixed_screens import FixedStepApp, trust_diagnosis
from tests.tui.summary_fixtures import IDENTITY, proven_session
from tests.tui.test_snapshots_welcome import saved_sessions
from wizard import target
from wizard.plan import Plan
from wizard.session import Session, SessionStore
from wizard.tui.app import WizardApp
from wizard.tui.commands import wizard_commands
from wizard.tui.screens.done import DoneScreen
from wizard.tui.screens.export_modal import ExportModal


class RecordingApp(WizardApp):
    """Records what the welcome screen asks for instead of starting an engine."""

    def __init__(self, store: SessionStore, default_plan: str = "") -> None:
        super().__init__(store=store, cloud=target.real, target_label="REAL AZURE", default_plan=default_plan)
        self.opened: list[tuple[str, Plan | None]] = []

    def open_new(self, name: str, plan: Plan) -> None:
        self.opened.append((name, plan))

    def open_existing(self, name: str) -> None:
        self.opened.append((name, None))


def test_an_empty_plan_path_starts_a_blank_plan_under_a_free_name(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    store.save(Session("wi-session", Plan()))  # the default name is taken

    async def drive() -> list[tuple[str, Plan | None]]:
        app = RecordingApp(store)
        async with app.run_test() as pilot:
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            return app.opened

    (name, plan), = asyncio.run(drive())
    assert name == "wi-session-2"
    assert plan == Plan(), "a blank plan with the defaults: the step screens' forms fill it"


def test_a_bad_session_name_is_refused_inline_and_nothing_starts(tmp_path: Path) -> None:
    async def drive() -> tuple[str, list[tuple[str, Plan | None]]]:
        app = RecordingApp(SessionStore(tmp_path / "sessions"), default_plan="examples/seed-cross-tenant.toml")
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            app.screen.query_one("#session-name-input", Input).focus()
            await pilot.press(*"my demo", "enter")
            await pilot.pause()
            error = str(app.screen.query_one("#session-name .field-error", Static).render())
            return error, app.opened

    error, opened = asyncio.run(drive())
    assert "a session name is 1–64 letters" in error
    assert opened == []


def test_resuming_a_session_that_was_set_aside_starts_nothing(tmp_path: Path) -> None:
    async def drive() -> tuple[list[tuple[str, Plan | None]], str]:
        app = RecordingApp(saved_sessions(tmp_path / "sessions"))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            app.screen.query_one("#sessions").focus()
            await pilot.press("down", "down", "enter")  # "broken"
            await pilot.pause()
            await pilot.press("up", "r")  # seed-demo
            await pilot.pause()
            return app.opened, str(app.screen.query_one("#session-detail", Static).render())

    opened, detail = asyncio.run(drive())
    assert opened == [("seed-demo", None)]
    assert "Created   3 resources · at step done" in detail
    assert list((tmp_path / "sessions").glob("broken.json.unreadable-*")), "the broken file was kept aside"


def test_c_copies_the_highlighted_resource_id_and_an_unfinished_session_is_not_exported(tmp_path: Path) -> None:
    session = proven_session()
    session.outcomes["deploy"].status = "failed"

    class SummaryApp(FixedStepApp):
        def on_mount(self, event: events.Mount) -> None:
            event.prevent_default()  # the summary instead of the welcome screen
            self.push_screen(DoneScreen(session, "SANDBOX", ""))

    async def drive() -> tuple[str | None, str, list[Path]]:
        app = SummaryApp(tmp_path, "logs")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("down", "c")  # the second row: the managed identity
            copied = app.clipboard
            app.push_screen(ExportModal(session, "terraform"))
            await pilot.pause()
            assert app.screen.query_one("#ex-path", Input).value == "seed-main.tf"
            app.screen.query_one("#ex-path", Input).value = str(tmp_path / "out.tf")
            await pilot.press("enter")
            await pilot.pause()
            error = str(app.screen.query_one("#ex-error", Static).render())
            return copied, error, list(tmp_path.glob("*.tf"))

    copied, error, written = asyncio.run(drive())
    assert copied == IDENTITY
    assert "cannot be exported yet: its deploy step has failed" in error
    assert written == []


def test_the_palette_offers_the_saved_sessions_and_the_failed_steps_diagnosis(tmp_path: Path) -> None:
    saved_sessions(tmp_path / "sessions")

    async def drive() -> list[str]:
        app = FixedStepApp(tmp_path, "trust", diagnosis=trust_diagnosis())
        async with app.run_test() as pilot:
            await pilot.pause()
            return [text for text, _, _ in wizard_commands(app, app.screen)]

    texts = asyncio.run(drive())
    assert "Resume seed-demo" in texts and "Resume prod-payments" in texts
    assert not any("broken" in text for text in texts), "an unreadable session is not offered"
    assert "Run this step: Trust check" in texts and "Show the diagnosis" in texts
    assert not any(text.startswith(("Go to step", "Export", "Tear down")) for text in texts), "no session is open"


def test_a_new_session_never_takes_over_a_saved_one(tmp_path: Path) -> None:
    """The plan file's name is taken: the default becomes the next free one; a taken name typed is refused."""
    store = SessionStore(tmp_path / "sessions")
    store.save(Session("seed-cross-tenant", Plan()))

    async def drive() -> tuple[list[tuple[str, Plan | None]], str]:
        app = RecordingApp(store, default_plan="examples/seed-cross-tenant.toml")
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            app.screen.query_one("#session-name-input", Input).focus()
            await pilot.press(*"seed-cross-tenant", "enter")
            await pilot.pause()
            return app.opened, str(app.screen.query_one("#plan-error", Static).render())

    opened, error = asyncio.run(drive())
    assert [name for name, _ in opened] == ["seed-cross-tenant-2"]
    assert "a saved session is named 'seed-cross-tenant'" in error
