"""Fault profiles: the sandbox misbehaves the way Azure does, on request.

`--faults throttle,fic-propagation=30` switches profiles on; `NAME=SECONDS` sets the profile's time where it has
one. `all` switches every profile on. Faults are deterministic (counters, not randomness) so tests can count.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field

PROFILES: dict[str, str] = {
    "throttle": "429 with Retry-After on every third ARM call",
    "flaky": "bursts of two 503 answers from ARM, every fifth call",
    "drop": "connection reset on every fourth idempotent ARM call (GET/PUT/DELETE)",
    "slow-lro": "long-running operations take longer (seconds given, default 8)",
    "fic-propagation": "a new federated credential is not matched for N s (AADSTS70021), default 5",
    "role-propagation": "a new role assignment is not effective for N s (403), default 5",
}

DEFAULT_SECONDS = {"slow-lro": 8.0, "fic-propagation": 5.0, "role-propagation": 5.0, "throttle": 1.0}


class FaultSpecError(ValueError):
    pass


@dataclass
class Faults:
    active: dict[str, float] = field(default_factory=dict)
    _counter: itertools.count[int] = field(default_factory=itertools.count, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _burst_left: int = 0

    @classmethod
    def parse(cls, spec: str | None) -> Faults:
        active: dict[str, float] = {}
        for raw in (spec or "").split(","):
            item = raw.strip()
            if not item or item == "none":
                continue
            name, _, seconds = item.partition("=")
            name = name.strip().lower()
            names = list(PROFILES) if name == "all" else [name]
            if name != "all" and name not in PROFILES:
                known = ", ".join([*PROFILES, "all"])
                raise FaultSpecError(f"unknown fault profile {name!r}; known profiles: {known}")
            try:
                value = float(seconds) if seconds else None
            except ValueError:
                raise FaultSpecError(f"fault {name!r}: {seconds!r} is not a number of seconds") from None
            if value is not None and value < 0:
                raise FaultSpecError(f"fault {name!r}: seconds must not be negative")
            for n in names:
                active[n] = value if value is not None else DEFAULT_SECONDS.get(n, 0.0)
        return cls(active)

    def spec(self) -> str:
        return ",".join(f"{k}={v:g}" for k, v in sorted(self.active.items())) or "none"

    def on(self, name: str) -> bool:
        return name in self.active

    def seconds(self, name: str) -> float:
        """The profile's time when it is on, 0 when it is off."""
        return self.active.get(name, 0.0)

    def arm_fault(self, method: str) -> str | None:
        """Which fault (if any) this ARM call should suffer: 'throttle', 'flaky' or 'drop'."""
        if not any(self.on(n) for n in ("throttle", "flaky", "drop")):
            return None
        with self._lock:
            n = next(self._counter) + 1
            if self.on("flaky"):
                if self._burst_left:
                    self._burst_left -= 1
                    return "flaky"
                if n % 5 == 0:
                    self._burst_left = 1
                    return "flaky"
            if self.on("throttle") and n % 3 == 0:
                return "throttle"
            if self.on("drop") and method in {"GET", "PUT", "DELETE", "HEAD"} and n % 4 == 0:
                return "drop"
        return None
