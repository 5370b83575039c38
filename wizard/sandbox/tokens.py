"""Access tokens the sandbox's Entra issues and its ARM (and AKS clusters) accept: RS256 JWTs carrying `tid`,
`oid`, `aud`, `exp`, signed by the sandbox's Entra key (published at `/{tenant}/discovery/v2.0/keys`)."""

from __future__ import annotations

from typing import Any

import jwt

from wizard.sandbox.directory import Principal
from wizard.sandbox.world import World

ENTRA_KEY = "entra"
ACCESS_TOKEN_SECONDS = 3599

ARM_AUDIENCES = frozenset({
    "https://management.azure.com", "https://management.azure.com/",
    "https://management.core.windows.net", "https://management.core.windows.net/",
})
GRAPH_AUDIENCES = frozenset({
    "https://graph.microsoft.com", "https://graph.microsoft.com/", "00000003-0000-0000-c000-000000000000",
})
# The "Azure Kubernetes Service AAD Server" app: tokens for Entra-enabled AKS API servers are issued for it.
AKS_SERVER_APP = "6dae42f8-4368-4678-94ff-3960e28e3630"
AKS_AUDIENCES = frozenset({AKS_SERVER_APP, f"api://{AKS_SERVER_APP}"})


class TokenError(Exception):
    """Why a bearer token was refused; `reason` is a short code, the message is for people."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def audience_of_scope(scope: str) -> str:
    """`https://management.azure.com/.default` → `https://management.azure.com`, as Entra sets `aud`."""
    resource = scope.split(maxsplit=1)[0] if scope.split() else scope
    return resource.removesuffix("/.default").removesuffix(".default") or resource


def issue(world: World, principal: Principal, audience: str, *, tenant_id: str | None = None,
          scopes: str | None = None) -> tuple[str, int]:
    """An access token for `principal` in `tenant_id` (default: its home tenant); returns (jwt, expires_in)."""
    now = int(world.clock())
    tid = tenant_id or principal.tenant_id
    claims: dict[str, Any] = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{tid}/",
        "iat": now, "nbf": now, "exp": now + ACCESS_TOKEN_SECONDS,
        "tid": tid,
        "oid": principal.object_id,
        "sub": principal.object_id,
        "ver": "1.0",
        "idtyp": "user" if principal.kind == "User" else "app",
        "uti": world.ids.secret(12),
    }
    if principal.kind == "User":
        claims.update(upn=principal.username, unique_name=principal.username, name=principal.display_name,
                      scp=scopes or "user_impersonation", appid="04b07795-8ddb-461a-bbee-02f9e1bf7b46")
    else:
        claims.update(appid=principal.app_id, azp=principal.app_id, appidacr="2")
        if principal.kind == "ManagedIdentity":
            claims["xms_mirid"] = principal.display_name
    return world.key(ENTRA_KEY).sign(claims), ACCESS_TOKEN_SECONDS


def verify(world: World, token: str, audiences: frozenset[str]) -> dict[str, Any]:
    """Check signature, expiry and audience; returns the claims or raises TokenError."""
    try:
        claims = world.key(ENTRA_KEY).verify(token, options={"verify_aud": False})
    except jwt.ExpiredSignatureError:
        raise TokenError("expired", "The access token has expired.") from None
    except jwt.InvalidTokenError:
        raise TokenError("invalid", "The access token is invalid.") from None
    if claims.get("aud") not in audiences:
        raise TokenError(
            "audience",
            f"The access token has an invalid audience {claims.get('aud')!r} for this service.",
        )
    if not claims.get("tid") or not claims.get("oid"):
        raise TokenError("invalid", "The access token is invalid.")
    return claims
