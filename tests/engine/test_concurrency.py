"""Two wizard processes on one session: the second is refused with a message naming the owner's PID (exit 2) and
touches nothing of the session — not even a file it cannot read — while a lock left by a killed process is taken
over by the next run, which finishes the work. Processes racing for a stale lock never hold it together.

All with real processes: `wi-wizard apply`/`resume --headless` subprocesses, and small lockers started together.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import dead_pid
from tests.engine.cli_support import ROOT, SEED_PLAN, apply, endpoints, no_traceback, wizard
from wizard.sandbox import Sandbox
from wizard.session import SessionStore


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _held_by(lock: Path, pid: int) -> bool:
    try:
        return lock.read_text() == str(pid)
    except OSError:
        return False


def test_a_second_apply_is_refused_naming_the_owner_and_after_the_owner_is_killed_resume_takes_over_and_finishes(
        make_sandbox: Callable[..., Sandbox]) -> None:
    box = make_sandbox(faults="slow-lro=4")  # the first run stays a few seconds inside the cluster update
    store = SessionStore()
    lock = store.directory / "shared.lock"
    owner = subprocess.Popen([sys.executable, "-m", "wizard", "apply", str(SEED_PLAN), "--sandbox-endpoints",
                              str(endpoints(box)), "--session", "shared"],
                             env=os.environ.copy(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: _held_by(lock, owner.pid) and store.exists("shared") and store.load("shared").state
                  == "cluster", 60, "the first run to reach the cluster step")

        second = apply(box, SEED_PLAN, "--session", "shared")

        assert second.returncode == 2
        assert f"session 'shared' is open in another wi-wizard (pid {owner.pid}); close that one first" \
            in second.stderr
        assert second.stdout == ""
        no_traceback(second)
        assert _held_by(lock, owner.pid), "the refused process leaves the owner's lock alone"
    finally:
        owner.send_signal(signal.SIGKILL)  # a crash: the lock stays behind, naming a dead process
        owner.wait()
    assert _held_by(lock, owner.pid)

    resumed = wizard("resume", "shared", "--headless")

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    no_traceback(resumed)
    assert "Access proven" in resumed.stdout
    assert not lock.exists(), "the run that took the stale lock over released it"
    assert store.load("shared").state == "done"


def test_a_refused_apply_never_reads_or_sets_aside_the_session_another_process_holds(sandbox: Sandbox) -> None:
    """Even a session file that cannot be loaded stays where it is while its owner runs: it is the owner's."""
    store = SessionStore()
    store.directory.mkdir(parents=True, mode=0o700)
    unreadable = b'{"schema": 1, "name": '  # half-written by hand, say; loading it would set it aside
    store.path("held").write_bytes(unreadable)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (store.directory / "held.lock").write_text(str(holder.pid))

        refused = apply(sandbox, SEED_PLAN, "--session", "held")

        assert refused.returncode == 2
        assert f"(pid {holder.pid})" in refused.stderr
        no_traceback(refused)
        assert store.path("held").read_bytes() == unreadable
        assert sorted(p.name for p in store.directory.iterdir()) == ["held.json", "held.lock"]
    finally:
        holder.kill()
        holder.wait()


LOCKER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from wizard.session import SessionError, SessionStore

    go = Path(sys.argv[1]) / "go"
    while not go.exists():
        time.sleep(0.001)
    try:
        with SessionStore(Path(sys.argv[1]) / "sessions").locked("demo"):
            entered = time.monotonic()
            time.sleep(0.3)
            print("held", entered, time.monotonic())
    except SessionError as exc:
        print("refused", exc)
""")


def test_processes_racing_for_a_stale_lock_never_hold_the_session_at_the_same_time(tmp_path: Path) -> None:
    """Several processes find the same dead owner's lock at the same instant: exactly one takes it over at a time
    (before the store guarded the takeover, a late one deleted the lock the first had just made, and both held)."""
    for trial in range(4):
        where = tmp_path / f"trial-{trial}"
        (where / "sessions").mkdir(parents=True, mode=0o700)
        (where / "sessions" / "demo.lock").write_text(str(dead_pid()))
        lockers = [subprocess.Popen([sys.executable, "-c", LOCKER, str(where)], cwd=ROOT, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for _ in range(6)]
        time.sleep(0.8)  # all of them started and waiting for the signal
        (where / "go").touch()
        results = [locker.communicate(timeout=30) for locker in lockers]

        assert all(err == "" for _, err in results), [err for _, err in results]
        held = sorted((float(out.split()[1]), float(out.split()[2])) for out, _ in results if out.startswith("held"))
        refused = [out for out, _ in results if out.startswith("refused")]
        assert held, "the stale lock was taken over"
        assert len(held) + len(refused) == 6
        assert all("is open in another wi-wizard (pid" in out or "is being opened by another wi-wizard" in out
                   for out in refused)
        overlaps = [(a, b) for a, b in itertools.pairwise(held) if b[0] < a[1]]
        assert overlaps == [], f"trial {trial}: two processes held the session at once"
        assert not (where / "sessions" / "demo.lock").exists()
