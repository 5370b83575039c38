"""Resource-provider registration per subscription: `GET …/providers[/{ns}]`, `POST …/register|unregister`,
and the 409 MissingSubscriptionRegistration every call to an unregistered namespace gets.

A registration takes a moment (Registering → Registered after the world's LRO time), as clients poll for it."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from wizard.sandbox.arm import catalog, paging, rbac
from wizard.sandbox.arm.context import Call
from wizard.sandbox.arm.errors import ArmError
from wizard.sandbox.httputil import json_response
from wizard.sandbox.world import World

COLLECTION = "arm-providers"
REGISTERED, NOT_REGISTERED = "Registered", "NotRegistered"
_SETTLES_TO = {"Registering": REGISTERED, "Unregistering": NOT_REGISTERED}


def _key(subscription_id: str, namespace: str) -> str:
    return f"{subscription_id.lower()}|{namespace.lower()}"


def seed(world: World, subscription_id: str, unregistered: list[str]) -> None:
    off = {n.lower() for n in unregistered}
    for spec in catalog.PROVIDERS:
        state = NOT_REGISTERED if spec.namespace.lower() in off and not spec.always_registered else REGISTERED
        world.store.put(COLLECTION, _key(subscription_id, spec.namespace),
                        {"namespace": spec.namespace, "state": state, "changed": 0})


def state(world: World, subscription_id: str, spec: catalog.ProviderSpec) -> str:
    if spec.always_registered:
        return REGISTERED
    key = _key(subscription_id, spec.namespace)
    doc = world.store.get(COLLECTION, key) or {"namespace": spec.namespace, "state": NOT_REGISTERED, "changed": 0}
    settled = _SETTLES_TO.get(doc["state"])
    if settled and world.clock() - doc["changed"] >= world.settings.lro_seconds:
        doc["state"] = settled
        world.store.put(COLLECTION, key, doc)
    return str(doc["state"])


def _set_state(world: World, subscription_id: str, spec: catalog.ProviderSpec, new_state: str) -> None:
    world.store.put(COLLECTION, _key(subscription_id, spec.namespace),
                    {"namespace": spec.namespace, "state": new_state, "changed": world.clock()})


def require_registered(call: Call, namespace: str) -> catalog.ProviderSpec:
    """The namespace's catalog entry; refuses unknown namespaces and unregistered ones as ARM does."""
    spec = catalog.provider(namespace)
    if spec is None:
        raise ArmError(400, "NoRegisteredProviderFound",
                       f"No registered resource provider found for location 'global' and API version "
                       f"'{call.api_version}' for namespace '{namespace}'.")
    sid = call.subscription_id
    if sid is not None and state(call.world, sid, spec) != REGISTERED:
        raise ArmError(409, "MissingSubscriptionRegistration",
                       f"The subscription is not registered to use namespace '{spec.namespace}'. "
                       "See https://aka.ms/rps-not-found for how to register subscriptions.")
    return spec


def _body(world: World, subscription_id: str, spec: catalog.ProviderSpec) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{subscription_id}/providers/{spec.namespace}",
        "namespace": spec.namespace,
        "registrationState": state(world, subscription_id, spec),
        "registrationPolicy": "RegistrationFree" if spec.always_registered else "RegistrationRequired",
        "resourceTypes": catalog.resource_types_body(spec),
    }


def _known(namespace: str) -> catalog.ProviderSpec:
    spec = catalog.provider(namespace)
    if spec is None:
        raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{namespace}' is invalid.")
    return spec


async def list_providers(call: Call, subscription_id: str) -> web.Response:
    rbac.require(call, "Microsoft.Resources/subscriptions/providers/read", f"/subscriptions/{subscription_id}")
    return paging.page(call, [_body(call.world, subscription_id, s) for s in catalog.PROVIDERS])


async def get_provider(call: Call, subscription_id: str, namespace: str) -> web.Response:
    rbac.require(call, "Microsoft.Resources/subscriptions/providers/read", f"/subscriptions/{subscription_id}")
    return json_response(_body(call.world, subscription_id, _known(namespace)))


async def change_registration(call: Call, subscription_id: str, namespace: str, action: str) -> web.Response:
    spec = _known(namespace)
    rbac.require(call, f"{spec.namespace}/{action}/action", f"/subscriptions/{subscription_id}")
    current = state(call.world, subscription_id, spec)
    if not spec.always_registered:
        if action == "register" and current != REGISTERED:
            _set_state(call.world, subscription_id, spec, "Registering")
        elif action == "unregister" and current != NOT_REGISTERED:
            _set_state(call.world, subscription_id, spec, "Unregistering")
    return json_response(_body(call.world, subscription_id, spec))
