"""User-assigned managed identities and their federated identity credentials (`ManagedServiceIdentityClient`).

Identity PUTs answer at once (200/201, never 202: the SDK has no poller for them). FIC writes follow the
Managed Identity RP's rules: name pattern, https issuer, exactly one audience, 20 per identity, a unique
issuer+subject pair, and one write at a time per identity (a concurrent one is refused with 409).
`_sandbox.created` on a FIC records when its matching data last changed, for Entra's propagation fault.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from wizard.sandbox import armstore
from wizard.sandbox.arm import catalog, paging, resourcegroups
from wizard.sandbox.arm.context import Call, Target, object_member, string_member, tags_member
from wizard.sandbox.arm.errors import (
    ArmError,
    bad_request,
    location_mismatch,
    location_required,
    method_not_allowed,
    resource_not_found,
)
from wizard.sandbox.httputil import json_response
from wizard.sandbox.world import World

NAMESPACE = "Microsoft.ManagedIdentity"
UAMI_TYPE = f"{NAMESPACE}/userAssignedIdentities"
FIC_TYPE = f"{UAMI_TYPE}/federatedIdentityCredentials"
UAMI_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$")
FIC_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{2,119}$")
MAX_FICS = 20
MAX_FIC_FIELD = 600
# How long one FIC write holds its identity; a second write arriving meanwhile gets 409, as on Azure.
FIC_WRITE_SECONDS = 0.05

# From this api-version on, identities show `properties.assignmentRestrictions`.
RESTRICTIONS_SINCE = "2026-05-31"

# Identities with a FIC write in progress, per world (several sandboxes may share a process in tests).
_busy: set[tuple[int, str]] = set()


def identity_id(subscription_id: str, resource_group: str, name: str) -> str:
    # The Managed Identity RP spells the segment `resourcegroups` in the IDs it returns.
    return f"/subscriptions/{subscription_id}/resourcegroups/{resource_group}/providers/{UAMI_TYPE}/{name}"


def create_identity(world: World, identity: str, name: str, location: str, tenant_id: str, *,
                    new_id: Callable[[str], str], tags: dict[str, Any] | None = None) -> dict[str, Any]:
    """Store an identity with fresh client and principal IDs (used by PUT and by AKS for kubelet identities)."""
    body: dict[str, Any] = {"id": identity, "name": name, "type": UAMI_TYPE, "location": location}
    if tags:
        body["tags"] = tags
    body["properties"] = {"tenantId": tenant_id, "principalId": new_id("uami-principal"),
                          "clientId": new_id("uami-client"), "isolationScope": "None",
                          "assignmentRestrictions": {"providers": []}}
    armstore.put(world, body)
    return body


def _view(call: Call, body: dict[str, Any]) -> dict[str, Any]:
    """The identity as the requested api-version shows it."""
    out = armstore.public(body)
    if call.api_version < RESTRICTIONS_SINCE:
        out["properties"] = {k: v for k, v in out["properties"].items() if k != "assignmentRestrictions"}
    return out


async def handle_identities(call: Call, target: Target) -> web.StreamResponse:
    sid = call.subscription_id
    assert sid is not None
    if target.is_collection:
        if call.method != "GET":
            raise method_not_allowed(call.method)
        return paging.page(call, [_view(call, b) for b in resourcegroups.listed(call, UAMI_TYPE)])
    rg = resourcegroups.name_in_path(call)
    ident = identity_id(sid, rg, target.name)
    if call.method == "GET":
        return json_response(_view(call, _require_identity(call, rg, target.name)))
    if call.method == "PUT":
        return await _put_identity(call, sid, rg, target.name)
    if call.method == "PATCH":
        body = _require_identity(call, rg, target.name)
        patch = await call.json_body()
        if "tags" in patch:
            body["tags"] = tags_member(patch)
        armstore.put(call.world, body)
        return json_response(_view(call, body))
    if call.method == "DELETE":
        resourcegroups.require(call.world, sid, rg)
        existed = armstore.get(call.world, ident) is not None
        resourcegroups.delete_tree(call.world, ident)
        return web.Response(status=200 if existed else 204)
    raise method_not_allowed(call.method)


def _require_identity(call: Call, rg: str, name: str) -> dict[str, Any]:
    assert call.subscription_id is not None
    resourcegroups.require(call.world, call.subscription_id, rg)
    body = armstore.get(call.world, identity_id(call.subscription_id, rg, name))
    if body is None:
        raise resource_not_found(f"{UAMI_TYPE}/{name}", rg)
    return body


async def _put_identity(call: Call, sid: str, rg: str, name: str) -> web.Response:
    if not UAMI_NAME.match(name):
        raise bad_request("InvalidResourceName",
                          f"The resource name '{name}' is invalid. The name must be 3 to 128 characters long, start "
                          "with a letter or number, and contain only letters, numbers, hyphens and underscores.")
    body = await call.json_body()
    group = resourcegroups.require(call.world, sid, rg, for_write=True)
    if not body.get("location"):
        raise location_required()
    location = catalog.check_location(body["location"], UAMI_TYPE)
    ident = identity_id(sid, group["name"], name)
    existing = armstore.get(call.world, ident)
    if existing is None:
        assert call.subscription is not None
        created = create_identity(call.world, ident, name, location, call.subscription["tenant_id"],
                                  new_id=call.world.ids.new, tags=tags_member(body))
        return json_response(_view(call, created), 201)
    if existing["location"] != location:
        raise location_mismatch(existing["name"], existing["location"], group["name"], location)
    tags = tags_member(body)
    if tags:
        existing["tags"] = tags
    else:
        existing.pop("tags", None)
    isolation = object_member(body, "properties").get("isolationScope")
    if isolation in {"None", "Regional"}:
        existing["properties"]["isolationScope"] = isolation
    armstore.put(call.world, existing)
    return json_response(_view(call, existing), 200)


# -- federated identity credentials ---------------------------------------------------------------------------


async def handle_fics(call: Call, target: Target) -> web.StreamResponse:
    rg = resourcegroups.name_in_path(call)
    identity = _require_identity(call, rg, target.names[0])
    if target.is_collection:
        if call.method != "GET":
            raise method_not_allowed(call.method)
        fics = armstore.children(call.world, identity["id"], FIC_TYPE)
        return paging.page(call, [armstore.public(b) for b in fics])
    fic_id = f"{identity['id']}/federatedIdentityCredentials/{target.name}"
    if call.method == "GET":
        fic = armstore.get(call.world, fic_id)
        if fic is None:
            raise resource_not_found(f"{UAMI_TYPE}/{identity['name']}/federatedIdentityCredentials/{target.name}",
                                     rg)
        return json_response(armstore.public(fic))
    if call.method not in {"PUT", "DELETE"}:
        raise method_not_allowed(call.method)
    body = await call.json_body() if call.method == "PUT" else {}
    lock = (id(call.world), identity["id"].lower())
    if lock in _busy:
        raise ArmError(409, "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
                       "Too many Federated Identity Credentials are written concurrently for the managed identity "
                       f"'{lock[1]}'. Concurrent Federated Identity Credentials writes under the same managed identity "
                       "are not supported.")
    _busy.add(lock)
    try:
        await asyncio.sleep(FIC_WRITE_SECONDS)
        if call.method == "DELETE":
            return web.Response(status=200 if armstore.delete(call.world, fic_id) else 204)
        return _put_fic(call, identity, fic_id, target.name, body)
    finally:
        _busy.discard(lock)


def _fic_properties(body: dict[str, Any]) -> tuple[str, str, list[str]]:
    props = object_member(body, "properties")
    issuer = string_member(props, "issuer", "properties.issuer")
    subject = string_member(props, "subject", "properties.subject")
    audiences = props.get("audiences")
    if not issuer or not subject or not isinstance(audiences, list) or not audiences:
        raise bad_request("BadRequest", "The request format was unexpected. Federated Identity Credential must "
                                        "specify 'issuer', 'subject' and 'audience'.")
    if len(audiences) != 1 or not isinstance(audiences[0], str) or not audiences[0]:
        raise bad_request("InvalidFederatedIdentityCredentialsAudienceLength",
                          "Federated identity credentials must have exactly 1 audience.")
    if not issuer.startswith("https://") or len(issuer) > MAX_FIC_FIELD or " " in issuer:
        raise bad_request("BadRequest", f"The issuer '{issuer}' is invalid. The issuer must be a valid https URL "
                                        f"of at most {MAX_FIC_FIELD} characters.")
    for field_name, value in (("subject", subject), ("audience", audiences[0])):
        if len(value) > MAX_FIC_FIELD:
            raise bad_request("BadRequest", f"The {field_name} of a Federated Identity Credential must be at most "
                                            f"{MAX_FIC_FIELD} characters long.")
    return issuer, subject, [audiences[0]]


def _put_fic(call: Call, identity: dict[str, Any], fic_id: str, name: str, body: dict[str, Any]) -> web.Response:
    if not FIC_NAME.match(name):
        raise bad_request("BadRequest", f"Federated Identity Credential name '{name}' is invalid. The name must be 3 "
                                        "to 120 characters long, start with a letter or number, and contain only "
                                        "letters, numbers, hyphens and underscores.")
    issuer, subject, audiences = _fic_properties(body)
    siblings = armstore.children(call.world, identity["id"], FIC_TYPE)
    existing = next((f for f in siblings if f["id"].lower() == fic_id.lower()), None)
    others = [f for f in siblings if f is not existing]
    if any(f["properties"]["issuer"] == issuer and f["properties"]["subject"] == subject for f in others):
        raise bad_request("BadRequest", "Issuer and subject combination already exists for this Managed Identity.")
    if existing is None and len(siblings) >= MAX_FICS:
        raise bad_request("BadRequest", f"The managed identity '{identity['name']}' already has the maximum of "
                                        f"{MAX_FICS} Federated Identity Credentials.")
    props = {"issuer": issuer, "subject": subject, "audiences": audiences}
    fic: dict[str, Any] = {"id": existing["id"] if existing else fic_id, "name": existing["name"] if existing else name,
                           "type": FIC_TYPE, "properties": props}
    created = call.world.clock()
    if existing is not None and existing["properties"] == props:  # the matching data did not change
        created = armstore.internal(existing).get("created", created)
    armstore.internal(fic)["created"] = created
    armstore.put(call.world, fic)
    return json_response(armstore.public(fic), 200 if existing else 201)
