"""The `scope` parameter: which resource a token is for, and what the answer's `scope` must echo.

A v2 scope is `{resource}/{permission}` (`https://management.azure.com/.default`,
`https://management.core.windows.net//.default` — the Azure CLI's spelling, whose resource keeps its slash),
plus the OpenID Connect scopes `openid profile offline_access email`. One token is for one resource.
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard.sandbox import tokens
from wizard.sandbox.entra import errors
from wizard.sandbox.world import World

OIDC_SCOPES = ("openid", "profile", "offline_access", "email")
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# Resources every sandbox tenant "has" (their service principals exist in every real tenant too).
KNOWN_RESOURCES = frozenset({
    "https://management.azure.com", "https://management.core.windows.net",
    "https://graph.microsoft.com", GRAPH_APP_ID, "https://graph.windows.net",
    tokens.AKS_SERVER_APP, f"api://{tokens.AKS_SERVER_APP}",
})


@dataclass(frozen=True)
class ScopeRequest:
    """What was asked: the resource scopes verbatim, the resource, its permissions and the OIDC scopes."""

    resource_scopes: tuple[str, ...]
    resource: str
    permissions: tuple[str, ...]
    oidc: tuple[str, ...]

    @property
    def audience(self) -> str:
        """`aud` of the access token: the resource as the client spelled it (Entra keeps the spelling)."""
        return self.resource

    @property
    def is_default(self) -> bool:
        return self.permissions == (".default",)

    def granted(self) -> str:
        """The answer's `scope`: the resource scopes, then the OIDC scopes in the order Entra lists them.

        MSAL keys its access-token cache on this string; an answer that drops the resource scope makes every
        later `get_token` miss the cache and redeem the refresh token again.
        """
        return " ".join([*self.resource_scopes, *(s for s in ("openid", "profile", "email", "offline_access")
                                                   if s in self.oidc)])

    def user_scp(self) -> str:
        """The `scp` claim of a user token: what `.default` stands for, or the permissions asked."""
        return "user_impersonation" if self.is_default else " ".join(self.permissions)


def _split(scope: str) -> tuple[str, str]:
    """`https://x/y/.default` → (`https://x/y`, `.default`); a bare permission (`User.Read`) is Graph's."""
    if "://" in scope:
        scheme, rest = scope.split("://", 1)
        if "/" not in rest:
            raise errors.invalid_scope(scope)
        host_path, permission = rest.rsplit("/", 1)
        resource = f"{scheme}://{host_path}"
    elif "/" in scope:
        resource, permission = scope.rsplit("/", 1)
    else:
        resource, permission = GRAPH_APP_ID, scope
    if not permission or not resource or resource.endswith("://"):
        raise errors.invalid_scope(scope)
    return resource, permission


def parse(world: World, raw: str, tenant_name: str) -> ScopeRequest:
    """Check the scope the way Entra does: known resource, one resource per token."""
    items = raw.split()
    if not items:
        raise errors.scope_required()
    oidc = tuple(s.lower() for s in items if s.lower() in OIDC_SCOPES)
    resource_scopes = tuple(s for s in items if s.lower() not in OIDC_SCOPES)
    if not resource_scopes:
        # Only OpenID scopes: Entra issues a Microsoft Graph token for the user's profile.
        return ScopeRequest(("User.Read",), GRAPH_APP_ID, ("User.Read",), oidc)
    split = [_split(s) for s in resource_scopes]
    resources = {r.rstrip("/").lower() for r, _ in split}
    if len(resources) > 1:
        raise errors.several_resources(raw)
    resource = split[0][0]
    if not is_known_resource(world, resource):
        raise errors.resource_not_found(resource, tenant_name)
    return ScopeRequest(resource_scopes, resource, tuple(p for _, p in split), oidc)


def is_known_resource(world: World, resource: str) -> bool:
    """Azure's first-party resources, or the sandbox itself (the Azure CLI recipe registers the sandbox URL as
    its Microsoft Graph resource ID)."""
    normalized = resource.rstrip("/").lower()
    return normalized in KNOWN_RESOURCES or normalized == world.base_url.lower()
