"""A lookup that fails, or finds nothing, says so where its result would have been, with what to do — never a
screen stuck on "Looking up…": the cluster list against a sandbox that stopped answering (real SDK, real HTTPS,
the app's one error handler still shows its notice), and the role list over fixed data (not signed in, failed,
empty), with r to try again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.widgets import Button, Static

from tests.tui.form_screens import FormApp, session_at
from tests.tui.seed_app import open_seed_plan, seed_app
from wizard.diagnose import diagnose
from wizard.sandbox import Sandbox
from wizard.tui.screens.cluster import LOOKING_UP, ClusterScreen
from wizard.tui.screens.role import LOADING, RoleScreen


def test_a_failed_cluster_lookup_says_why_and_r_looks_again(make_sandbox: Callable[..., Sandbox],
                                                             tmp_path: Path) -> None:
    box = make_sandbox()

    async def drive() -> tuple[str, str, list[str]]:
        app = seed_app(box.state_dir / "endpoints.json", tmp_path)
        notices: list[str] = []
        notify = app.notify

        def recording(message: str, *args: Any, **kwargs: Any) -> None:
            notices.append(str(kwargs.get("title", "")))
            notify(message, *args, **kwargs)

        app.notify = recording  # type: ignore[method-assign]
        async with app.run_test(size=(120, 40)) as pilot:
            await open_seed_plan(app, pilot)
            for _ in range(2):  # sign in, then continue to the cluster step
                app.screen.query_one("#run", Button).press()
                await pilot.pause()
                await app.workers.wait_for_complete()
                await pilot.pause(0.2)
            screen = app.screen
            assert isinstance(screen, ClusterScreen) and len(screen.clusters) == 2
            box.stop()  # the cloud stops answering
            await pilot.press("r")
            await pilot.pause()
            status = screen.query_one("#cluster-status", Static)
            looking = str(status.render())
            for _ in range(150):  # the SDK retries the refused connection a few times first
                if str(status.render()) != LOOKING_UP:
                    break
                await pilot.pause(0.1)
            await pilot.pause()
            return looking, str(status.render()), notices

    looking, status, notices = asyncio.run(drive())
    assert looking == LOOKING_UP, "a new lookup says it is looking again"
    assert status.startswith("✗ Could not list the clusters: ") and status.endswith(". Press r to retry."), status
    assert "Something went wrong" in notices, "the one error handler still shows the details"


def test_the_role_list_says_sign_in_first_then_why_it_failed_then_that_it_is_empty(tmp_path: Path) -> None:
    async def drive() -> list[tuple[str, bool]]:
        app = FormApp(tmp_path, session_at("role"))
        seen: list[tuple[str, bool]] = []
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, RoleScreen)
            line = screen.query_one("#role-description", Static)

            def look() -> None:
                seen.append((str(line.render()), line.has_class("-failed")))

            look()
            screen.show_role_definitions(None)  # what the lookup gives before the identity side has signed in
            look()
            screen.show_lookup_failure(diagnose(ConnectionRefusedError(111, "Connection refused")))
            look()
            await pilot.press("r")
            await pilot.pause()
            look()
            screen.show_role_definitions([])
            look()
        return seen

    seen = asyncio.run(drive())
    assert seen[0] == (LOADING, False)
    assert seen[1] == ("Sign in first (the Sign in step) to pick from the identity tenant's roles; the plan's role "
                       "Reader is used as is.", False)
    assert seen[2][0].startswith("✗ Could not list the tenant's roles: ") and seen[2][1], seen[2]
    assert "Press r to retry" in seen[2][0]
    assert seen[3] == (LOADING, False), "r looks again"
    assert seen[4] == ("The identity tenant listed no roles; the plan's role Reader is used as is. Press r to look "
                       "again.", False)
