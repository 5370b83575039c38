"""Who holds a session: `SessionStore.holder` names the live process that has a session open (read from its lock,
never touching it), and `SessionStore.list()` — what `wi-wizard sessions` prints — says so, without ever setting
aside or locking a session another process holds."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import dead_pid
from tests.engine.support import seed_plan
from wizard import headless
from wizard.session import Session, SessionStore


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_holder_is_the_live_pid_in_the_lock_and_none_without_a_live_one(tmp_path: Path, other_process: int) -> None:
    store = SessionStore(tmp_path / "sessions")
    store.save(Session("demo", seed_plan()))
    assert store.holder("demo") is None, "no lock"
    with store.locked("demo"):
        assert store.holder("demo") == os.getpid()
    lock = store.directory / "demo.lock"
    lock.write_text(str(other_process))
    assert store.holder("demo") == other_process
    lock.write_text(str(dead_pid()))
    assert store.holder("demo") is None, "a dead owner's lock holds nothing"
    assert lock.exists(), "asking never removes a lock, stale or not"
    assert store.holder("../escape") is None


def test_listing_names_the_holder_and_never_touches_a_held_unreadable_session(tmp_path: Path,
                                                                               other_process: int) -> None:
    store = SessionStore(tmp_path / "sessions")
    store.save(Session("readable", seed_plan()))
    store.path("broken").write_text("{ not json")
    store.path("orphan").write_text("{ not json either")
    (store.directory / "broken.lock").write_text(str(other_process))
    (store.directory / "readable.lock").write_text(str(other_process))
    before = _files(store.directory)

    listed = {s.name: s for s in store.list()}

    assert _files(store.directory) == before, "nothing was set aside, locked or unlocked"
    assert listed["readable"].holder == other_process and listed["readable"].problem is None
    assert listed["broken"].holder == other_process
    assert listed["broken"].problem == f"unreadable (open in another wi-wizard (pid {other_process}))"
    assert listed["orphan"].holder is None and listed["orphan"].problem == "unreadable (open it to set it aside)"


def test_wi_wizard_sessions_lists_a_held_session_with_its_holder(tmp_path: Path, other_process: int,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    store = SessionStore(tmp_path / "sessions")
    store.path("broken").parent.mkdir(parents=True)
    store.path("broken").write_text("{ not json")
    (store.directory / "broken.lock").write_text(str(other_process))

    assert headless.sessions(as_json=True, store=store) == 0

    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["holder"] == other_process and "open in another wi-wizard" in entry["problem"]
    assert store.path("broken").read_text() == "{ not json"
