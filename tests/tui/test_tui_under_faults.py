"""The TUI under every fault profile at once: the seed flow driven through the screens (Pilot, each step screen's Run
then Continue) against a private sandbox that throttles, fails, resets connections, runs a slow cluster update and
delays the federated credential and role assignment, still reaches "Access proven", raises no error notification,
and each step screen's event log shows what it waited for."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Button, Log, Static

from tests.tui.seed_app import open_seed_plan, record_errors, screen_ready, seed_app
from wizard.sandbox import Sandbox
from wizard.tui.screens.done import DoneScreen
from wizard.tui.screens.step import StepScreen

# Propagation delays are on but short: under the transport faults the steps before the trust check outlast them, so
# their waits are proven by `apply` (tests/engine/test_faults_apply.py); here the flow must simply get through.
FAULTS = "all=1,throttle=0.1,slow-lro=2"
# What each screen's event log must show it waited for (the same waits `apply` prints).
SEEN_WAITING = {
    "cluster": ["Updating cluster aks-wi-demo (OIDC issuer + workload identity): InProgress",
                "the call is retried"],
    "deploy": ["created pod default/wi-demo-app"],
}
RETRIED = ("ARM asks to slow down (429)", "ARM is unavailable (503)", "The connection to ARM was reset")


def test_the_seed_flow_in_the_tui_reaches_access_proven_under_all_faults_showing_its_waits(
        make_sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    box = make_sandbox(faults=FAULTS)
    logs, errors, verdict = asyncio.run(_drive(box.state_dir / "endpoints.json", tmp_path))

    assert "Access proven" in verdict
    assert errors == []
    assert list(logs) == ["login", "cluster", "identity", "role", "federation", "trust", "deploy", "logs"]
    for step, expected in SEEN_WAITING.items():
        for what in expected:
            assert any(what in line for line in logs[step]), f"{step} log lacks {what!r}:\n" + "\n".join(logs[step])
    everything = [line for lines in logs.values() for line in lines]
    for retried in RETRIED:
        assert any(retried in line for line in everything), f"no screen showed {retried!r}"
    assert not any("Traceback" in line for line in everything)


async def _drive(endpoints: Path, tmp_path: Path) -> tuple[dict[str, list[str]], list[str], str]:
    app = seed_app(endpoints, tmp_path)
    errors = record_errors(app)
    logs: dict[str, list[str]] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await open_seed_plan(app, pilot)
        for _ in range(12):
            await screen_ready(app, pilot)
            screen = app.screen
            if isinstance(screen, DoneScreen):
                break
            assert isinstance(screen, StepScreen), type(screen)
            screen.query_one("#run", Button).press()
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause(0.2)
            logs[screen.step] = [str(line) for log in screen.query(Log) for line in log.lines]  # logs: two Logs
            assert str(screen.query_one("#run", Button).label) == "Continue ▶", \
                f"{screen.step} did not finish:\n" + "\n".join(logs[screen.step])
            screen.query_one("#run", Button).press()
            await pilot.pause(0.2)
        assert isinstance(app.screen, DoneScreen), f"stopped at {list(logs)[-1]}"
        verdict = str(app.screen.query_one("#verdict", Static).render())
    return logs, errors, verdict
