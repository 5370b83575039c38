"""Fault profiles: the sandbox misbehaves the way Azure does, on request.

`--faults throttle,fic-propagation=30` switches profiles on; `NAME=SECONDS` sets the time of a profile that has
one. `all` switches every profile on (`all=2` also sets every time to 2 s). Faults are deterministic (counters,
not randomness) so tests can count them, and they are shaped so that the SDK's default retry policy rides out
the transport ones (throttle, flaky, drop): no single request is failed more than `MAX_FAULTS_PER_REQUEST`
times, well inside azure-core's default of 3 retries per kind.

The transport faults are applied by the server in front of ARM (`arm_fault`); the time-based ones are read by
the services that own the behaviour through `seconds(name)`: ARM's long-running operations (`slow-lro`), Entra's
federated-credential match (`fic-propagation`) and ARM's RBAC check (`role-propagation`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import math
import socket
import struct
import threading
from dataclasses import dataclass, field

PROFILES: dict[str, str] = {
    "throttle": "429 TooManyRequests with Retry-After (seconds given, default 1) on every third ARM call",
    "flaky": "bursts of two 503 ServiceUnavailable answers from ARM, starting on every fifth call",
    "drop": "TCP connection reset on every fourth idempotent ARM call (GET, HEAD, PUT, DELETE)",
    "slow-lro": "long-running operations (cluster create/update) stay InProgress this long, default 8 s",
    "fic-propagation": "a new federated credential is not matched for this long (AADSTS70021), default 5 s",
    "role-propagation": "a new role assignment is not effective for this long (403), default 5 s",
}

# Profiles that have a time, and their defaults: short, so demos and tests do not wait long.
DEFAULT_SECONDS: dict[str, float] = {"throttle": 1.0, "slow-lro": 8.0, "fic-propagation": 5.0,
                                     "role-propagation": 5.0}

# Methods azure-core retries after a connection error (its RetryPolicy allow-list); POST and PATCH are never
# dropped because the SDK rightly refuses to replay them.
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})

# At most this many faults for one logical request (same x-ms-client-request-id, which azure-core keeps across
# retries): azure-core allows 3 status retries and 3 read retries, so 2 always leaves the request a way through.
MAX_FAULTS_PER_REQUEST = 2
_REMEMBERED_REQUESTS = 1024


class FaultSpecError(ValueError):
    """A `--faults` value that names no profile or gives a bad time; the message lists what is allowed."""


def _seconds(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise FaultSpecError(f"fault {name!r}: {raw!r} is not a number of seconds (e.g. {name}=3)") from None
    if not math.isfinite(value) or value < 0:
        raise FaultSpecError(f"fault {name!r}: seconds must be a finite number ≥ 0, not {raw!r}")
    return value


@dataclass
class Faults:
    active: dict[str, float] = field(default_factory=dict)
    _counter: itertools.count[int] = field(default_factory=itertools.count, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _burst_left: int = field(default=0, repr=False)
    _per_request: collections.OrderedDict[str, int] = field(default_factory=collections.OrderedDict, repr=False)

    @classmethod
    def parse(cls, spec: str | None) -> Faults:
        """`"throttle,fic-propagation=30"` → the active profiles; raises FaultSpecError with a helpful message."""
        active: dict[str, float] = {}
        for raw in (spec or "").split(","):
            item = raw.strip()
            if not item or item.lower() == "none":
                continue
            name, has_value, seconds = item.partition("=")
            name = name.strip().lower()
            if name != "all" and name not in PROFILES:
                known = ", ".join([*PROFILES, "all", "none"])
                raise FaultSpecError(f"unknown fault profile {name!r}; known profiles: {known}")
            value = _seconds(name, seconds.strip()) if has_value else None
            if value is not None and name != "all" and name not in DEFAULT_SECONDS:
                raise FaultSpecError(f"fault {name!r} takes no time; write it without '={seconds.strip()}'")
            for n in (list(PROFILES) if name == "all" else [name]):
                timed = n in DEFAULT_SECONDS
                active[n] = (value if value is not None else DEFAULT_SECONDS[n]) if timed else 0.0
        return cls(active)

    def spec(self) -> str:
        """The canonical form, which `parse` reads back: `flaky,throttle=1`, or `none`."""
        parts = [f"{k}={v:g}" if k in DEFAULT_SECONDS else k for k, v in sorted(self.active.items())]
        return ",".join(parts) or "none"

    def on(self, name: str) -> bool:
        return name in self.active

    def seconds(self, name: str) -> float:
        """The profile's time when it is on, 0 when it is off."""
        return self.active.get(name, 0.0)

    def retry_after(self) -> str:
        """The throttle's Retry-After value: whole seconds as ARM sends them (at least 1, because azure-core
        treats 0 as absent), or the exact fraction when a shorter time was asked for (tests, quick demos)."""
        seconds = self.seconds("throttle")
        if seconds >= 1 or seconds == 0:
            return str(max(1, round(seconds)))
        return f"{seconds:g}"

    def arm_fault(self, method: str, request_id: str | None = None) -> str | None:
        """Which fault (if any) this ARM call should suffer: 'throttle', 'flaky' or 'drop'.

        `request_id` is the client's `x-ms-client-request-id` (the same on every retry of one SDK call): it caps
        the faults one logical request sees, so the default retry policy always gets through.
        """
        if not any(self.on(n) for n in ("throttle", "flaky", "drop")):
            return None
        with self._lock:
            n = next(self._counter) + 1
            if request_id and self._per_request.get(request_id, 0) >= MAX_FAULTS_PER_REQUEST:
                return None
            fault = self._pick(n, method.upper())
            if fault is not None and request_id:
                self._per_request[request_id] = self._per_request.get(request_id, 0) + 1
                self._per_request.move_to_end(request_id)
                while len(self._per_request) > _REMEMBERED_REQUESTS:
                    self._per_request.popitem(last=False)
            return fault

    def _pick(self, n: int, method: str) -> str | None:
        if self.on("flaky"):
            if self._burst_left:
                self._burst_left -= 1
                return "flaky"
            if n % 5 == 0:
                self._burst_left = 1
                return "flaky"
        if self.on("throttle") and n % 3 == 0:
            return "throttle"
        if self.on("drop") and method in IDEMPOTENT and n % 4 == 0:
            return "drop"
        return None


def reset_connection(transport: asyncio.BaseTransport) -> None:
    """Close with an RST: SO_LINGER with a zero timeout makes close() discard the connection instead of sending
    a FIN, so the client sees ECONNRESET, the way a dropped connection to Azure looks."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if isinstance(transport, asyncio.Transport):
        transport.abort()
    else:
        transport.close()
