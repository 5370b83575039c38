"""The screens hold the session they show: while the TUI has a session open, a headless `resume` of it is refused
naming the TUI's PID (and the lock goes when the TUI closes); a session another process holds is not opened — an
error notification names that process, and the file is not written."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tests.engine.cli_support import SEED_PLAN, no_traceback, wizard
from tests.tui.seed_app import record_errors
from wizard import plan as plan_mod
from wizard import target
from wizard.sandbox import Sandbox
from wizard.session import Session, SessionStore, Target, now_iso
from wizard.tui.app import WizardApp


def _app(box: Sandbox) -> tuple[WizardApp, list[str]]:
    endpoints = box.state_dir / "endpoints.json"
    app = WizardApp(store=SessionStore(), cloud=lambda: target.sandbox(endpoints), target_label="SANDBOX")
    return app, record_errors(app)


def _saved(box: Sandbox, name: str) -> Path:
    store = SessionStore()
    store.save(Session(name, plan_mod.load(SEED_PLAN), Target("sandbox", str(box.state_dir / "endpoints.json"))))
    return store.path(name)


def test_a_headless_resume_of_a_session_open_in_the_tui_is_refused_naming_the_tuis_pid(sandbox: Sandbox) -> None:
    path = _saved(sandbox, "on-screen")
    lock = SessionStore().directory / "on-screen.lock"

    async def drive() -> subprocess.CompletedProcess[str]:
        app, errors = _app(sandbox)
        async with app.run_test(size=(120, 40)) as pilot:
            app.open_existing("on-screen")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert errors == []
            assert app.engine is not None
            assert lock.read_text() == str(os.getpid())
            refused = await asyncio.to_thread(wizard, "resume", "on-screen", "--headless")
        return refused

    refused = asyncio.run(drive())

    assert refused.returncode == 2
    assert f"session 'on-screen' is open in another wi-wizard (pid {os.getpid()}); close that one first" \
        in refused.stderr
    no_traceback(refused)
    assert not lock.exists(), "closing the TUI released the session"
    assert path.exists()


def test_the_tui_does_not_open_a_session_another_process_holds(sandbox: Sandbox) -> None:
    path = _saved(sandbox, "elsewhere")
    path.write_text(path.read_text().replace(f'"updated_at": "{now_iso()[:4]}', '"updated_at": "2020'))
    before = path.read_bytes()  # dated 2020: any save would change it
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    lock = SessionStore().directory / "elsewhere.lock"
    lock.write_text(str(holder.pid))
    try:
        async def drive() -> list[str]:
            app, errors = _app(sandbox)
            async with app.run_test(size=(120, 40)) as pilot:
                app.open_existing("elsewhere")
                await pilot.pause()
                assert app.engine is None
            return errors

        errors = asyncio.run(drive())

        assert errors == [f"session 'elsewhere' is open in another wi-wizard (pid {holder.pid}); "
                          "close that one first"]
        assert path.read_bytes() == before, "opening would have saved it (with a new time) as this app's"
        assert lock.read_text() == str(holder.pid), "the holder's lock is left alone"
    finally:
        holder.kill()
        holder.wait()
