"""Sessions on disk: a faithful round trip, private files, no secret after a real run, and files that cannot be
loaded set aside untouched (named in the error) while the other sessions stay usable; one process per session."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import dead_pid
from tests.engine.support import seed_plan
from wizard import headless
from wizard.plan import Plan
from wizard.sandbox import Sandbox
from wizard.session import (
    SCHEMA_VERSION,
    Login,
    Outcome,
    Session,
    SessionError,
    SessionStore,
    Target,
    check_name,
)

SEED_PLAN = Path(__file__).resolve().parents[2] / "examples" / "seed-cross-tenant.toml"


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "sessions")


def full_session(name: str = "demo") -> Session:
    """A session with something in every field: outcomes (done and failed, with a diagnosis) and both logins."""
    session = Session(name, seed_plan(workload={"env": {"AZURE_REGION": "${identity.location}"}}),
                      Target("sandbox", "/tmp/sandbox/endpoints.json"), state="role")
    session.outcomes["login"] = Outcome("done", "Signed in", {"cluster_tenant_id": "t-a", "same_tenant": "false"},
                                        [], None, "2026-01-01T00:00:00Z")
    session.outcomes["identity"] = Outcome("done", "Created mi-wi-demo", {"client_id": "c-1"},
                                           ["/subscriptions/s/resourceGroups/rg", "/subscriptions/s/.../mi"])
    session.outcomes["role"] = Outcome("failed", "", {}, [], {"code": "AuthorizationFailed", "title": "Not authorized",
                                                              "cause": "c", "fix": "f", "step": "role", "detail": "d"})
    session.logins = {"cluster": Login("sandbox", "t-a", "app-a"), "identity": Login("device-code", "t-b", "megan")}
    return session


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


# -- round trip and file modes ------------------------------------------------------------------------------------

def test_to_json_and_back_keeps_every_field() -> None:
    session = full_session()

    again = Session.from_json(session.to_json(), "demo.json")

    assert again == session
    assert json.loads(session.to_json())["schema"] == SCHEMA_VERSION


def test_save_and_load_keep_plan_target_state_outcomes_and_logins(store: SessionStore) -> None:
    session = full_session()
    store.save(session)

    loaded = store.load("demo")

    assert loaded.plan == session.plan
    assert loaded.target == session.target
    assert loaded.state == "role"
    assert loaded.outcomes == session.outcomes
    assert loaded.logins == session.logins
    assert (loaded.created_at, loaded.updated_at) == (session.created_at, session.updated_at)


def test_the_session_file_is_0600_and_its_folder_0700(store: SessionStore) -> None:
    store.directory.mkdir(mode=0o755)
    store.directory.chmod(0o755)

    store.save(full_session())

    assert mode(store.path("demo")) == 0o600
    assert mode(store.directory) == 0o700, "an existing folder with loose permissions is tightened"
    assert sorted(p.name for p in store.directory.iterdir()) == ["demo.json"], "no temp file is left behind"


def test_a_session_with_an_invalid_name_is_not_saved(store: SessionStore) -> None:
    with pytest.raises(SessionError, match=r"cannot save session '\.\./evil'"):
        store.save(Session("../evil", seed_plan()))
    assert not store.directory.exists() or list(store.directory.iterdir()) == []


def test_the_list_shows_name_target_state_and_last_change_newest_first(store: SessionStore) -> None:
    older = Session("older", seed_plan())
    store.save(older)
    data = json.loads(store.path("older").read_text())
    data["updated_at"] = "2000-01-01T00:00:00Z"
    store.path("older").write_text(json.dumps(data))
    store.save(full_session("newer"))

    listed = store.list()

    assert [(s.name, s.target, s.state, s.problem) for s in listed] == [
        ("newer", "sandbox", "role", None), ("older", "real Azure", "start", None)]


# -- no secrets after a real run ------------------------------------------------------------------------------

SECRET_WORDS = re.compile(r"secret|password|refresh|access_token|id_token|assertion", re.IGNORECASE)


def _keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item)


def test_no_secret_or_token_lands_in_the_session_file_after_a_full_sandbox_run(
        make_sandbox: Callable[..., Sandbox], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    box = make_sandbox()
    store = SessionStore(tmp_path / "sessions")

    code = headless.apply(SEED_PLAN, endpoints=box.state_dir / "endpoints.json", store=store)

    assert code == headless.EXIT_PROVEN, capsys.readouterr().out
    session_file = store.path("seed-cross-tenant")
    text = session_file.read_text()
    data = json.loads(text)
    assert data["state"] == "done" and data["outcomes"]["logs"]["values"]["verdict"] == "proven"
    secrets = [t["service_principal"]["client_secret"] for t in box.endpoints()["tenants"]]
    assert len(secrets) == 2 and all(secrets)
    for secret in secrets:
        assert secret not in text, "a service principal's client secret was saved"
    assert "eyJ" not in text, "something shaped like a JWT (a token) was saved"
    assert [k for k in _keys(data) if SECRET_WORDS.search(k)] == []
    assert not re.search(r"client_secret|password|refresh_token|sbx~", text)
    assert {p.name for p in store.directory.iterdir()} == {"seed-cross-tenant.json"}, "nothing else is left there"
    assert mode(session_file) == 0o600


# -- files that cannot be loaded -------------------------------------------------------------------------------

def _valid_json(**changes: Any) -> str:
    data = json.loads(full_session("bad").to_json())
    data.update(changes)
    return json.dumps(data)


def _deep(path: dict[str, Any], keys: list[str], value: Any) -> str:
    node = path
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value
    return json.dumps(path)


def _with(keys: list[str], value: Any) -> str:
    return _deep(json.loads(full_session("bad").to_json()), keys, value)


BAD_CONTENT: dict[str, tuple[bytes, str]] = {
    "corrupt JSON": (b'{"schema": 1, "name": ', "it is not JSON"),
    "truncated": (full_session("bad").to_json()[:300].encode(), "it is not JSON"),
    "empty": (b"", "it is not JSON"),
    "not UTF-8": (b'{"schema": 1, "name": "\xff\xfe"}', "could not be loaded"),
    "a JSON list": (b"[1, 2, 3]", "it is not a JSON object"),
    "deeply nested": (b"[" * 100_000 + b"]" * 100_000, "nests arrays or objects too deeply"),
    "no schema": (_valid_json(schema=None).encode(), "it has no schema version"),
    "schema as text": (_valid_json(schema="1").encode(), "it has no schema version"),
    "schema as a boolean": (_valid_json(schema=True).encode(), "it has no schema version"),
    "schema zero": (_valid_json(schema=0).encode(), "it has no schema version"),
    "newer schema": (_valid_json(schema=SCHEMA_VERSION + 1).encode(), "written by a newer wi-wizard"),
    "unknown top-level key": (_valid_json(token="x").encode(), "it has unknown keys: token"),
    "state not text": (_valid_json(state=5).encode(), "state should be text"),
    "name missing": (json.dumps({k: v for k, v in json.loads(_valid_json()).items() if k != "name"}).encode(),
                     "does not have the shape of a session"),
    "outcomes not an object": (_valid_json(outcomes=[]).encode(), "outcomes should be an object"),
    "outcome not an object": (_with(["outcomes", "login"], "done").encode(), "outcomes.login should be an object"),
    "outcome values a list": (_with(["outcomes", "login", "values"], ["x"]).encode(),
                              "outcomes.login.values should be an object of text values"),
    "outcome value a number": (_with(["outcomes", "login", "values", "same_tenant"], 1).encode(),
                               "outcomes.login.values should be an object of text values"),
    "outcome created not text": (_with(["outcomes", "identity", "created"], [1]).encode(),
                                 "outcomes.identity.created should be a list of text values"),
    "outcome status a number": (_with(["outcomes", "login", "status"], 2).encode(),
                                "outcomes.login.status should be text"),
    "outcome diagnosis a list": (_with(["outcomes", "role", "diagnosis"], ["x"]).encode(),
                                 "outcomes.role.diagnosis should be an object of text values or null"),
    "outcome unknown key": (_with(["outcomes", "login", "secret"], "x").encode(), "unexpected keyword"),
    "login method a number": (_with(["logins", "cluster", "method"], 1).encode(),
                              "logins.cluster.method should be text"),
    "login without method": (_with(["logins", "cluster"], {"tenant_id": "t"}).encode(), "missing 1 required"),
    "target endpoints a number": (_with(["target", "endpoints"], 5).encode(),
                                  "target.endpoints should be text or null"),
    "target a list": (_valid_json(target=["sandbox"]).encode(), "target should be an object"),
    "plan not a table": (_valid_json(plan="seed").encode(), "expected a table of sections"),
    "plan of wrong shape": (_with(["plan", "cluster", "name"], 7).encode(), "cluster.name"),
}


@pytest.fixture
def neighbours(store: SessionStore) -> list[str]:
    """Two good sessions next to the bad one: they must stay listed and loadable."""
    for name in ("good-1", "good-2"):
        store.save(Session(name, seed_plan()))
    return ["good-1", "good-2"]


def _set_aside_as(error: SessionError) -> Path:
    found = re.search(r"The file was kept as (\S+) and was not changed", str(error))
    assert found, f"the error must name where the file went: {error}"
    return Path(found.group(1))


def _assert_others_intact(store: SessionStore, others: list[str]) -> None:
    assert sorted(s.name for s in store.list()) == others
    assert all(s.problem is None for s in store.list())
    for name in others:
        assert store.load(name).name == name


@pytest.mark.parametrize("case", list(BAD_CONTENT))
def test_an_unloadable_session_is_set_aside_unchanged_and_named_in_the_error(
        store: SessionStore, neighbours: list[str], case: str) -> None:
    raw, why = BAD_CONTENT[case]
    path = store.path("bad")
    path.write_bytes(raw)
    assert "bad" in [s.name for s in store.list()], "before it is opened, the unreadable file is listed"

    with pytest.raises(SessionError) as refused:
        store.load("bad")

    aside = _set_aside_as(refused.value)
    assert why in str(refused.value)
    assert str(refused.value).startswith("session 'bad' could not be loaded: ")
    assert aside.parent == store.directory and aside.name.startswith("bad.json.unreadable-")
    assert aside.read_bytes() == raw, "the original bytes are kept as they were"
    assert not path.exists(), "the bad file is moved, not copied or rewritten"
    _assert_others_intact(store, neighbours)


def test_a_symlink_is_set_aside_as_a_link_and_its_target_is_untouched(store: SessionStore, neighbours: list[str],
                                                                      tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    target.write_text(full_session("bad").to_json())
    original = target.read_bytes()
    store.path("bad").symlink_to(target)

    with pytest.raises(SessionError, match="it is not a regular file") as refused:
        store.load("bad")

    aside = _set_aside_as(refused.value)
    assert aside.is_symlink() and Path(os.readlink(aside)) == target
    assert target.read_bytes() == original
    _assert_others_intact(store, neighbours)


def test_a_directory_in_place_of_a_session_is_set_aside_with_its_contents(store: SessionStore,
                                                                          neighbours: list[str]) -> None:
    folder = store.path("bad")
    folder.mkdir()
    (folder / "inside.txt").write_text("kept")
    assert [s.problem for s in store.list() if s.name == "bad"] == ["unreadable (open it to set it aside)"]

    with pytest.raises(SessionError, match="it is not a regular file") as refused:
        store.load("bad")

    aside = _set_aside_as(refused.value)
    assert (aside / "inside.txt").read_text() == "kept"
    _assert_others_intact(store, neighbours)


def test_a_session_larger_than_a_session_can_be_is_set_aside(store: SessionStore, neighbours: list[str]) -> None:
    path = store.path("bad")
    with path.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)
    assert [s.problem for s in store.list() if s.name == "bad"] == ["unreadable (open it to set it aside)"]

    with pytest.raises(SessionError, match="larger than a session can be") as refused:
        store.load("bad")

    assert _set_aside_as(refused.value).stat().st_size == 64 * 1024 * 1024
    _assert_others_intact(store, neighbours)


def test_setting_aside_twice_never_overwrites_the_first_copy(store: SessionStore) -> None:
    store.directory.mkdir(parents=True)
    asides = []
    for raw in (b"{first", b"{second", b"{third"):
        store.path("bad").write_bytes(raw)
        with pytest.raises(SessionError) as refused:
            store.load("bad")
        asides.append(_set_aside_as(refused.value))

    assert len(set(asides)) == 3
    assert [a.read_bytes() for a in asides] == [b"{first", b"{second", b"{third"]


def test_a_missing_session_is_reported_and_nothing_is_created(store: SessionStore) -> None:
    with pytest.raises(SessionError, match=r"no session named 'ghost'.*`wi-wizard sessions` lists the saved ones"):
        store.load("ghost")
    assert not store.directory.exists()


def test_loading_an_invalid_name_touches_no_file(store: SessionStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text("{not json")
    with pytest.raises(SessionError, match="a session name is"):
        store.load("../outside")
    assert outside.read_text() == "{not json"


def test_a_copied_session_file_is_the_session_its_file_names(store: SessionStore) -> None:
    """A file copied to another name must not save over the session it was copied from."""
    store.save(full_session("original"))
    store.path("copy").write_text(store.path("original").read_text())
    before = store.path("original").read_bytes()

    copy = store.load("copy")
    copy.state = "done"
    store.save(copy)

    assert copy.name == "copy"
    assert store.path("original").read_bytes() == before
    assert store.load("copy").state == "done"


# -- one process per session ---------------------------------------------------------------------------------


def test_a_second_lock_on_a_held_session_is_refused_with_the_owner_pid(store: SessionStore) -> None:
    held = rf"session 'demo' is open in another wi-wizard \(pid {os.getpid()}\)"
    with store.locked("demo"):
        with pytest.raises(SessionError, match=held), store.locked("demo"):
            pytest.fail("two holders of one session")
        assert (store.directory / "demo.lock").exists(), "the refused attempt leaves the holder's lock alone"
    assert not (store.directory / "demo.lock").exists(), "the lock is released on exit"


def test_a_lock_held_by_another_live_process_is_refused_with_its_pid(store: SessionStore) -> None:
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        store.directory.mkdir(parents=True)
        (store.directory / "demo.lock").write_text(str(holder.pid))
        with pytest.raises(SessionError, match=rf"\(pid {holder.pid}\)"), store.locked("demo"):
            pytest.fail("locked a session another process holds")
    finally:
        holder.kill()
        holder.wait()


def test_a_stale_lock_of_a_dead_process_is_taken_over(store: SessionStore) -> None:
    store.directory.mkdir(parents=True)
    lock = store.directory / "demo.lock"
    lock.write_text(str(dead_pid()))

    with store.locked("demo"):
        assert lock.read_text() == str(os.getpid())
    assert not lock.exists()


def test_an_old_unreadable_lock_is_taken_over(store: SessionStore) -> None:
    store.directory.mkdir(parents=True)
    lock = store.directory / "demo.lock"
    lock.write_text("garbage")
    os.utime(lock, (1, 1))

    with store.locked("demo"):
        assert lock.read_text() == str(os.getpid())


def test_a_lock_created_an_instant_ago_without_its_pid_yet_is_respected(store: SessionStore) -> None:
    """Between O_EXCL creating the lock and writing the pid, another process must not take it as stale."""
    store.directory.mkdir(parents=True)
    lock = store.directory / "demo.lock"
    lock.write_text("")

    with pytest.raises(SessionError, match="is being opened by another wi-wizard"), store.locked("demo"):
        pytest.fail("took over a lock being created")
    assert lock.exists()


def test_a_lock_taken_over_by_another_process_is_not_removed_on_exit(store: SessionStore) -> None:
    lock = store.directory / "demo.lock"
    with store.locked("demo"):
        lock.write_text("1")  # pid 1 (init) took it over meanwhile
    assert lock.read_text() == "1"


def test_a_lock_for_an_invalid_name_is_refused_before_any_file_is_made(store: SessionStore, tmp_path: Path) -> None:
    with pytest.raises(SessionError, match="a session name is"), store.locked("../escape"):
        pytest.fail("locked outside the store")
    assert not (tmp_path / "escape.lock").exists()


# -- names -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["demo", "seed-cross-tenant", "a", "A1_b.c-d", "x" * 64, "2026.01.01"])
def test_valid_session_names(name: str) -> None:
    assert check_name(name) is None


@pytest.mark.parametrize("name", ["", "-demo", ".hidden", "_x", "a/b", "../x", "..", "a b", "x" * 65, "demo.json",
                                  "demo.lock", "demo\n", "dé", "a\x00b", "a\\b"])
def test_invalid_session_names_say_the_rule(name: str) -> None:
    assert check_name(name) == ("a session name is 1–64 letters, digits, '_', '-' or '.', starting with a letter or "
                                "digit (it becomes a file name)")


def test_a_session_whose_plan_is_still_being_filled_in_loads(tmp_path: Path) -> None:
    """The screens save after every change, so a plan with empty or not-yet-valid values must load again (only its
    shape is checked; each step validates what it uses)."""
    store = SessionStore(tmp_path)
    store.save(Session("halfway", Plan()))

    loaded = store.load("halfway")

    assert loaded.plan == Plan()
    assert Plan().problems(), "an empty plan is not runnable, yet it is a valid session"
