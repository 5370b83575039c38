"""Resume: reopen a finished seed session and re-check every step against the sandbox (sign in again, check the
finished steps in parallel, nothing to redo). Measured two ways: `headless.resume` in this process (the engine's
work: sign-in, checks, saving; imports already warm) and the whole `wi-wizard resume NAME --headless` command
(process start, imports, the same work). Goal: median ≤ 1 s. The baseline column shows the first `apply` of the
same session, for scale."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import time

from benchmarks.common import ROOT, SEED_PLAN, WI_WIZARD, Row, ServedSandbox, isolated_env, median, seconds, temp_dir

GOAL = 1.0
SESSION = "seed-cross-tenant"


def run(runs: int, quick: bool) -> list[Row]:
    from wizard import headless
    from wizard.session import SessionStore

    with temp_dir("resume") as home, ServedSandbox(home / "sandbox") as box:
        env = isolated_env(home)
        t0 = time.monotonic()
        subprocess.run([*WI_WIZARD, "apply", str(SEED_PLAN), "--sandbox-endpoints", str(box.endpoints_path)],
                       env=env, cwd=ROOT, check=True, capture_output=True, timeout=300)
        applied = time.monotonic() - t0
        command: list[float] = []
        in_process: list[float] = []
        saved = os.environ.get("WI_WIZARD_HOME")
        os.environ["WI_WIZARD_HOME"] = str(home)  # the in-process resume finds the session where apply saved it
        try:
            for i in range(runs + 1):  # the first in-process run imports the SDKs: not timed
                t0 = time.monotonic()
                result = subprocess.run([*WI_WIZARD, "resume", SESSION, "--headless"], env=env, cwd=ROOT,
                                        capture_output=True, text=True, timeout=300, check=False)
                if result.returncode != 0:
                    raise RuntimeError(f"wi-wizard resume exited {result.returncode}: {result.stdout[-1500:]}")
                if i:
                    command.append(time.monotonic() - t0)
                out = io.StringIO()
                t0 = time.monotonic()
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                    code = headless.resume(SESSION, store=SessionStore())
                if code != 0:
                    raise RuntimeError(f"resume in-process exited {code}: {out.getvalue()[-1500:]}")
                if i:
                    in_process.append(time.monotonic() - t0)
        finally:
            if saved is None:
                os.environ.pop("WI_WIZARD_HOME", None)
            else:
                os.environ["WI_WIZARD_HOME"] = saved
    return [
        Row("resume: re-check a finished session (engine, in-process)", seconds(median(in_process)),
            seconds(applied) + " (first apply)", "", f"≤ {GOAL:g} s", median(in_process) <= GOAL,
            "runs: " + ", ".join(seconds(t) for t in in_process)),
        Row("resume: wi-wizard resume NAME --headless (whole command)", seconds(median(command)),
            seconds(applied) + " (first apply)", "", f"≤ {GOAL:g} s", median(command) <= GOAL,
            "runs: " + ", ".join(seconds(t) for t in command)),
    ]
