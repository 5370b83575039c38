"""Discovery (§4) and the OpenAPI minimum `kubectl apply` needs (§5). The Python client never calls these.

Legacy discovery in plain JSON even when kubectl asks for aggregated discovery first: client-go falls back.
OpenAPI v3 holds one document, `api/v1`, with a `patch` and `post` operation per kind carrying the GVK and the
`fieldValidation` parameter: that is what makes kubectl leave field validation to the server. Its
`serverRelativeURL` carries the cluster's path prefix because client-go requests it verbatim.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from wizard.sandbox import clusters
from wizard.sandbox.kube.resources import AUTHENTICATION, CORE, core_api_resources
from wizard.sandbox.world import World

Obj = dict[str, Any]

BUILD = {"gitCommit": "c3d1d9f6a1f1e5c9a6d7e8b2b6b1c3e6f0a9d2e4", "gitTreeState": "clean",
         "buildDate": "2025-06-17T18:36:52Z", "goVersion": "go1.23.10", "compiler": "gc", "platform": "linux/amd64"}


def version(record: clusters.Record) -> Obj:
    full = str(record.get("kubernetes_version") or clusters.KUBERNETES_VERSION)
    major, minor = ([*full.split("."), "0"])[:2]
    return {"major": major, "minor": minor, "gitVersion": f"v{full}", **BUILD}


def api_versions(world: World) -> Obj:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": world.host}]}


def _group(name: str) -> Obj:
    gv = {"groupVersion": f"{name}/v1", "version": "v1"}
    return {"name": name, "versions": [gv], "preferredVersion": gv}


GROUPS = {"authentication.k8s.io": AUTHENTICATION}


def api_groups() -> Obj:
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group(g) for g in GROUPS]}


def api_group(name: str) -> Obj | None:
    if name not in GROUPS:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name)}


def resource_list(group: str, version_: str) -> Obj | None:
    if group == "" and version_ == "v1":
        return {"kind": "APIResourceList", "groupVersion": "v1", "resources": core_api_resources()}
    types = GROUPS.get(group)
    if types is None or version_ != "v1":
        return None
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/v1",
            "resources": [rt.discovery() for rt in types]}


def root_paths() -> Obj:
    paths = ["/.well-known/openid-configuration", "/api", "/api/v1", "/apis", "/healthz", "/livez",
             "/openapi/v2", "/openapi/v3", "/openapi/v3/", "/openid/v1/jwks", "/readyz", "/version"]
    paths += [f"/apis/{g}" for g in GROUPS] + [f"/apis/{g}/v1" for g in GROUPS]
    return {"paths": sorted(paths)}


_FIELD_VALIDATION = {
    "name": "fieldValidation", "in": "query", "uniqueItems": True, "schema": {"type": "string"},
    "description": "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) "
                   "containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict",
}


def openapi_v1() -> Obj:
    paths: Obj = {}
    for rt in CORE.values():
        gvk = {"group": "", "version": "v1", "kind": rt.kind}
        base = f"/api/v1/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"/api/v1/{rt.plural}"
        for path, verb, action in ((base, "post", "post"), (base + "/{name}", "patch", "patch"),
                                   (base + "/{name}", "put", "put")):
            paths.setdefault(path, {})[verb] = {
                "operationId": f"{action}{'Namespaced' if rt.namespaced else ''}{rt.kind}",
                "parameters": [_FIELD_VALIDATION], "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk, "responses": {"200": {"description": "OK"}},
            }
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.6"}, "paths": paths,
            "components": {"schemas": {}}}


def openapi_hash() -> str:
    return hashlib.sha512(json.dumps(openapi_v1(), sort_keys=True).encode()).hexdigest()[:128].upper()


def openapi_root(prefix: str) -> Obj:
    return {"paths": {"api/v1": {"serverRelativeURL": f"{prefix}/openapi/v3/api/v1?hash={openapi_hash()}"}}}
