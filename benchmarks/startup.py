"""Startup: process start → first interactive frame of `wi-wizard --sandbox` (the sandbox already running), against
a bare Textual app showing one label, both started the same way under a pty (see first_frame.py for how the
first frame is detected). Also reports which azure/kubernetes/msal modules were loaded by the first frame
(the goal is none: they are imported lazily, after the first frame)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

from benchmarks.common import ROOT, Row, ServedSandbox, isolated_env, median, seconds, temp_dir

GOAL = 1.5


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


def first_frame(which: str, home: Path, out: Path) -> tuple[float, dict[str, object]]:
    """Seconds from just before the process starts to its first painted frame, and what the hook recorded."""
    out.unlink(missing_ok=True)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    reader = threading.Thread(target=_drain, args=(master,), daemon=True)
    reader.start()
    env = isolated_env(home, TERM="xterm-256color", COLORTERM="truecolor")
    start = time.time()
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.first_frame", which, str(out)],
                               stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True)
    os.close(slave)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    finally:
        os.close(master)
        reader.join(2)
    if not out.exists():
        raise RuntimeError(f"{which}: no first frame within 60 s (exit {process.returncode})")
    data = json.loads(out.read_text())
    return float(data["at"]) - start, data


def run(runs: int, quick: bool) -> list[Row]:
    with temp_dir("startup") as home, ServedSandbox(home / "sandbox"):
        out = home / "first-frame.json"
        # Both start from compiled bytecode, as an installed program does (pip compiles a package when it installs
        # it; Textual's own modules already are): without this, an environment with PYTHONDONTWRITEBYTECODE set
        # recompiles the wizard's modules on every run and charges it ~25 ms the bare app never pays.
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "wizard")], check=True)
        first_frame("bare", home, out)  # warm the OS page cache for both, untimed
        first_frame("wizard", home, out)
        wizard: list[float] = []
        bare: list[float] = []
        heavy: set[str] = set()
        screens: set[str] = set()
        modules = {"bare": 0, "wizard": 0}
        for _ in range(runs):  # interleaved, so a burst of load elsewhere hits both alike
            t, data = first_frame("bare", home, out)
            bare.append(t)
            modules["bare"] = int(str(data["modules"]))
            t, data = first_frame("wizard", home, out)
            modules["wizard"] = int(str(data["modules"]))
            wizard.append(t)
            heavy.update(str(m) for m in data["heavy_modules"])  # type: ignore[attr-defined]
            screens.add(str(data["screen"]))
    ratio = median(wizard) / median(bare)
    rows = [Row("startup: first frame of wi-wizard --sandbox", seconds(median(wizard)), seconds(median(bare)) +
                " (bare Textual app)", f"{ratio:.2f}×", f"≤ {GOAL}×", ratio <= GOAL,
                f"first screen shown: {', '.join(sorted(screens))}; modules loaded by then: {modules['wizard']} "
                f"(bare app: {modules['bare']}); runs: wizard "
                + ", ".join(seconds(t) for t in wizard) + "; bare " + ", ".join(seconds(t) for t in bare)),
            Row("startup: azure/kubernetes modules at first frame", str(len(heavy)), "0", "", "none loaded",
                not heavy, ", ".join(sorted(heavy))[:300] if heavy else "")]
    return rows
