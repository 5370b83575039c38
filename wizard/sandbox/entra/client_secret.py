"""Client credentials with a secret: a service principal of the sandbox signs in as itself.

An app lives in one home tenant; asking another tenant for it is AADSTS700016. The secret is compared in
constant time, so response timing says nothing about how much of a guess was right.
"""

from __future__ import annotations

import hmac
from typing import Any

from wizard.sandbox import directory
from wizard.sandbox.directory import Principal
from wizard.sandbox.entra import errors
from wizard.sandbox.world import World


def authenticate(world: World, tenant: dict[str, Any], client_id: str, secret: str) -> Principal:
    tenant_id = tenant["tenant_id"]
    app = directory.app(world, client_id)
    if app is None or app["tenant_id"] != tenant_id:
        identity = directory.managed_identity_by_client_id(world, client_id)
        if identity is not None and identity["properties"]["tenantId"] == tenant_id:
            # A managed identity's service principal exists in the tenant but has no secret to present.
            raise errors.invalid_client_secret(client_id)
        raise errors.app_not_found(client_id, tenant["display_name"])
    if not hmac.compare_digest(secret.encode(), str(app["secret"]).encode()):
        raise errors.invalid_client_secret(client_id)
    found = directory.principal(world, app["object_id"])
    if found is None:  # an app without its service principal cannot sign in
        raise errors.app_not_found(client_id, tenant["display_name"])
    return found
