"""`POST …/serviceaccounts/{name}/token` (TokenRequest) and the authentication.k8s.io reviews.

TokenRequest accepts JSON (the Python client) and protobuf (kubectl create token). Errors as kube-apiserver:
missing ServiceAccount 404, expiration under 10 minutes 422, bound pod missing 404, bound pod of another UID 409
(`… The object might have been deleted and then recreated`), bound pod running as another ServiceAccount 400.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from wizard.sandbox import clusters
from wizard.sandbox.kube import bodies, satokens
from wizard.sandbox.kube.authn import User, authenticate
from wizard.sandbox.kube.cluster import Cluster
from wizard.sandbox.kube.ctx import Ctx, k8s_json
from wizard.sandbox.kube.errors import Cause, bad_request, conflict, invalid, not_found
from wizard.sandbox.kube.resources import TOKEN_REQUEST_GROUP

Obj = dict[str, Any]
API_VERSION = "authentication.k8s.io/v1"


def _bound(cluster: Cluster, namespace: str, sa_name: str, ref: Obj) -> tuple[Obj | None, bool]:
    """(the bound pod or None, whether the token names the node) for a boundObjectRef."""
    kind, name, uid = ref.get("kind", ""), ref.get("name", ""), ref.get("uid", "")
    plural = {"Pod": "pods", "Secret": "secrets", "Node": "nodes"}.get(kind)
    if plural is None:
        raise invalid("TokenRequest", sa_name, [Cause("spec.boundObjectRef.kind", "Unsupported value",
                                                      'supported values: "Pod", "Secret", "Node"', kind)],
                      TOKEN_REQUEST_GROUP)
    if plural == "nodes":
        node = cluster.node
        if name != node["name"]:
            raise not_found("nodes", name)
        if uid and uid != node["uid"]:
            raise _uid_conflict(kind, name, uid)
        return None, True
    obj = cluster.objects.get(plural, namespace, name)
    if obj is None:
        raise not_found(plural, name)
    if uid and uid != obj["metadata"].get("uid"):
        raise _uid_conflict(kind, name, uid)
    if plural == "pods":
        if (obj.get("spec") or {}).get("serviceAccountName", "default") != sa_name:
            raise bad_request(f'cannot bind token for serviceaccount "{sa_name}" to pod running with different '
                              "serviceaccount name.")
        return obj, cluster.runs_here(obj)  # a node that does not exist leaves the node claim out
    return None, False


def _uid_conflict(kind: str, name: str, uid: str) -> Exception:
    return conflict(kind, name, f"the UID in the bound object reference ({uid}) does not match the UID in record. "
                                "The object might have been deleted and then recreated")


async def create_token(ctx: Ctx) -> web.Response:
    assert ctx.name is not None and ctx.namespace is not None
    body = await bodies.read_object(ctx.request, "TokenRequest", API_VERSION)
    cluster = ctx.cluster
    sa = cluster.objects.get("serviceaccounts", ctx.namespace, ctx.name)
    if sa is None:
        raise not_found("serviceaccounts", ctx.name)
    spec = body.get("spec") or {}
    expiration = int(spec.get("expirationSeconds") or satokens.DEFAULT_EXPIRATION)
    satokens.check_expiration(ctx.name, expiration)
    audiences = list(spec.get("audiences") or [clusters.token_issuer(cluster.world, cluster.record)])
    pod, with_node = (None, False)
    if spec.get("boundObjectRef"):
        pod, with_node = _bound(cluster, ctx.namespace, ctx.name, spec["boundObjectRef"])
    expiration = min(expiration, satokens.MAX_EXPIRATION)
    token, exp = satokens.mint(cluster.world, cluster.record, sa, audiences, expiration, pod,
                               cluster.node if with_node else None)
    if ctx.query.dry_run():
        token = ""
    return k8s_json(satokens.token_request_response(body, ctx.namespace, ctx.name, token, exp, audiences, expiration),
                    201)


async def token_review(request: web.Request, cluster: Cluster) -> web.Response:
    body = await bodies.read_object(request, "TokenReview", API_VERSION)
    spec = body.get("spec") or {}
    token, audiences = spec.get("token", ""), spec.get("audiences") or None
    user = authenticate(cluster.world, cluster.record, token, audiences, live=cluster.objects.get) if token else None
    status: Obj = {"authenticated": user is not None, "user": user.info() if user else {}}
    if user is None:
        status["error"] = "invalid bearer token"
    else:
        status["audiences"] = audiences or [clusters.token_issuer(cluster.world, cluster.record)]
    body["status"] = status
    body["metadata"] = {"creationTimestamp": None}
    return k8s_json(body, 201)


async def self_subject_review(request: web.Request, user: User) -> web.Response:
    await bodies.read_object(request, "SelfSubjectReview", API_VERSION)
    return k8s_json({"kind": "SelfSubjectReview", "apiVersion": API_VERSION, "metadata": {"creationTimestamp": None},
                     "status": {"userInfo": user.info()}}, 201)
