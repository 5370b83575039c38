"""Compute quota through the Quota RP: `…/providers/Microsoft.Compute/locations/{loc}/providers/Microsoft.Quota/
quotas|usages[/{resource}]`, from the limits and usages the scenario seeds. Cluster node pools count against
the regional `cores` usage, as their VM scale sets do on Azure."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from wizard.sandbox.arm import catalog, paging
from wizard.sandbox.arm.context import Call, Target
from wizard.sandbox.arm.errors import ArmError, method_not_allowed
from wizard.sandbox.httputil import json_response
from wizard.sandbox.world import World

COLLECTION = "arm-quotas"
CORES = "cores"
LOCALIZED = {
    "cores": "Total Regional vCPUs",
    "standarddsv2family": "Standard DSv2 Family vCPUs",
    "standarddsv3family": "Standard DSv3 Family vCPUs",
    "standardbsfamily": "Standard BS Family vCPUs",
    "virtualmachines": "Virtual Machines",
}


def _key(subscription_id: str, location: str, resource: str) -> str:
    return f"{subscription_id}|{location}|{resource}".lower()


def seed(world: World, subscription_id: str, location: str, resource: str, limit: int, usage: int) -> None:
    world.store.put(COLLECTION, _key(subscription_id, location, resource),
                    {"subscription_id": subscription_id, "location": catalog.normalize_location(location),
                     "resource": resource, "limit": limit, "usage": usage})


def find(world: World, subscription_id: str, location: str, resource: str = CORES) -> dict[str, Any] | None:
    return world.store.get(COLLECTION, _key(subscription_id, catalog.normalize_location(location), resource))


def add_usage(world: World, subscription_id: str, location: str, delta: int, resource: str = CORES) -> None:
    doc = find(world, subscription_id, location, resource)
    if doc is not None:
        doc["usage"] = max(0, doc["usage"] + delta)
        world.store.put(COLLECTION, _key(subscription_id, doc["location"], resource), doc)


def _scope(subscription_id: str, location: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Compute/locations/{location}"


def _name(doc: dict[str, Any]) -> dict[str, str]:
    return {"value": doc["resource"], "localizedValue": LOCALIZED.get(doc["resource"].lower(), doc["resource"])}


def quota_body(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{_scope(doc['subscription_id'], doc['location'])}/providers/Microsoft.Quota/Quotas/{doc['resource']}",
        "type": "Microsoft.Quota/Quotas", "name": doc["resource"],
        "properties": {"limit": {"limitObjectType": "LimitValue", "value": doc["limit"], "limitType": "Independent"},
                       "unit": "Count", "name": _name(doc), "isQuotaApplicable": True},
    }


def usage_body(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{_scope(doc['subscription_id'], doc['location'])}/providers/Microsoft.Quota/Usages/{doc['resource']}",
        "type": "Microsoft.Quota/Usages", "name": doc["resource"],
        "properties": {"usages": {"usagesType": "Individual", "value": doc["usage"]}, "unit": "Count",
                       "name": _name(doc), "isQuotaApplicable": True},
    }


async def handle(call: Call, target: Target) -> web.Response:
    """`target.types[0]` is `quotas` or `usages`; the scope must be a Compute location of the subscription."""
    if call.method != "GET":
        raise method_not_allowed(call.method)
    parts = [p.lower() for p in target.scope.split("/") if p]
    kind = target.types[0].lower()
    if len(parts) != 6 or parts[2:5] != ["providers", "microsoft.compute", "locations"]:
        raise ArmError(404, "ResourceNotFound", f"The scope '{target.scope}' is not supported by the Quota "
                                                "resource provider. Use a Microsoft.Compute location scope.")
    assert call.subscription_id is not None
    location = catalog.normalize_location(target.scope.split("/")[-1])
    render = quota_body if kind == "quotas" else usage_body
    docs = sorted((d for d in call.world.store.values(COLLECTION)
                   if d["subscription_id"].lower() == call.subscription_id.lower() and d["location"] == location),
                  key=lambda d: d["resource"].lower())
    if target.is_collection:
        return paging.page(call, [render(d) for d in docs])
    doc = next((d for d in docs if d["resource"].lower() == target.name.lower()), None)
    if doc is None:
        raise ArmError(404, "ResourceNotFound",
                       f"The quota resource '{target.name}' was not found for location '{location}'.")
    return json_response(render(doc))
