"""What the first frame costs in imports: `wi-wizard` shows the welcome screen having loaded only what that screen
needs (sessions, plans, the flow's states); the engine, the steps, diagnosis, the cloud targets, the headless
runner and the sandbox load with the first session or step, after the first frame (startup speed, issue 8).

Checked in a fresh interpreter: this test process has long since imported all of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LATER = ["wizard.engine", "wizard.steps", "wizard.diagnose", "wizard.target", "wizard.headless", "wizard.sandbox",
         "wizard.workloads", "wizard.tui.screens.step", "azure", "kubernetes",
         "wizard.cli", "click"]  # the console script opens the screens without the command line's parser

def first_frame_modules(tmp_path: Path) -> tuple[str, list[str]]:
    """The screen shown first and every module loaded by then, for the app as `wi-wizard --sandbox` builds it (its
    cloud is resolved later, in a worker: never here), run headless."""
    code = (
        "import asyncio, json, sys\n"
        "import wizard.entry, wizard.tui.launch\n"
        "from pathlib import Path\n"
        "from wizard.session import SessionStore\n"
        "from wizard.tui.app import WizardApp\n"
        "async def main():\n"
        f"    app = WizardApp(store=SessionStore(Path({str(tmp_path / 'sessions')!r})), cloud=lambda: None,\n"
        "                    target_label='SANDBOX', default_plan='examples/seed-cross-tenant.toml')\n"
        "    async with app.run_test(size=(80, 24)) as pilot:\n"
        "        await pilot.pause()\n"
        "        return type(app.screen).__name__, sorted(sys.modules)\n"
        "print(json.dumps(asyncio.run(main())))\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=root,
                          check=False)
    assert done.returncode == 0, done.stderr
    screen, modules = json.loads(done.stdout.splitlines()[-1])
    return str(screen), list(modules)


def test_the_welcome_screen_shows_without_the_engine_steps_or_sdks(tmp_path: Path) -> None:
    screen, modules = first_frame_modules(tmp_path)
    assert screen == "WelcomeScreen"
    loaded = sorted(m for m in modules if any(m == name or m.startswith(name + ".") for name in LATER))
    assert loaded == [], f"import these where they are first needed, after the first frame: {loaded}"
    assert "wizard.session" in modules and "wizard.tui.screens.welcome" in modules, "the probe saw the welcome screen"


def test_the_console_script_opens_the_screens_directly_and_passes_anything_else_to_the_command_line() -> None:
    """`wi-wizard` and `wi-wizard --sandbox` open the screens; every other invocation is the command line's, so
    `--help`, `--version` and the subcommands behave as click defines them."""
    from wizard import entry

    assert entry.TUI_ARGUMENTS == ([], ["--sandbox"])
    root = Path(__file__).resolve().parents[2]
    for args, expected in ((["--version"], "wi-wizard, version"), (["--help"], "Usage: "),
                           (["--sandbox", "--help"], "[OPTIONS] COMMAND")):
        done = subprocess.run([sys.executable, "-m", "wizard", *args], capture_output=True, text=True, timeout=60,
                              cwd=root, check=False)
        assert done.returncode == 0 and expected in done.stdout, (args, done.stdout, done.stderr)
