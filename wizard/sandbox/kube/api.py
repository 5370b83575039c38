"""One cluster's API: the paths below `/k8s/{key}`, after authentication.

Discovery, health, OpenAPI and the in-cluster issuer documents are answered here; resource paths go to the
generic verbs (`handlers.py`), watches (`watch.py`), logs (`podlogs.py`) and TokenRequest (`tokenapi.py`).
"""

from __future__ import annotations

from aiohttp import web

from wizard.sandbox import clusters
from wizard.sandbox.kube import discovery, handlers, podlogs, satokens, tokenapi, watch
from wizard.sandbox.kube.authn import User
from wizard.sandbox.kube.bodies import Query, negotiate
from wizard.sandbox.kube.cluster import Cluster
from wizard.sandbox.kube.ctx import Ctx, k8s_json
from wizard.sandbox.kube.errors import method_not_allowed, resource_not_found
from wizard.sandbox.kube.resources import CORE, TOKEN_REQUEST_GROUP
from wizard.sandbox.kube.routing import ResourcePath, parse_resource_path

HEALTH = ("healthz", "livez", "readyz")
JWKS_TYPE = "application/jwk-set+json"


def is_public(segments: list[str]) -> bool:
    """What `system:public-info-viewer` lets anyone read: version and health."""
    return bool(segments) and (segments[0] in HEALTH or segments == ["version"])


def _text(body: str, status: int = 200) -> web.Response:
    return web.Response(status=status, text=body, content_type="text/plain")


async def dispatch(request: web.Request, cluster: Cluster, segments: list[str], user: User) -> web.StreamResponse:
    method = request.method
    if segments and segments[0] in HEALTH:
        if method not in {"GET", "HEAD"}:
            raise method_not_allowed()
        return _text("ok")
    static = _static(cluster, segments)
    if static is not None:
        if method not in {"GET", "HEAD"}:
            raise method_not_allowed()
        return static
    if segments[:2] == ["api", "v1"]:
        target = parse_resource_path("", "v1", segments[2:])
    elif len(segments) >= 4 and segments[0] == "apis":
        target = parse_resource_path(segments[1], segments[2], segments[3:])
    else:
        target = None
    if target is None:
        raise resource_not_found()
    if target.group == TOKEN_REQUEST_GROUP and target.version == "v1" and target.namespace is None \
            and target.name is None and not target.watch:
        if method != "POST":
            raise method_not_allowed()
        if target.resource == "tokenreviews":
            return await tokenapi.token_review(request, cluster)
        if target.resource == "selfsubjectreviews":
            return await tokenapi.self_subject_review(request, user)
    if target.group != "" or target.version != "v1":
        raise resource_not_found()
    return await _resource(request, cluster, target, user)


def _static(cluster: Cluster, segments: list[str]) -> web.StreamResponse | None:
    """The GET-only documents, or None for a resource path."""
    world, record = cluster.world, cluster.record
    path = "/".join(segments)
    if path == "":
        return k8s_json(discovery.root_paths())
    if path == "version":
        return k8s_json(discovery.version(record))
    if path == "api":
        return k8s_json(discovery.api_versions(world))
    if path == "apis":
        return k8s_json(discovery.api_groups())
    if path == "api/v1":
        return k8s_json(discovery.resource_list("", "v1"))
    if len(segments) == 2 and segments[0] == "apis":
        group = discovery.api_group(segments[1])
        if group is None:
            raise resource_not_found()
        return k8s_json(group)
    if len(segments) == 3 and segments[0] == "apis":
        found = discovery.resource_list(segments[1], segments[2])
        if found is None:
            raise resource_not_found()
        return k8s_json(found)
    if path in {"openapi/v3", "openapi/v3/"}:
        return k8s_json(discovery.openapi_root(f"/k8s/{cluster.key}"))
    if path == "openapi/v3/api/v1":
        return k8s_json(discovery.openapi_v1())
    if path.startswith("openapi/"):
        raise resource_not_found()
    if path == ".well-known/openid-configuration":
        jwks_uri = clusters.server_url(world, record) + "/openid/v1/jwks"
        return k8s_json(satokens.openid_configuration(world, record, jwks_uri))
    if path == "openid/v1/jwks":
        return web.Response(body=k8s_json(satokens.jwks(world, record)).body, content_type=JWKS_TYPE)
    return None


SUBRESOURCES = {("pods", "log"): {"GET"}, ("pods", "status"): {"GET", "PUT", "PATCH"},
                ("namespaces", "status"): {"GET", "PUT", "PATCH"}, ("namespaces", "finalize"): {"PUT"},
                ("serviceaccounts", "token"): {"POST"}}


async def _resource(request: web.Request, cluster: Cluster, target: ResourcePath, user: User) \
        -> web.StreamResponse:
    rt = CORE.get(target.resource)
    if rt is None:
        raise resource_not_found()
    if target.namespace is not None and not rt.namespaced:
        raise resource_not_found()
    if rt.namespaced and target.namespace is None and target.name is not None:
        raise resource_not_found()
    query = Query(request)
    ctx = Ctx(request, cluster, rt, target.namespace, target.name, target.subresource, query,
              negotiate(request.headers.get("Accept")), user.username)
    if target.subresource is not None:
        allowed = SUBRESOURCES.get((rt.plural, target.subresource))
        if allowed is None:
            raise resource_not_found()
        if request.method not in allowed:
            raise method_not_allowed()
        if target.subresource == "log":
            return await podlogs.serve(ctx)
        if target.subresource == "token":
            return await tokenapi.create_token(ctx)
        if request.method == "GET":
            return await handlers.get(ctx)
        return await (handlers.update if request.method == "PUT" else handlers.patch)(ctx)
    wants_watch = target.watch or query.flag("watch")
    if wants_watch:
        if request.method != "GET":
            raise method_not_allowed()
        if target.name is not None:
            ctx = _single_object_watch(ctx, target.name)
        return await watch.serve(ctx)
    if rt.namespaced and target.namespace is None and request.method not in {"GET"}:
        raise method_not_allowed()
    handler = handlers.method_for(ctx)
    response: web.StreamResponse = await handler(ctx)
    return response


def _single_object_watch(ctx: Ctx, name: str) -> Ctx:
    """`/watch/…/pods/{name}` is a watch of the collection narrowed to that name."""
    selector = ctx.query.get("fieldSelector")
    combined = f"metadata.name={name}" + (f",{selector}" if selector else "")

    class _NarrowQuery(Query):
        def get(self, key: str, default: str = "") -> str:
            return combined if key == "fieldSelector" else super().get(key, default)

    return Ctx(ctx.request, ctx.cluster, ctx.rt, ctx.namespace, None, None, _NarrowQuery(ctx.request), ctx.wanted,
               ctx.user)

