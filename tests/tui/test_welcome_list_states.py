"""The welcome screen's resume list over fixed sessions (no sandbox): a session another wi-wizard has open is
listed as such and never read, set aside or locked here (not even an unreadable one), and a session whose set-up
was torn down says "torn down" instead of "at step start"."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import DataTable, Static

from tests.tui.seed_app import SEED
from tests.tui.test_snapshots_welcome import saved_sessions
from tests.tui.test_welcome_summary_palette import RecordingApp
from wizard import plan as plan_mod
from wizard.session import Outcome, Session, SessionStore, Target
from wizard.tui.commands import wizard_commands


def _rows(app: RecordingApp) -> dict[str, list[str]]:
    table = app.screen.query_one("#sessions", DataTable)
    return {str(key.value): [str(cell) for cell in table.get_row(key)] for key in table.rows}


def _detail(app: RecordingApp) -> str:
    return str(app.screen.query_one("#session-detail", Static).render())


def test_a_session_open_in_another_wi_wizard_is_listed_with_its_pid_and_never_set_aside(
        tmp_path: Path, other_process: int) -> None:
    store = saved_sessions(tmp_path / "sessions")  # "broken" is not JSON: listing it would set it aside
    for name in ("broken", "seed-demo"):
        (store.directory / f"{name}.lock").write_text(str(other_process))
    before = {p.name: p.read_bytes() for p in store.directory.iterdir()}
    held = f"open in another wi-wizard (pid {other_process})"

    async def drive() -> tuple[dict[str, list[str]], str, list[str]]:
        app = RecordingApp(store)
        async with app.run_test(size=(110, 30)) as pilot:
            await pilot.pause()
            rows = _rows(app)
            app.screen.query_one("#sessions").focus()
            await pilot.press("down", "down")  # "broken"
            await pilot.pause()
            detail = _detail(app)
            await pilot.press("enter")  # resuming it is refused here, before any lock is tried
            await pilot.pause()
            commands = [text for text, _, _ in wizard_commands(app, app.screen)]
            assert app.opened == []
            return rows, detail, commands

    rows, detail, commands = asyncio.run(drive())

    assert {p.name: p.read_bytes() for p in store.directory.iterdir()} == before, "nothing moved, locked or written"
    assert rows["broken"][2] == held and rows["seed-demo"][2] == held
    assert rows["prod-payments"][2] == "failed", "a session nobody holds reads as before"
    assert detail.startswith(f"broken is {held}: close it there to resume it here")
    assert "Resume prod-payments" in commands and "Resume seed-demo" not in commands


def test_a_torn_down_session_says_torn_down_in_the_list_and_its_detail(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    session = Session("torn", plan_mod.load(SEED), target=Target("sandbox", "/fixed/endpoints.json"),
                      state="start", created_at="2026-01-14T08:00:00Z")
    session.outcomes["login"] = Outcome("done", "signed in")
    session.outcomes["cluster"] = Outcome("done", "found")
    for step in ("identity", "role", "federation", "trust", "deploy", "logs"):
        session.outcomes[step] = Outcome("pending", "removed by teardown")
    session.outcomes["teardown"] = Outcome("done", "Torn down", at="2026-01-15T10:00:00Z")
    store.save(session)
    rebuilt = Session("rebuilt", plan_mod.load(SEED), state="role", outcomes=dict(session.outcomes))
    rebuilt.outcomes["identity"] = Outcome("done", "created again")  # built again since: no longer torn down
    store.save(rebuilt)

    async def drive() -> tuple[dict[str, list[str]], str]:
        app = RecordingApp(store)
        async with app.run_test(size=(110, 30)) as pilot:
            await pilot.pause()
            app.screen.query_one("#sessions").focus()
            await pilot.press("down")  # "torn" is older
            await pilot.pause()
            return _rows(app), _detail(app)

    rows, detail = asyncio.run(drive())

    assert rows["torn"][2] == "torn down"
    assert "Created   0 resources · torn down 2026-01-15T10:00:00Z · started 2026-01-14T08:00:00Z" in detail
    assert rows["rebuilt"][2] == "Role"
