"""Container logs (§10): kept per pod UID and container, served by `GET …/pods/{name}/log`.

Keyed by UID, not name, because the wizard's retry deletes and re-creates a pod under the same name and must
not see the old pod's lines. Each line is stored with its RFC3339Nano timestamp in
`{state_dir}/pods/{uid}/{container}.log`, so `timestamps=true` and `sinceSeconds` work and a restart keeps
them. When a terminated container writes again (a restart), the old file becomes `{container}.previous.log`,
which `previous=true` serves. Followers are asyncio queues fed by `append`; `close` (or the pod's removal)
ends them with None.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from wizard.sandbox.kube.meta import parse_time, rfc3339_nano

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$")


@dataclass(frozen=True)
class Line:
    timestamp: str  # RFC3339Nano
    at: float  # epoch seconds (for sinceSeconds/sinceTime)
    text: str


@dataclass(eq=False)
class Follower:
    uid: str
    container: str
    queue: asyncio.Queue[Line | None] = field(default_factory=asyncio.Queue)


class LogStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._followers: dict[tuple[str, str], set[Follower]] = {}

    def _dir(self, uid: str) -> Path:
        if not _SAFE.match(uid):
            raise ValueError(f"not a pod UID: {uid!r}")
        return self.root / uid

    def _file(self, uid: str, container: str, suffix: str = ".log") -> Path:
        if not _SAFE.match(container):
            raise ValueError(f"not a container name: {container!r}")
        return self._dir(uid) / f"{container}{suffix}"

    def append(self, uid: str, container: str, text: str, epoch_ns: int) -> None:
        if self.closed(uid, container):
            self._rotate(uid, container)
        path = self._file(uid, container)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = rfc3339_nano(epoch_ns)
        lines = text.split("\n") if text else [""]
        with path.open("a", encoding="utf-8") as fh:
            for part in lines:
                fh.write(f"{stamp} {part}\n")
        for follower in list(self._followers.get((uid, container), ())):
            for part in lines:
                follower.queue.put_nowait(Line(stamp, epoch_ns / 1e9, part))

    def _rotate(self, uid: str, container: str) -> None:
        current = self._file(uid, container)
        if current.exists():
            current.replace(self._file(uid, container, ".previous.log"))
        self._file(uid, container, ".closed").unlink(missing_ok=True)

    def close(self, uid: str, container: str) -> None:
        marker = self._file(uid, container, ".closed")
        marker.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        marker.touch()
        for follower in list(self._followers.get((uid, container), ())):
            follower.queue.put_nowait(None)

    def closed(self, uid: str, container: str) -> bool:
        return self._file(uid, container, ".closed").exists()

    def lines(self, uid: str, container: str, previous: bool = False) -> list[Line]:
        path = self._file(uid, container, ".previous.log" if previous else ".log")
        try:
            raw = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        found = []
        for entry in raw.splitlines():
            stamp, _, text = entry.partition(" ")
            found.append(Line(stamp, parse_time(stamp) or 0.0, text))
        return found

    def follow(self, uid: str, container: str) -> Follower:
        follower = Follower(uid, container)
        self._followers.setdefault((uid, container), set()).add(follower)
        return follower

    def unfollow(self, follower: Follower) -> None:
        found = self._followers.get((follower.uid, follower.container))
        if found is not None:
            found.discard(follower)
            if not found:
                self._followers.pop((follower.uid, follower.container), None)

    def end_all(self) -> None:
        """The sandbox stops: every follow stream ends."""
        for followers in list(self._followers.values()):
            for follower in list(followers):
                follower.queue.put_nowait(None)

    def drop(self, uid: str) -> None:
        """The pod is gone: end its followers and delete its log files."""
        for (f_uid, _), followers in list(self._followers.items()):
            if f_uid == uid:
                for follower in list(followers):
                    follower.queue.put_nowait(None)
        directory = self._dir(uid)
        for path in directory.glob("*.log"):
            path.unlink(missing_ok=True)
        for path in directory.glob("*.closed"):
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # the runtime may keep its own files there
            directory.rmdir()
