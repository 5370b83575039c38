"""Which handler answers an ARM path, after the caller is authenticated.

Provider paths (`…/providers/{namespace}/{type}/…`) go through one table keyed by namespace and type chain;
before any handler runs, the router checks RBAC for the route's action (`{type chain}/read|write|delete|action`
on the resource, or on the parent for a list) and the namespace's registration, so no handler can forget them.
The few fixed paths (subscriptions, tenants, resource groups, provider registration, operation results) are
matched explicitly and check their own `Microsoft.Resources/…` actions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from wizard.sandbox.arm import (
    auth,
    authorization,
    identities,
    lro,
    managedclusters,
    metadata,
    providers,
    quota,
    rbac,
    resourcegroups,
    subscriptions,
)
from wizard.sandbox.arm.context import Call, Target, parse_target
from wizard.sandbox.arm.errors import invalid_resource_type, method_not_allowed

Handler = Callable[[Call, Target], Awaitable[web.StreamResponse]]
VERBS = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete", "POST": "action"}


@dataclass(frozen=True)
class Route:
    action: str  # the ARM action prefix, canonical casing: `Microsoft.ContainerService/managedClusters`
    handler: Handler


def _routes(*routes: Route) -> dict[tuple[str, ...], Route]:
    return {tuple(route.action.lower().split("/")): route for route in routes}


PROVIDER_ROUTES = _routes(
    Route("Microsoft.ManagedIdentity/userAssignedIdentities", identities.handle_identities),
    Route("Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials", identities.handle_fics),
    Route("Microsoft.ContainerService/managedClusters", managedclusters.handle_clusters),
    Route("Microsoft.ContainerService/managedClusters/listClusterUserCredential", managedclusters.handle_credentials),
    Route("Microsoft.ContainerService/managedClusters/listClusterAdminCredential", managedclusters.handle_credentials),
    Route("Microsoft.ContainerService/locations/operations", managedclusters.handle_operation),
    Route("Microsoft.ContainerService/locations/operationresults", managedclusters.handle_operation),
    Route("Microsoft.Authorization/roleAssignments", authorization.handle_assignments),
    Route("Microsoft.Authorization/roleDefinitions", authorization.handle_definitions),
    Route("Microsoft.Quota/quotas", quota.handle),
    Route("Microsoft.Quota/usages", quota.handle),
)


def resource_scope(target: Target) -> str:
    """The scope an action is checked on: the resource itself, or the parent of a list (or of a POST action)."""
    pairs = [part for pair in zip(target.types, target.names, strict=False) for part in pair]
    if not pairs:
        return target.scope or "/"
    return f"{target.scope}/providers/{target.namespace}/" + "/".join(pairs)


def _only(call: Call, *methods: str) -> None:
    if call.method not in methods:
        raise method_not_allowed(call.method)


async def dispatch(call: Call) -> web.StreamResponse:
    lowered = call.lowered
    if lowered == ["metadata", "endpoints"]:  # read before sign-in, by the Azure CLI's cloud registration
        _only(call, "GET")
        return await metadata.endpoints(call)
    auth.authenticate(call)
    if lowered in (["subscriptions"], ["tenants"]):
        _only(call, "GET")
        return await (subscriptions.list_subscriptions(call) if lowered[0] == "subscriptions"
                      else subscriptions.list_tenants(call))
    target = parse_target(call.segments)
    if target is not None:
        return await _provider_path(call, target)
    sid = call.subscription_id
    if sid is not None:
        rest = lowered[2:]
        if not rest:
            _only(call, "GET")
            return await subscriptions.get_subscription(call)
        if rest == ["locations"]:
            _only(call, "GET")
            return await subscriptions.list_locations(call)
        if rest == ["providers"]:
            _only(call, "GET")
            return await providers.list_providers(call, sid)
        if rest == ["resourcegroups"]:
            _only(call, "GET")
            return await resourcegroups.list_groups(call, sid)
        if len(rest) == 2 and rest[0] == "resourcegroups":
            return await resourcegroups.handle_group(call, sid, call.segments[3])
        if len(rest) == 3 and rest[0] == "resourcegroups" and rest[2] == "resources":
            _only(call, "GET")
            return await resourcegroups.list_resources(call, sid, call.segments[3])
        if len(rest) == 2 and rest[0] == "operationresults":
            _only(call, "GET")
            rbac.require(call, "Microsoft.Resources/subscriptions/operationresults/read", f"/subscriptions/{sid}")
            return lro.result_response(call, call.segments[3])
    resource_type = call.segments[-1] if call.segments else ""
    raise invalid_resource_type("Microsoft.Resources", resource_type, call.api_version, call.method)


async def _provider_path(call: Call, target: Target) -> web.StreamResponse:
    sid = call.subscription_id
    at_subscription = sid is not None and target.scope.lower() == f"/subscriptions/{sid}".lower()
    if at_subscription and not target.types:
        _only(call, "GET")
        return await providers.get_provider(call, sid or "", target.namespace)
    if at_subscription and not target.names and target.types[0].lower() in {"register", "unregister"}:
        _only(call, "POST")
        return await providers.change_registration(call, sid or "", target.namespace, target.types[0].lower())
    key = (target.namespace.lower(), *(t.lower() for t in target.types))
    route = PROVIDER_ROUTES.get(key)
    if sid is None:  # above any subscription only the built-in role definitions exist, readable by anyone
        if key != ("microsoft.authorization", "roledefinitions"):
            raise invalid_resource_type(target.namespace, "/".join(target.types), call.api_version, call.method)
    elif route is not None:
        verb = VERBS.get(call.method)
        if verb is None:
            raise method_not_allowed(call.method)
        rbac.require(call, f"{route.action}/{verb}", resource_scope(target))
    spec = providers.require_registered(call, target.namespace)
    if route is None or len(target.names) not in (len(target.types), len(target.types) - 1):
        raise invalid_resource_type(spec.namespace, "/".join(target.types), call.api_version, call.method)
    if call.method == "HEAD":  # ARM answers HEAD on any resource: 204 when a GET would find it
        call.method = "GET"
        found = await route.handler(call, target)
        return web.Response(status=204 if found.status == 200 else found.status)
    return await route.handler(call, target)
