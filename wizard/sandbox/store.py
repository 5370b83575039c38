"""The sandbox world, persisted in SQLite so a restart keeps everything.

A small document store: named collections of JSON objects keyed by string. Reads come from memory; every write
goes through to SQLite at once. Callers get copies, so nothing changes the world without `put`.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

Doc = dict[str, Any]

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (collection, key)
);
"""


class Store:
    def __init__(self, path: Path | None) -> None:
        self._lock = threading.RLock()
        if path is not None and not path.exists():
            path.touch(mode=0o600)  # the world holds client secrets: owner-only, like the state dir
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._mem: dict[str, dict[str, Doc]] = {}
        for collection, key, body in self._db.execute("SELECT collection, key, body FROM docs"):
            self._mem.setdefault(collection, {})[key] = json.loads(body)

    def get(self, collection: str, key: str) -> Doc | None:
        with self._lock:
            doc = self._mem.get(collection, {}).get(key)
            return copy.deepcopy(doc) if doc is not None else None

    def put(self, collection: str, key: str, doc: Doc) -> None:
        body = json.dumps(doc, separators=(",", ":"))
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO docs (collection, key, body) VALUES (?, ?, ?)", (collection, key, body)
            )
            self._db.commit()
            self._mem.setdefault(collection, {})[key] = json.loads(body)

    def delete(self, collection: str, key: str) -> bool:
        with self._lock:
            existed = self._mem.get(collection, {}).pop(key, None) is not None
            if existed:
                self._db.execute("DELETE FROM docs WHERE collection = ? AND key = ?", (collection, key))
                self._db.commit()
            return existed

    def items(self, collection: str) -> list[tuple[str, Doc]]:
        with self._lock:
            return [(k, copy.deepcopy(v)) for k, v in self._mem.get(collection, {}).items()]

    def values(self, collection: str) -> Iterator[Doc]:
        for _, doc in self.items(collection):
            yield doc

    def keys(self, collection: str) -> list[str]:
        with self._lock:
            return list(self._mem.get(collection, {}))

    def is_empty(self) -> bool:
        with self._lock:
            return not any(self._mem.values())

    def close(self) -> None:
        with self._lock:
            self._db.close()
