"""Service-account tokens and the cluster's OIDC issuer documents (§11).

Each cluster signs with its own RSA key (`sa-signer:{cluster key}` in the world's key store), before and after
the OIDC issuer is enabled; only `iss` changes (the internal `https://kubernetes.default.svc.cluster.local`
becomes the public issuer URL ARM reports). The JWKS therefore stays valid across a restart and across
enablement, as on AKS. Claims follow kube-apiserver's `serviceaccount.Claims`.
"""

from __future__ import annotations

import uuid
from typing import Any

from wizard.sandbox import clusters
from wizard.sandbox.kube.errors import Cause, invalid
from wizard.sandbox.kube.meta import rfc3339
from wizard.sandbox.world import World

Obj = dict[str, Any]

DEFAULT_EXPIRATION = 3600
MIN_EXPIRATION = 600
MAX_EXPIRATION = 48 * 3600  # --service-account-max-token-expiration: longer requests are clamped to it


def signer_name(record: clusters.Record) -> str:
    return f"sa-signer:{record['key']}"


def check_expiration(name: str, seconds: int) -> None:
    """TokenRequest validation: at least 10 minutes, at most 2^32 seconds."""
    if seconds < MIN_EXPIRATION:
        raise invalid("TokenRequest", name, [Cause("spec.expirationSeconds", "Invalid value",
                                                   "may not specify a duration less than 10 minutes", seconds)],
                      "authentication.k8s.io")
    if seconds > 2 ** 32:
        raise invalid("TokenRequest", name, [Cause("spec.expirationSeconds", "Invalid value",
                                                   "may not specify a duration larger than 2^32 seconds", seconds)],
                      "authentication.k8s.io")


def mint(world: World, record: clusters.Record, service_account: Obj, audiences: list[str],
         expiration_seconds: int, pod: Obj | None = None, node: Obj | None = None) -> tuple[str, int]:
    """(JWT, exp epoch seconds) for `service_account`, optionally bound to a pod (and the pod's node)."""
    now = int(world.clock())
    exp = now + min(expiration_seconds, MAX_EXPIRATION)
    sa_meta = service_account["metadata"]
    namespace = sa_meta["namespace"]
    private: Obj = {"namespace": namespace,
                    "serviceaccount": {"name": sa_meta["name"], "uid": sa_meta.get("uid", "")}}
    if pod is not None:
        private["pod"] = {"name": pod["metadata"]["name"], "uid": pod["metadata"].get("uid", "")}
    if node is not None:
        private["node"] = {"name": node["name"], "uid": node["uid"]}
    claims: Obj = {
        "aud": list(audiences) or [clusters.token_issuer(world, record)],
        "exp": exp, "iat": now, "nbf": now,
        "iss": clusters.token_issuer(world, record),
        "jti": str(uuid.uuid4()),
        "kubernetes.io": private,
        "sub": f"system:serviceaccount:{namespace}:{sa_meta['name']}",
    }
    return world.key(signer_name(record)).sign(claims), exp


def token_request_response(request_body: Obj, namespace: str, sa_name: str, token: str, exp: int,
                           audiences: list[str], expiration_seconds: int) -> Obj:
    spec = dict(request_body.get("spec") or {})
    spec["audiences"] = audiences
    spec["expirationSeconds"] = expiration_seconds
    spec.setdefault("boundObjectRef", None)
    return {
        "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": sa_name, "namespace": namespace, "creationTimestamp": None},
        "spec": spec,
        "status": {"token": token, "expirationTimestamp": rfc3339(exp)},
    }


def openid_configuration(world: World, record: clusters.Record, jwks_uri: str) -> Obj:
    return {
        "issuer": clusters.token_issuer(world, record),
        "jwks_uri": jwks_uri,
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }


def jwks(world: World, record: clusters.Record) -> Obj:
    return {"keys": [world.key(signer_name(record)).jwk()]}


def issuers(world: World, record: clusters.Record) -> set[str]:
    """The issuers the cluster still accepts: the current one and the internal one it used before enablement."""
    return {clusters.token_issuer(world, record), clusters.INTERNAL_ISSUER}


def verify(world: World, record: clusters.Record, token: str) -> Obj | None:
    """The claims of an unexpired token this cluster signed, or None. Audience is the caller's business."""
    import jwt

    try:
        claims = world.key(signer_name(record)).verify(token, options={"verify_aud": False})
    except jwt.InvalidTokenError:
        return None
    return claims if claims.get("iss") in issuers(world, record) else None
