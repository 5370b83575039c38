"""Who is calling a cluster's API: the kubeconfig's static user/admin token, an Entra access token for the AKS
server app issued in the cluster's tenant (how the wizard reaches Entra-enabled clusters without kubelogin),
or one of the cluster's own service-account tokens (what a pod presents). Anything else is 401.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wizard.sandbox import clusters, tokens
from wizard.sandbox.kube import satokens
from wizard.sandbox.world import World


@dataclass(frozen=True)
class User:
    username: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: dict[str, list[str]] = field(default_factory=dict)

    def info(self) -> dict[str, object]:
        body: dict[str, object] = {"username": self.username, "groups": list(self.groups)}
        if self.uid:
            body["uid"] = self.uid
        if self.extra:
            body["extra"] = self.extra
        return body


Obj = dict[str, Any]
ANONYMOUS = User("system:anonymous", groups=("system:unauthenticated",))


def bearer(header: str | None) -> str | None:
    """The token of `Authorization: Bearer …`, '' for another scheme or a blank token, None without the header."""
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def authenticate(world: World, record: clusters.Record, token: str, audiences: list[str] | None = None,
                 *, live: Callable[[str, str, str], Obj | None] | None = None) -> User | None:
    """The user behind `token`, or None. Service-account tokens must be meant for the API (`audiences`, by default
    the cluster's issuers: a workload-identity token for `api://AzureADTokenExchange` is no API credential) and
    their ServiceAccount (and bound pod) must still exist with the same UID (`live(resource, ns, name)`)."""
    role = clusters.authenticate(record, token)
    if role is not None:
        # AKS local accounts: both kubeconfigs act as the cluster's master client.
        return User("masterclient", groups=("system:masters", "system:authenticated"))
    try:
        claims = tokens.verify(world, token, tokens.AKS_AUDIENCES)
    except tokens.TokenError:
        claims = None
    if claims is not None:
        if claims.get("tid") != record["tenant_id"]:
            return None
        name = claims.get("upn") or claims.get("unique_name") or claims["oid"]
        return User(str(name), uid=str(claims["oid"]), groups=("system:authenticated",),
                    extra={"oid": [str(claims["oid"])]})
    sa_claims = satokens.verify(world, record, token)
    if sa_claims is None:
        return None
    token_audiences = sa_claims.get("aud")
    token_audiences = [token_audiences] if isinstance(token_audiences, str) else list(token_audiences or [])
    if not set(token_audiences) & set(audiences or satokens.issuers(world, record)):
        return None
    private = sa_claims.get("kubernetes.io") or {}
    namespace = str(private.get("namespace", ""))
    sa = private.get("serviceaccount") or {}
    if live is not None:
        for resource, ref in (("serviceaccounts", sa), ("pods", private.get("pod"))):
            if ref is None:
                continue
            found = live(resource, namespace, str(ref.get("name", "")))
            if found is None or found["metadata"].get("uid") != ref.get("uid"):
                return None
    return User(str(sa_claims.get("sub", "")), uid=str(sa.get("uid", "")),
                groups=("system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"))
