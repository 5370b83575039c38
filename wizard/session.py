"""Sessions: a plan, what each step found or made, where the flow stands, and which cloud it talks to.

Saved after every transition as versioned JSON under `$WI_WIZARD_HOME/sessions/`, written atomically (temp file +
`os.replace`) with mode 0600. A session never holds a token, secret or password: logins are remembered by method
and account name only. A file that cannot be loaded (corrupt, wrong shape, written by a newer wi-wizard) is moved
aside and named in the error; it is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from wizard import paths
from wizard.plan import Plan, PlanError

SCHEMA_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_BYTES = 4 * 1024 * 1024


class SessionError(Exception):
    """A session that cannot be used; the message says why and what was done with the file."""


def check_name(name: str) -> str | None:
    if not _NAME.fullmatch(name) or name.endswith((".json", ".lock")):  # fullmatch: no trailing newline
        return ("a session name is 1–64 letters, digits, '_', '-' or '.', starting with a letter or digit "
                "(it becomes a file name)")
    return None


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class Target:
    """Which cloud: real Azure, or a sandbox (named by its endpoints.json, so `resume` needs no flag)."""

    kind: str = "real"  # "real" | "sandbox"
    endpoints: str | None = None

    @property
    def label(self) -> str:
        return "sandbox" if self.kind == "sandbox" else "real Azure"


@dataclass
class Outcome:
    """What one step found or made. `values` are observations (IDs, the issuer URL…), never secrets."""

    status: str = "pending"  # pending | done | failed | skipped
    summary: str = ""
    values: dict[str, str] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)  # resources this session created (for teardown)
    diagnosis: dict[str, str] | None = None
    at: str = ""


@dataclass
class Login:
    method: str  # device-code | azure-cli | browser | service-principal | sandbox
    tenant_id: str = ""
    account: str = ""  # a user name or a client ID; never a secret
    # Interactive logins (device-code, browser): azure-identity's AuthenticationRecord (authority host, public
    # client ID, home account ID, tenant ID, user name, version; no token or secret), so `resume` finds the
    # account's tokens in the OS's encrypted cache instead of asking again.
    authentication_record: dict[str, str] = field(default_factory=dict)


@dataclass
class Session:
    name: str
    plan: Plan
    target: Target = field(default_factory=Target)
    state: str = "start"
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    logins: dict[str, Login] = field(default_factory=dict)  # keyed "cluster" / "identity"
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)

    def outcome(self, step: str) -> Outcome:
        return self.outcomes.setdefault(step, Outcome())

    def to_json(self) -> str:
        data = {
            "schema": SCHEMA_VERSION,
            "name": self.name,
            "plan": self.plan.to_dict(),
            "target": asdict(self.target),
            "state": self.state,
            "outcomes": {k: asdict(v) for k, v in self.outcomes.items()},
            "logins": {k: asdict(v) for k, v in self.logins.items()},
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        return json.dumps(data, indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str) -> Session:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"it is not JSON ({exc.msg} at line {exc.lineno})") from None
        except RecursionError:
            raise ValueError("it nests arrays or objects too deeply to be a session") from None
        if not isinstance(data, dict):
            raise ValueError("it is not a JSON object")
        version = data.get("schema")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ValueError("it has no schema version")
        if version > SCHEMA_VERSION:
            raise ValueError(f"it was written by a newer wi-wizard (schema {version}; this one reads "
                             f"{SCHEMA_VERSION}); upgrade wi-wizard to open it")
        known = {"schema", "name", "plan", "target", "state", "outcomes", "logins", "created_at", "updated_at"}
        if unknown := set(data) - known:
            raise ValueError(f"it has unknown keys: {', '.join(sorted(unknown))}")
        try:
            # Shape only: the screens save a plan that is still being filled in; steps check what they use.
            plan = Plan.from_dict(data["plan"], f"{source} (plan)", partial=True)
            return cls(
                name=_text(data, "name"),
                plan=plan,
                target=_record(Target, _table(data, "target"), "target"),
                state=_text(data, "state"),
                outcomes={k: _record(Outcome, v, f"outcomes.{k}") for k, v in _table(data, "outcomes").items()},
                logins={k: _record(Login, v, f"logins.{k}") for k, v in _table(data, "logins").items()},
                created_at=_text(data, "created_at"),
                updated_at=_text(data, "updated_at"),
            )
        except PlanError as exc:
            raise ValueError(str(exc)) from None
        except (KeyError, TypeError) as exc:
            raise ValueError(f"it does not have the shape of a session ({exc})") from None


def _text(data: dict[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} should be text")
    return value


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise TypeError(f"{key} should be an object")
    return value


def _texts(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


# The field types of Target, Outcome and Login (annotations are strings here), as checks and in words: a session
# whose `values` is a list would otherwise load and break a step much later, far from the file that caused it.
_SHAPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "str": (lambda v: isinstance(v, str), "text"),
    "str | None": (lambda v: v is None or isinstance(v, str), "text or null"),
    "dict[str, str]": (_texts, "an object of text values"),
    "dict[str, str] | None": (lambda v: v is None or _texts(v), "an object of text values or null"),
    "list[str]": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "a list of text values"),
}


def _record(kind: type[Any], raw: Any, where: str) -> Any:
    """One of the session's records from its JSON object; TypeError naming the field when it has the wrong shape."""
    if not isinstance(raw, dict):
        raise TypeError(f"{where} should be an object")
    for spec in fields(kind):
        check, words = _SHAPES[str(spec.type)]
        if spec.name in raw and not check(raw[spec.name]):
            raise TypeError(f"{where}.{spec.name} should be {words}")
    return kind(**raw)  # unknown or missing keys: TypeError


@dataclass(frozen=True)
class Summary:
    name: str
    target: str
    state: str
    updated_at: str
    problem: str | None = None  # set when the file could not be read (it is listed, not moved)
    holder: int | None = None  # the PID of the live wi-wizard that has it open (SessionStore.holder), if any


class SessionStore:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or paths.home() / "sessions"

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.json"

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def save(self, session: Session) -> None:
        if problem := check_name(session.name):
            raise SessionError(f"cannot save session {session.name!r}: {problem}")
        paths.private_dir(self.directory)
        session.updated_at = now_iso()
        paths.write_private(self.path(session.name), session.to_json())

    def load(self, name: str) -> Session:
        if problem := check_name(name):
            raise SessionError(f"no session {name!r}: {problem}")
        path = self.path(name)
        try:
            if path.is_symlink() or not path.is_file():
                if not path.exists() and not path.is_symlink():
                    raise SessionError(f"no session named {name!r} (looked for {path}); "
                                       "`wi-wizard sessions` lists the saved ones")
                raise ValueError("it is not a regular file")
            if path.stat().st_size > MAX_BYTES:
                raise ValueError("it is larger than a session can be")
            text = path.read_text(encoding="utf-8")
            session = Session.from_json(text, str(path))
            # The file names the session: a copied or renamed file must never save over the one it came from.
            session.name = name
            return session
        except PermissionError:
            raise SessionError(f"session {name!r} cannot be read ({path}: permission denied); "
                               "fix the file's permissions") from None
        except (ValueError, UnicodeDecodeError, OSError) as exc:
            aside = self._set_aside(path)
            raise SessionError(
                f"session {name!r} could not be loaded: {exc}. The file was kept as {aside} and was not changed; "
                "start a new session, or repair that file and rename it back.") from None

    def list(self) -> list[Summary]:
        """Every saved session, newest first, read without loading: nothing is set aside or locked here, and a
        session another wi-wizard has open says which (`holder`)."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob("*.json")):
            name = path.stem
            holder = self.holder(name)
            try:
                if path.stat().st_size > MAX_BYTES:
                    raise ValueError("too large")
                data = json.loads(path.read_text(encoding="utf-8"))
                target = data["target"]
                found.append(Summary(name, "sandbox" if target.get("kind") == "sandbox" else "real Azure",
                                     str(data["state"]), str(data["updated_at"]), holder=holder))
            except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
                why = "open it to set it aside" if holder is None else f"open in another wi-wizard (pid {holder})"
                found.append(Summary(name, "?", "?", "", f"unreadable ({why})", holder))
        return sorted(found, key=lambda s: s.updated_at, reverse=True)

    def holder(self, name: str) -> int | None:
        """The PID of the live process holding the session's lock (this one included), or None when none does (no
        lock, or one its dead owner left). Reads only: a listing never makes, judges or removes a lock, so it can
        never disturb the process that has the session open."""
        if check_name(name):
            return None
        owner = _lock_owner(self.directory / f"{name}.lock")
        return owner if owner is not None and process_alive(owner) else None

    def _set_aside(self, path: Path) -> Path:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = path.with_name(f"{path.name}.unreadable-{stamp}")
        n = 1
        while aside.exists():
            aside = path.with_name(f"{path.name}.unreadable-{stamp}-{n}")
            n += 1
        os.replace(path, aside)
        return aside

    @contextmanager
    def locked(self, name: str) -> Iterator[None]:
        """One process per session at a time; a lock left by a dead process is taken over."""
        if problem := check_name(name):  # the name becomes a file name: no `../` may lock outside the store
            raise SessionError(f"no session {name!r}: {problem}")
        paths.private_dir(self.directory)
        lock = self.directory / f"{name}.lock"
        # The whole take-over happens under the store's guard: judging a lock stale, removing it and creating ours
        # is one step for every process, so none can remove a lock another has just made (and both hold).
        with _guard(self.directory):
            for _ in range(2):
                try:
                    fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except FileExistsError:
                    owner = _lock_owner(lock)
                    if owner is not None and process_alive(owner):
                        raise SessionError(f"session {name!r} is open in another wi-wizard (pid {owner}); "
                                           "close that one first") from None
                    if owner is None and _younger_than(lock, LOCK_GRACE_SECONDS):
                        # An older wi-wizard creates the file before writing its pid: held, not stale.
                        raise SessionError(f"session {name!r} is being opened by another wi-wizard; "
                                           "close that one first") from None
                    lock.unlink(missing_ok=True)  # stale: its owner is gone
                    continue
                with os.fdopen(fd, "w") as handle:
                    handle.write(str(os.getpid()))
                break
            else:
                raise SessionError(f"could not lock session {name!r} ({lock})")
        try:
            yield
        finally:
            with _guard(self.directory):
                if _lock_owner(lock) == os.getpid():  # never remove a lock another process took over
                    lock.unlink(missing_ok=True)


LOCK_GRACE_SECONDS = 5.0


@contextmanager
def _guard(directory: Path) -> Iterator[None]:
    """An exclusive flock on the store's directory for the instant a lock is judged stale and removed; the kernel
    drops it if the process dies, so it can never itself go stale, and it leaves no file behind."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _younger_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime < seconds
    except OSError:
        return False


def _lock_owner(lock: Path) -> int | None:
    try:
        return int(lock.read_text().strip())
    except (OSError, ValueError):
        return None


def process_alive(pid: int) -> bool:
    """Whether a process with this PID runs (one of another user counts: it exists)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
