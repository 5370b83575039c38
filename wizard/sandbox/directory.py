"""Entra directory objects of the sandbox: tenants, subscriptions, users, service principals, and the service
principal behind each user-assigned managed identity (found through ARM's identity resources).

Collections: `tenants` (key tenant ID), `subscriptions` (key subscription ID), `users` (key object ID),
`apps` (key client ID; a service principal with a client secret, living in one tenant).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from wizard.sandbox import armstore
from wizard.sandbox.world import World

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
UAMI_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"


def is_guid(value: str) -> bool:
    return bool(GUID.match(value))


@dataclass(frozen=True)
class Principal:
    """Who a token speaks for. `kind` is 'User', 'ServicePrincipal' (an app) or 'ManagedIdentity'."""

    object_id: str
    tenant_id: str
    kind: str
    display_name: str
    app_id: str | None = None
    username: str | None = None


def tenant(world: World, ref: str) -> dict[str, Any] | None:
    """A tenant by ID, by verified domain (contoso.onmicrosoft.com) or by short name (contoso)."""
    ref_l = ref.lower()
    direct = world.store.get("tenants", ref_l)
    if direct:
        return direct
    for t in world.store.values("tenants"):
        if ref_l in {t["domain"].lower(), t["name"].lower()}:
            return t
    return None


def tenants(world: World) -> list[dict[str, Any]]:
    return sorted(world.store.values("tenants"), key=lambda t: t["name"])


def subscription(world: World, subscription_id: str) -> dict[str, Any] | None:
    return world.store.get("subscriptions", subscription_id.lower())


def subscriptions(world: World, tenant_id: str | None = None) -> list[dict[str, Any]]:
    subs = world.store.values("subscriptions")
    return sorted(
        (s for s in subs if tenant_id is None or s["tenant_id"] == tenant_id), key=lambda s: s["display_name"]
    )


def app(world: World, client_id: str) -> dict[str, Any] | None:
    return world.store.get("apps", client_id.lower())


def user_by_name(world: World, username: str) -> dict[str, Any] | None:
    for u in world.store.values("users"):
        if u["username"].lower() == username.lower():
            return u
    return None


def users(world: World, tenant_id: str) -> list[dict[str, Any]]:
    return sorted((u for u in world.store.values("users") if u["tenant_id"] == tenant_id),
                  key=lambda u: u["username"])


def managed_identities(world: World, tenant_id: str | None = None) -> list[dict[str, Any]]:
    """ARM bodies of the user-assigned identities (optionally only those owned by one tenant)."""
    found = []
    for body in armstore.of_type(world, UAMI_TYPE):
        if tenant_id is None or body["properties"]["tenantId"] == tenant_id:
            found.append(body)
    return found


def managed_identity_by_client_id(world: World, client_id: str) -> dict[str, Any] | None:
    for body in armstore.of_type(world, UAMI_TYPE):
        if body["properties"]["clientId"].lower() == client_id.lower():
            return body
    return None


def principal(world: World, object_id: str) -> Principal | None:
    """Any directory object by object ID: user, app's service principal, or a managed identity's."""
    oid = object_id.lower()
    user = world.store.get("users", oid)
    if user:
        return Principal(oid, user["tenant_id"], "User", user["display_name"], username=user["username"])
    for a in world.store.values("apps"):
        if a["object_id"] == oid:
            return Principal(oid, a["tenant_id"], "ServicePrincipal", a["display_name"], app_id=a["app_id"])
    for body in armstore.of_type(world, UAMI_TYPE):
        props = body["properties"]
        if props["principalId"].lower() == oid:
            return Principal(oid, props["tenantId"], "ManagedIdentity", body["name"], app_id=props["clientId"])
    return None
