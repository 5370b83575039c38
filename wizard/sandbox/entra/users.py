"""Signed-in users: the token answer a user flow gets (access, id and refresh token, client_info) and the
refresh-token store.

Refresh tokens are credentials: the store keeps only their SHA-256 (collection `refresh_tokens`), never the
value, and nothing here logs them. Each redemption hands out a new one; as in Entra, the old one stays valid until
it expires, so a client that lost the answer can retry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from wizard.sandbox import directory, tokens
from wizard.sandbox.directory import Principal
from wizard.sandbox.entra import errors
from wizard.sandbox.entra.discovery import v2_issuer
from wizard.sandbox.entra.scopes import ScopeRequest
from wizard.sandbox.ids import Ids
from wizard.sandbox.keys import b64url
from wizard.sandbox.world import World

REFRESH_TOKENS = "refresh_tokens"
REFRESH_TOKEN_SECONDS = 90 * 24 * 3600
ID_TOKEN_SECONDS = 3600

# First-party public clients that may sign users in (device code, refresh token), by app ID.
PUBLIC_CLIENTS = {
    "04b07795-8ddb-461a-bbee-02f9e1bf7b46": "Microsoft Azure CLI",
    "1950a258-227b-4e31-a9cf-717495945fc2": "Microsoft Azure PowerShell",
    "aebc6443-996d-45c2-90f0-388ff96faa56": "Visual Studio Code",
    "04f0c124-f2bc-4f59-8241-bf6df9866bbd": "Visual Studio",
    "80faf920-1908-4b52-b5ef-a8e7bedfc67a": "Azure Kubernetes Service AAD Client",
}


@dataclass(frozen=True)
class User:
    principal: Principal

    @property
    def object_id(self) -> str:
        return self.principal.object_id

    @property
    def home_tenant_id(self) -> str:
        return self.principal.tenant_id

    @property
    def username(self) -> str:
        return self.principal.username or ""


def user(world: World, object_id: str) -> User | None:
    found = directory.principal(world, object_id)
    return User(found) if found is not None and found.kind == "User" else None


def check_public_client(world: World, client_id: str, directory_name: str) -> str:
    """The client's display name; a confidential app must authenticate itself, anything else is unknown."""
    name = PUBLIC_CLIENTS.get(client_id.lower())
    if name is not None:
        return name
    if directory.app(world, client_id) is not None:
        raise errors.public_client_required()
    raise errors.app_not_found(client_id, directory_name)


def _digest(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()


def _new_refresh_token(world: World, signed_in: User, client_id: str) -> str:
    now = world.clock()
    for key, doc in world.store.items(REFRESH_TOKENS):
        if doc["expires"] <= now:
            world.store.delete(REFRESH_TOKENS, key)
    value = "sbx.rt." + Ids.secret(48)
    world.store.put(REFRESH_TOKENS, _digest(value), {
        "user": signed_in.object_id, "client_id": client_id.lower(), "issued": now,
        "expires": now + REFRESH_TOKEN_SECONDS,
    })
    return value


def redeem_refresh_token(world: World, refresh_token: str, client_id: str) -> User:
    """Who a refresh token speaks for; refuses unknown, expired or other clients' tokens."""
    doc = world.store.get(REFRESH_TOKENS, _digest(refresh_token))
    if doc is None or doc["client_id"] != client_id.lower():
        raise errors.invalid_grant()
    now = world.clock()
    if doc["expires"] <= now:
        raise errors.refresh_token_expired(doc["issued"], now)
    found = user(world, doc["user"])
    if found is None:  # the user was removed from the directory since
        raise errors.invalid_grant()
    return found


def _id_token(world: World, signed_in: User, client_id: str, tenant_id: str) -> str:
    now = int(world.clock())
    pairwise = hashlib.sha256(f"{signed_in.object_id}|{client_id.lower()}".encode()).digest()
    return world.key(tokens.ENTRA_KEY).sign({
        "aud": client_id, "iss": v2_issuer(world, tenant_id), "iat": now, "nbf": now,
        "exp": now + ID_TOKEN_SECONDS, "name": signed_in.principal.display_name, "oid": signed_in.object_id,
        "preferred_username": signed_in.username, "sub": b64url(pairwise), "tid": tenant_id, "ver": "2.0",
    })


def _client_info(signed_in: User) -> str:
    return b64url(json.dumps({"uid": signed_in.object_id, "utid": signed_in.home_tenant_id},
                             separators=(",", ":")).encode())


def token_answer(world: World, signed_in: User, client_id: str, tenant_id: str, scope: ScopeRequest) -> dict[str, Any]:
    """The 200 of a user flow, with every field MSAL needs to build its account and cache entries."""
    access_token, expires_in = tokens.issue(world, signed_in.principal, scope.audience, tenant_id=tenant_id,
                                            scopes=scope.user_scp())
    answer: dict[str, Any] = {
        "token_type": "Bearer", "scope": scope.granted(), "expires_in": expires_in, "ext_expires_in": expires_in,
        "access_token": access_token,
    }
    if "offline_access" in scope.oidc:
        answer["refresh_token"] = _new_refresh_token(world, signed_in, client_id)
    if "openid" in scope.oidc:
        answer["id_token"] = _id_token(world, signed_in, client_id, tenant_id)
    answer["client_info"] = _client_info(signed_in)
    return answer
