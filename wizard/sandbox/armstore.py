"""ARM resources as the sandbox keeps them.

Collection `arm`, keyed by the lower-cased resource ID; the value is the body ARM answers with (original-case
`id`), plus a private `_sandbox` member (creation time, owning tenant…) that `public()` strips before it leaves.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from wizard.sandbox.world import World

INTERNAL = "_sandbox"


def key(resource_id: str) -> str:
    return resource_id.rstrip("/").lower()


def get(world: World, resource_id: str) -> dict[str, Any] | None:
    return world.store.get("arm", key(resource_id))


def put(world: World, body: dict[str, Any]) -> None:
    world.store.put("arm", key(body["id"]), body)


def delete(world: World, resource_id: str) -> bool:
    return world.store.delete("arm", key(resource_id))


def public(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != INTERNAL}


def internal(body: dict[str, Any]) -> dict[str, Any]:
    return body.setdefault(INTERNAL, {})  # type: ignore[no-any-return]


def of_type(world: World, resource_type: str) -> Iterator[dict[str, Any]]:
    wanted = resource_type.lower()
    for body in world.store.values("arm"):
        if str(body.get("type", "")).lower() == wanted:
            yield body


def children(world: World, parent_id: str, resource_type: str) -> list[dict[str, Any]]:
    """Direct children of `parent_id` of one type, e.g. the FICs of an identity."""
    prefix = key(parent_id) + "/"
    wanted = resource_type.lower()
    return sorted(
        (b for k, b in world.store.items("arm")
         if k.startswith(prefix) and str(b.get("type", "")).lower() == wanted),
        key=lambda b: b["id"].lower(),
    )


def under(world: World, scope: str) -> list[dict[str, Any]]:
    """Every resource at or below a scope (for cascading deletes of resource groups)."""
    k = key(scope)
    return [b for kk, b in world.store.items("arm") if kk == k or kk.startswith(k + "/")]
