"""Resource groups: create/replace, get, HEAD, list, tag updates, and the asynchronous cascading delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from wizard.sandbox import armstore
from wizard.sandbox.arm import catalog, lro, paging, rbac
from wizard.sandbox.arm.context import Call, tags_member
from wizard.sandbox.arm.errors import (
    ArmError,
    location_required,
    method_not_allowed,
    resource_group_not_found,
)
from wizard.sandbox.httputil import json_response
from wizard.sandbox.world import World

RG_TYPE = "Microsoft.Resources/resourceGroups"
DELETING = "Deleting"
_ACTION = "Microsoft.Resources/subscriptions/resourceGroups"

# Resource types whose deletion must do more than drop the ARM body (a cluster takes its API server with it).
_TEARDOWN: dict[str, Callable[[World, dict[str, Any]], None]] = {}


def on_delete(resource_type: str, teardown: Callable[[World, dict[str, Any]], None]) -> None:
    _TEARDOWN[resource_type.lower()] = teardown


def rg_id(subscription_id: str, name: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{name}"


def get(world: World, subscription_id: str, name: str) -> dict[str, Any] | None:
    body = armstore.get(world, rg_id(subscription_id, name))
    return body if body and body.get("type") == RG_TYPE else None


def require(world: World, subscription_id: str, name: str, *, for_write: bool = False) -> dict[str, Any]:
    body = get(world, subscription_id, name)
    if body is None:
        raise resource_group_not_found(name)
    if for_write and body["properties"]["provisioningState"] == DELETING:
        raise ArmError(409, "ResourceGroupBeingDeleted",
                       f"The resource group '{body['name']}' is in deprovisioning state and cannot perform this "
                       "operation.")
    return body


def name_in_path(call: Call) -> str:
    """The resource group a resource path names (`/subscriptions/{s}/resourceGroups/{rg}/…`)."""
    if len(call.segments) < 4 or call.lowered[2] != "resourcegroups":
        raise ArmError(404, "InvalidResourceType", "The resource type could not be found.")
    return call.segments[3]


def listed(call: Call, resource_type: str) -> list[dict[str, Any]]:
    """The resources of one type a list path covers: the whole subscription, or one (existing) group."""
    assert call.subscription_id is not None
    prefix = f"/subscriptions/{call.subscription_id}/"
    if len(call.segments) > 3 and call.lowered[2] == "resourcegroups":
        prefix += f"resourcegroups/{require(call.world, call.subscription_id, call.segments[3])['name']}/"
    return sorted((b for b in armstore.of_type(call.world, resource_type) if b["id"].lower().startswith(
        prefix.lower())), key=lambda b: b["id"].lower())


def create(world: World, subscription_id: str, name: str, location: str, *, tags: dict[str, str] | None = None,
           managed_by: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": rg_id(subscription_id, name), "name": name, "type": RG_TYPE, "location": location}
    if managed_by:
        body["managedBy"] = managed_by
    if tags:
        body["tags"] = tags
    body["properties"] = {"provisioningState": "Succeeded"}
    armstore.put(world, body)
    return body


def delete_tree(world: World, scope: str) -> None:
    """Delete a resource (or resource group) and everything below it, tearing down what needs it."""
    for body in armstore.under(world, scope):
        teardown = _TEARDOWN.get(str(body.get("type", "")).lower())
        if teardown is not None:
            teardown(world, body)
        armstore.delete(world, body["id"])


def _finish_delete(world: World, op: lro.Operation) -> dict[str, str] | None:
    delete_tree(world, op["resource_id"])
    return None


lro.register("rg-delete", _finish_delete)


async def list_groups(call: Call, sid: str) -> web.Response:
    rbac.require(call, f"{_ACTION}/read", f"/subscriptions/{sid}")
    groups = sorted((b for b in armstore.of_type(call.world, RG_TYPE)
                     if b["id"].lower().startswith(f"/subscriptions/{sid.lower()}/")), key=lambda b: b["id"].lower())
    return paging.page(call, [armstore.public(b) for b in groups])


async def list_resources(call: Call, sid: str, name: str) -> web.Response:
    """`GET …/resourceGroups/{rg}/resources` (`az resource list -g`): the group's top-level resources, as ARM lists
    them: no child resources (federated credentials) and no extension resources (role assignments)."""
    rbac.require(call, f"{_ACTION}/resources/read", rg_id(sid, name))
    group = require(call.world, sid, name)
    depth = len([p for p in group["id"].split("/") if p]) + 4  # …/providers/{namespace}/{type}/{name}
    found = sorted((b for b in armstore.under(call.world, group["id"])
                    if len([p for p in b["id"].split("/") if p]) == depth
                    and b["id"].split("/")[6].lower() != "microsoft.authorization"),
                   key=lambda b: b["id"].lower())
    return paging.page(call, [{k: v for k, v in armstore.public(b).items() if k != "properties"} for b in found])


async def handle_group(call: Call, sid: str, name: str) -> web.StreamResponse:
    scope = call.path
    verb = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}.get(call.method)
    if verb is None:
        raise method_not_allowed(call.method)
    rbac.require(call, f"{_ACTION}/{verb}", scope)
    if call.method == "HEAD":
        return web.Response(status=204 if get(call.world, sid, name) else 404)
    if call.method == "GET":
        return json_response(armstore.public(require(call.world, sid, name)))
    if call.method == "PUT":
        return await _put(call, sid, name)
    if call.method == "PATCH":
        return await _patch(call, sid, name)
    return _delete(call, sid, name)


async def _put(call: Call, sid: str, name: str) -> web.Response:
    body = await call.json_body()
    if not body.get("location"):
        raise location_required()
    location = catalog.check_location(body["location"], RG_TYPE)
    existing = get(call.world, sid, name)
    if existing is not None:
        require(call.world, sid, name, for_write=True)
        if existing["location"] != location:
            raise ArmError(409, "InvalidResourceGroupLocation",
                           f"Invalid resource group location '{location}'. The Resource group already exists in "
                           f"location '{existing['location']}'.")
        name = existing["name"]  # resource-group names are case-insensitive; the first spelling stays
    managed_by = body.get("managedBy") if isinstance(body.get("managedBy"), str) else None
    created = create(call.world, sid, name, location, tags=tags_member(body) or None,
                     managed_by=managed_by or (existing or {}).get("managedBy"))
    return json_response(armstore.public(created), 200 if existing else 201)


async def _patch(call: Call, sid: str, name: str) -> web.Response:
    patch = await call.json_body()
    body = require(call.world, sid, name, for_write=True)
    if "tags" in patch:
        tags = tags_member(patch)
        if tags:
            body["tags"] = tags
        else:
            body.pop("tags", None)
    armstore.put(call.world, body)
    return json_response(armstore.public(body))


def _delete(call: Call, sid: str, name: str) -> web.Response:
    body = require(call.world, sid, name)
    op = lro.in_progress_for(call.world, body["id"])
    if op is None:
        body["properties"]["provisioningState"] = DELETING
        armstore.put(call.world, body)
        op = lro.start(call.world, "rg-delete", body["id"], status_path=None,
                       result_path=f"/subscriptions/{sid}/operationresults/{{id}}")
    return web.Response(status=202, headers=lro.headers(call, op))
