"""Which directory a request speaks to: the `{tenant}` segment of `/{tenant}/oauth2/v2.0/token` and friends.

Entra accepts a tenant GUID, a verified domain (contoso.onmicrosoft.com), or the multi-tenant aliases
`organizations` and `common` (the user's home tenant decides). Anything else is AADSTS90002.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wizard.sandbox import directory
from wizard.sandbox.entra import errors
from wizard.sandbox.world import World

MULTI_TENANT = frozenset({"organizations", "common"})


@dataclass(frozen=True)
class Authority:
    """`tenant` is the directory record, or None for `organizations`/`common`; `segment` is how URLs name it."""

    segment: str
    tenant: dict[str, Any] | None

    @property
    def tenant_id(self) -> str | None:
        return None if self.tenant is None else str(self.tenant["tenant_id"])

    @property
    def display_name(self) -> str:
        return self.segment if self.tenant is None else str(self.tenant["display_name"])

    def require_tenant(self) -> dict[str, Any]:
        """Flows that act as an app (client credentials) need one directory, not an alias."""
        if self.tenant is None:
            raise errors.tenant_required()
        return self.tenant


def resolve(world: World, segment: str, error: str = "invalid_request") -> Authority:
    ref = segment.lower()
    if ref in MULTI_TENANT:
        return Authority(ref, None)
    found = directory.tenant(world, ref) if directory.is_guid(ref) or "." in ref else None
    if found is None or (not directory.is_guid(ref) and found["domain"].lower() != ref):
        raise errors.tenant_not_found(segment, error)
    # URLs name the tenant by its ID, as Entra's discovery documents do even when asked by domain.
    return Authority(str(found["tenant_id"]), found)

