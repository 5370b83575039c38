"""Seeded identifiers, so a fresh sandbox world always has the same IDs (stable snapshots and docs)."""

from __future__ import annotations

import hashlib
import secrets
import threading
import uuid

from wizard.sandbox.store import Store


def _uuid_from(material: str) -> str:
    digest = hashlib.sha256(material.encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


class Ids:
    """`named(...)` is a pure function of the seed and the name; `new()` counts up, persisted in the store."""

    def __init__(self, store: Store, seed: str) -> None:
        self._store = store
        self._seed = seed
        self._lock = threading.Lock()

    def named(self, *parts: str) -> str:
        return _uuid_from(f"{self._seed}|named|{'|'.join(parts)}")

    def new(self, kind: str = "id") -> str:
        with self._lock:
            meta = self._store.get("meta", "id-counter") or {"next": 0}
            n = meta["next"]
            self._store.put("meta", "id-counter", {"next": n + 1})
        return _uuid_from(f"{self._seed}|{kind}|{n}")

    @staticmethod
    def secret(nbytes: int = 24) -> str:
        """A credential-grade value (device codes, refresh tokens, cluster tokens): never seeded, never guessable."""
        return secrets.token_urlsafe(nbytes)
