"""The sandbox's shared state: store, seeded IDs, signing keys, fault profile, base URL, clock, request log.

Every service (Entra, Graph, ARM, the clusters) reads and changes the world only through this object and the
small modules next to it (directory, tokens, clusters, armstore), so their contracts stay in one place.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard.sandbox.faults import Faults
from wizard.sandbox.ids import Ids
from wizard.sandbox.keys import SigningKey, load_or_create
from wizard.sandbox.store import Store


@dataclass
class Settings:
    # Device-code logins are approved automatically after this many seconds (None: only the approval page).
    device_code_auto_approve: float | None = 2.0
    # The interval the devicecode answer tells clients to poll at.
    device_code_interval: int = 1
    # How long a long-running operation (cluster create/update) stays InProgress without slow-lro.
    lro_seconds: float = 1.0
    # Pod lifecycle pace: every kubelet delay is divided by this.
    kubelet_speed: float = 1.0
    # Which upstream webhook layout the clusters emulate: "1.6" or "1.5".
    webhook_version: str = "1.6"
    # Kubernetes watch history kept for resourceVersion resume.
    watch_history: int = 2000


@dataclass
class RequestRecord:
    at: float
    method: str
    path: str
    status: int
    service: str


@dataclass
class World:
    state_dir: Path
    store: Store
    ids: Ids
    faults: Faults = field(default_factory=Faults)
    settings: Settings = field(default_factory=Settings)
    base_url: str = ""  # https://127.0.0.1:PORT, set once the server is bound
    ca_path: Path | None = None
    clock: Callable[[], float] = time.time
    requests: collections.deque[RequestRecord] = field(default_factory=lambda: collections.deque(maxlen=5000))
    request_counts: collections.Counter[str] = field(default_factory=collections.Counter)
    _keys: dict[str, SigningKey] = field(default_factory=dict, repr=False)
    _listeners: dict[str, list[Callable[..., Any]]] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def key(self, name: str) -> SigningKey:
        with self._lock:
            if name not in self._keys:
                self._keys[name] = load_or_create(self.store, name)
            return self._keys[name]

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`, what azure-identity calls the authority."""
        return self.base_url.removeprefix("https://")

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # A tiny event bus, so one service can react to another's changes without importing it
    # (e.g. the clusters come up when ARM creates a managed cluster).
    def on(self, event: str, listener: Callable[..., Any]) -> None:
        self._listeners.setdefault(event, []).append(listener)

    def emit(self, event: str, *args: Any) -> None:
        for listener in list(self._listeners.get(event, [])):
            listener(*args)

    def record(self, method: str, path: str, status: int, service: str) -> None:
        self.requests.append(RequestRecord(self.clock(), method, path, status, service))
        self.request_counts[service] += 1
