"""One cluster's objects: an in-memory index written through to the sandbox store, the cluster-wide
resourceVersion counter (persisted, so it never goes backwards across restarts) and the watch bus.

Everything here runs on the sandbox's event loop; the watch bus hands changes to watchers through asyncio
queues. The history of recent changes lives in memory only: after a restart, resuming a watch from an older
resourceVersion gets 410 Expired, exactly what a real client must be able to cope with.
"""

from __future__ import annotations

import asyncio
import builtins
import collections
import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wizard.sandbox.world import World

Obj = dict[str, Any]
META_COLLECTION = "k8s-meta"


@dataclass(frozen=True)
class Change:
    rv: int
    type: str  # ADDED, MODIFIED or DELETED
    resource: str
    old: Obj | None  # the object before (None for ADDED)
    new: Obj  # the object after (for DELETED: its last state, stamped with the deletion's resourceVersion)


@dataclass(eq=False)
class Subscription:
    """A watcher's inbox: every change of one resource type; None means the cluster went away."""

    resource: str
    queue: asyncio.Queue[Change | None] = field(default_factory=asyncio.Queue)


class HistoryExpired(Exception):
    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")


class WatchBus:
    def __init__(self, size: int, start_rv: int) -> None:
        self._history: collections.deque[Change] = collections.deque()
        self._size = max(1, size)
        # Every change with rv > _complete_after is still in the history.
        self._complete_after = start_rv
        self._subscribers: set[Subscription] = set()

    def publish(self, change: Change) -> None:
        self._history.append(change)
        while len(self._history) > self._size:
            self._complete_after = self._history.popleft().rv
        for sub in list(self._subscribers):
            if sub.resource == change.resource:
                sub.queue.put_nowait(change)

    def since(self, resource: str, rv: int) -> list[Change]:
        """The changes of `resource` after `rv`, or HistoryExpired when some of them are no longer known."""
        if rv < self._complete_after:
            raise HistoryExpired(rv, self._complete_after + 1)
        return [c for c in self._history if c.rv > rv and c.resource == resource]

    def subscribe(self, resource: str) -> Subscription:
        sub = Subscription(resource)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    def close_all(self) -> None:
        for sub in list(self._subscribers):
            sub.queue.put_nowait(None)
        self._subscribers.clear()


def _key(resource: str, namespace: str, name: str) -> str:
    return f"{resource}/{namespace}/{name}"


class ObjectStore:
    """Objects of one cluster by (resource, namespace, name); callers always get and give copies."""

    def __init__(self, world: World, cluster_key: str) -> None:
        self._world = world
        self._cluster_key = cluster_key
        self._collection = f"k8s:{cluster_key}"
        self._items: dict[str, dict[tuple[str, str], Obj]] = {}
        top = 0
        for key, obj in world.store.items(self._collection):
            resource, namespace, name = key.split("/", 2)
            self._items.setdefault(resource, {})[(namespace, name)] = obj
            top = max(top, int(obj.get("metadata", {}).get("resourceVersion") or 0))
        meta = world.store.get(META_COLLECTION, cluster_key) or {}
        self._rv = max(int(meta.get("rv", 0)), top)
        self.bus = WatchBus(world.settings.watch_history, self._rv)

    @property
    def resource_version(self) -> str:
        return str(self._rv)

    def _next_rv(self) -> int:
        self._rv += 1
        self._world.store.put(META_COLLECTION, self._cluster_key, {"rv": self._rv})
        return self._rv

    def get(self, resource: str, namespace: str, name: str) -> Obj | None:
        obj = self._items.get(resource, {}).get((namespace, name))
        return copy.deepcopy(obj) if obj is not None else None

    def exists(self, resource: str, namespace: str, name: str) -> bool:
        return (namespace, name) in self._items.get(resource, {})

    def list(self, resource: str, namespace: str | None = None) -> list[Obj]:
        """Copies sorted by (namespace, name), the order list calls and continue tokens rely on."""
        found = [(k, v) for k, v in self._items.get(resource, {}).items() if namespace is None or k[0] == namespace]
        return [copy.deepcopy(v) for _, v in sorted(found, key=lambda kv: kv[0])]

    def find(self, resource: str, namespace: str | None, predicate: Callable[[Obj], bool]) -> builtins.list[Obj]:
        """Copies of the objects `predicate` accepts (it sees the stored objects: it must not change them)."""
        return [copy.deepcopy(v) for k, v in sorted(self._items.get(resource, {}).items())
                if (namespace is None or k[0] == namespace) and predicate(v)]

    def count(self, resource: str, namespace: str | None = None) -> int:
        return sum(1 for k in self._items.get(resource, {}) if namespace is None or k[0] == namespace)

    def put(self, resource: str, obj: Obj) -> Obj:
        """Create or replace: stamps a new resourceVersion, persists, and tells watchers (ADDED or MODIFIED)."""
        meta = obj["metadata"]
        ident = (meta.get("namespace", ""), meta["name"])
        old = self._items.get(resource, {}).get(ident)
        stored = copy.deepcopy(obj)
        rv = self._next_rv()
        stored["metadata"]["resourceVersion"] = str(rv)
        self._world.store.put(self._collection, _key(resource, *ident), stored)
        self._items.setdefault(resource, {})[ident] = stored
        self.bus.publish(Change(rv, "MODIFIED" if old is not None else "ADDED", resource,
                                copy.deepcopy(old) if old is not None else None, copy.deepcopy(stored)))
        return copy.deepcopy(stored)

    def remove(self, resource: str, namespace: str, name: str) -> Obj | None:
        """Delete for good (DELETED event); returns the object's last state, or None if it was not there."""
        old = self._items.get(resource, {}).pop((namespace, name), None)
        if old is None:
            return None
        self._world.store.delete(self._collection, _key(resource, namespace, name))
        final = copy.deepcopy(old)
        rv = self._next_rv()
        final["metadata"]["resourceVersion"] = str(rv)
        self.bus.publish(Change(rv, "DELETED", resource, copy.deepcopy(old), copy.deepcopy(final)))
        return final

    def drop_all(self) -> None:
        """The cluster is gone: forget every object (no events) and end every watch."""
        for key in self._world.store.keys(self._collection):
            self._world.store.delete(self._collection, key)
        self._world.store.delete(META_COLLECTION, self._cluster_key)
        self._items.clear()
        self.bus.close_all()
