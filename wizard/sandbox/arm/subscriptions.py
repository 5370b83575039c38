"""Subscriptions, tenants and locations (`SubscriptionClient`): what a signed-in caller can see."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from wizard.sandbox import directory
from wizard.sandbox.arm import catalog, paging, rbac
from wizard.sandbox.arm.context import Call
from wizard.sandbox.httputil import json_response


def subscription_body(sub: dict[str, Any]) -> dict[str, Any]:
    sid = sub["subscription_id"]
    return {
        "id": f"/subscriptions/{sid}", "authorizationSource": "RoleBased", "managedByTenants": [],
        "subscriptionId": sid, "tenantId": sub["tenant_id"], "displayName": sub["display_name"],
        "state": sub.get("state", "Enabled"),
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
                                 "spendingLimit": "Off"},
        "tags": {},
    }


def tenant_body(tenant: dict[str, Any]) -> dict[str, Any]:
    tid = tenant["tenant_id"]
    return {
        "id": f"/tenants/{tid}", "tenantId": tid, "countryCode": "US", "displayName": tenant["display_name"],
        "domains": [tenant["domain"]], "tenantCategory": "Home", "defaultDomain": tenant["domain"],
        "tenantType": "AAD",
    }


async def list_subscriptions(call: Call) -> web.Response:
    """Only the token tenant's subscriptions where the caller holds some role (at, above or below them)."""
    visible = [subscription_body(s) for s in directory.subscriptions(call.world, call.tenant_id)
               if rbac.has_access_within(call.world, call.caller_id, s["subscription_id"])]
    return paging.page(call, visible)


async def get_subscription(call: Call) -> web.Response:
    assert call.subscription is not None
    scope = f"/subscriptions/{call.subscription['subscription_id']}"
    rbac.require(call, "Microsoft.Resources/subscriptions/read", scope)
    return json_response(subscription_body(call.subscription))


async def list_tenants(call: Call) -> web.Response:
    tenant = directory.tenant(call.world, call.tenant_id)
    return paging.page(call, [tenant_body(tenant)] if tenant else [])


async def list_locations(call: Call) -> web.Response:
    assert call.subscription is not None
    sid = call.subscription["subscription_id"]
    rbac.require(call, "Microsoft.Resources/subscriptions/locations/read", f"/subscriptions/{sid}")
    return paging.page(call, [catalog.location_body(sid, r) for r in catalog.REGIONS])
