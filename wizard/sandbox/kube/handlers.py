"""Generic REST verbs over one resource type: get, list, create, update (PUT), patch, delete, deletecollection.

The order of checks follows the API server: namespace lifecycle, mutating admission, name generation,
validation, then storage (AlreadyExists / Conflict). Per-type behaviour comes from `kinds.py` / `pods.py`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from typing import Any

from aiohttp import web

from wizard.sandbox.kube import bodies, patches, tables
from wizard.sandbox.kube.ctx import Ctx, k8s_json
from wizard.sandbox.kube.errors import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    forbidden,
    invalid,
    not_found,
    stale,
)
from wizard.sandbox.kube.kinds import BEHAVIOURS, Behaviour
from wizard.sandbox.kube.meta import rfc3339
from wizard.sandbox.kube.pods import Pods, suffix
from wizard.sandbox.kube.selectors import fields_match, labels_match, parse_fields, parse_labels

Obj = dict[str, Any]

_ALL: dict[str, Behaviour] = {**BEHAVIOURS, "pods": Pods()}
SYSTEM_META = ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
               "generation", "selfLink", "managedFields")


def behaviour(ctx: Ctx) -> Behaviour:
    return _ALL[ctx.rt.plural]


def _key_ns(ctx: Ctx) -> str:
    return ctx.namespace or "" if ctx.rt.namespaced else ""


def _load(ctx: Ctx) -> Obj:
    assert ctx.name is not None
    obj = ctx.cluster.objects.get(ctx.rt.plural, _key_ns(ctx), ctx.name)
    if obj is None:
        raise not_found(ctx.rt.plural, ctx.name, ctx.rt.group)
    return obj


def respond(ctx: Ctx, obj: Obj, status: int = 200) -> web.Response:
    """One object in the shape the client asked for (object, one-row Table, or metadata only)."""
    if ctx.wanted.shape == "table":
        return k8s_json(tables.table(ctx.rt.plural, [obj], ctx.cluster.now(),
                                     resource_version=obj["metadata"].get("resourceVersion", ""),
                                     include_object=ctx.query.get("includeObject", "Metadata"),
                                     version=ctx.wanted.version), status)
    if ctx.wanted.shape == "metadata":
        return k8s_json(tables.partial_metadata(obj, ctx.wanted.version), status)
    return k8s_json(obj, status)


def _check_namespace_usable(ctx: Ctx) -> None:
    """The NamespaceLifecycle admission plugin: no new content in a missing or terminating namespace."""
    if not ctx.rt.namespaced:
        return
    assert ctx.namespace is not None
    ns = ctx.cluster.objects.get("namespaces", "", ctx.namespace)
    if ns is None:
        raise not_found("namespaces", ctx.namespace)
    if (ns.get("status") or {}).get("phase") == "Terminating":
        raise forbidden(ctx.rt.plural, "", f"unable to create new content in namespace {ctx.namespace} because "
                                           "it is being terminated")


# -- get / list ----------------------------------------------------------------------------------------------------

async def get(ctx: Ctx) -> web.Response:
    return respond(ctx, _load(ctx))


class Selection:
    def __init__(self, ctx: Ctx) -> None:
        self.labels = parse_labels(ctx.query.get("labelSelector"))
        self.fields = parse_fields(ctx.query.get("fieldSelector"), ctx.rt.plural)
        self.namespace = ctx.namespace if ctx.rt.namespaced else None

    def matches(self, obj: Obj) -> bool:
        meta = obj.get("metadata") or {}
        if self.namespace is not None and meta.get("namespace") != self.namespace:
            return False
        return labels_match(self.labels, obj) and fields_match(self.fields, obj)


def _continue_token(rv: str, last: Obj) -> str:
    meta = last["metadata"]
    start = f"{meta.get('namespace', '')}/{meta['name']}"
    return base64.urlsafe_b64encode(json.dumps({"v": "meta.k8s.io/v1", "rv": int(rv), "start": start}).encode()
                                    ).decode().rstrip("=")


def _after(token: str) -> tuple[str, str]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        namespace, _, name = str(data["start"]).partition("/")
        return namespace, name
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise bad_request("continue key is not valid: incorrect encoded start resourceVersion (version "
                          "meta.k8s.io/v1)") from None


async def list_objects(ctx: Ctx) -> web.Response:
    selection = Selection(ctx)
    limit = ctx.query.number("limit") or 0
    if limit < 0:
        raise bad_request(f"limit: Invalid value: {limit}: must be greater than or equal to 0")
    items = [o for o in ctx.cluster.objects.list(ctx.rt.plural, selection.namespace) if selection.matches(o)]
    token = ctx.query.get("continue")
    if token:
        after = _after(token)
        items = [o for o in items if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > after]
    rv = ctx.cluster.objects.resource_version
    meta: Obj = {"resourceVersion": rv}
    next_token = ""
    if limit and len(items) > limit:
        remaining = len(items) - limit
        items = items[:limit]
        next_token = _continue_token(rv, items[-1])
        meta.update({"continue": next_token, "remainingItemCount": remaining})
    if ctx.wanted.shape == "table":
        return k8s_json(tables.table(ctx.rt.plural, items, ctx.cluster.now(), resource_version=rv,
                                     include_object=ctx.query.get("includeObject", "Metadata"),
                                     version=ctx.wanted.version, continue_token=next_token))
    if ctx.wanted.shape == "metadata":
        return k8s_json({"kind": "PartialObjectMetadataList", "apiVersion": f"meta.k8s.io/{ctx.wanted.version}",
                         "metadata": meta, "items": [tables.partial_metadata(o, ctx.wanted.version)
                                                     for o in items]})
    for item in items:
        item.pop("kind", None)
        item.pop("apiVersion", None)
    return k8s_json({"kind": ctx.rt.list_kind, "apiVersion": ctx.rt.api_version, "metadata": meta, "items": items})


# -- create --------------------------------------------------------------------------------------------------------

def _clean_system_metadata(obj: Obj) -> None:
    for key in SYSTEM_META:
        obj["metadata"].pop(key, None)


async def create(ctx: Ctx) -> web.Response:
    body = await bodies.read_object(ctx.request, ctx.rt.kind, ctx.rt.api_version)
    dry_run = ctx.query.dry_run()
    return create_object(ctx, body, dry_run)


def create_object(ctx: Ctx, body: Obj, dry_run: bool) -> web.Response:
    rt, b = ctx.rt, behaviour(ctx)
    meta = body["metadata"]
    if rt.namespaced:
        if meta.get("namespace") and meta["namespace"] != ctx.namespace:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        meta["namespace"] = ctx.namespace
    else:
        meta.pop("namespace", None)
    _check_namespace_usable(ctx)
    _clean_system_metadata(body)
    meta["uid"] = ctx.cluster.new_uid()
    meta["creationTimestamp"] = rfc3339(ctx.cluster.now())
    obj = b.mutate(ctx.cluster, body)
    meta = obj["metadata"]
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = meta["generateName"] + suffix(meta["uid"])
    obj = b.finish_create(ctx.cluster, obj)
    causes = b.validate(ctx.cluster, obj)
    if causes:
        raise invalid(rt.kind, meta.get("name", ""), causes, rt.group)
    if ctx.cluster.objects.exists(rt.plural, meta.get("namespace", ""), meta["name"]):
        raise already_exists(rt.plural, meta["name"], rt.group)
    if dry_run:
        return respond(ctx, obj, 201)
    stored = ctx.cluster.objects.put(rt.plural, obj)
    b.after_create(ctx.cluster, stored)
    return respond(ctx, stored, 201)


# -- update / patch ------------------------------------------------------------------------------------------------

def _same(a: Obj, b: Obj) -> bool:
    def strip(o: Obj) -> Obj:
        c = copy.deepcopy(o)
        c.get("metadata", {}).pop("resourceVersion", None)
        return c

    return strip(a) == strip(b)


def store_update(ctx: Ctx, old: Obj, new: Obj, dry_run: bool) -> web.Response:
    """The common tail of PUT and PATCH: preconditions, per-type rules, validation, storage."""
    rt, b = ctx.rt, behaviour(ctx)
    assert ctx.name is not None
    wanted_rv = (new.get("metadata") or {}).get("resourceVersion")
    if wanted_rv and wanted_rv != old["metadata"]["resourceVersion"]:
        raise stale(rt.plural, ctx.name, rt.group)
    body_uid = (new.get("metadata") or {}).get("uid")
    if body_uid and body_uid != old["metadata"].get("uid"):
        raise conflict(rt.plural, ctx.name, f"Precondition failed: UID in precondition: {body_uid}, UID in object "
                                            f"meta: {old['metadata'].get('uid')}", rt.group)
    result = b.prepare_update(ctx.cluster, old, new, ctx.subresource)
    causes = b.validate_update(ctx.cluster, old, result)
    if causes:
        raise invalid(rt.kind, ctx.name, causes, rt.group)
    if _same(old, result) or dry_run:
        return respond(ctx, result if dry_run else old)
    stored = ctx.cluster.objects.put(rt.plural, result)
    meta = stored["metadata"]
    if meta.get("deletionTimestamp") and meta.get("deletionGracePeriodSeconds") == 0 and not meta.get("finalizers"):
        # The update removed the last finalizer of an object whose deletion was due: it goes now.
        if rt.plural == "pods":
            ctx.cluster.delete_pod(stored, 0)
        else:
            ctx.cluster.finish_deletion(rt.plural, meta.get("namespace", ""), meta["name"])
    return respond(ctx, stored)


async def update(ctx: Ctx) -> web.Response:
    body = await bodies.read_object(ctx.request, ctx.rt.kind, ctx.rt.api_version)
    dry_run = ctx.query.dry_run()
    assert ctx.name is not None
    meta = body["metadata"]
    if meta.get("name") and meta["name"] != ctx.name:
        raise bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL "
                          f"({ctx.name})")
    if ctx.rt.namespaced and meta.get("namespace") and meta["namespace"] != ctx.namespace:
        raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
    old = _load(ctx)
    return store_update(ctx, old, body, dry_run)


async def patch(ctx: Ctx) -> web.Response:
    raw = await ctx.request.read()
    content_type = ctx.request.headers.get("Content-Type", "")
    dry_run = ctx.query.dry_run()
    assert ctx.name is not None
    old = ctx.cluster.objects.get(ctx.rt.plural, _key_ns(ctx), ctx.name)
    if patches.is_apply(content_type):
        if not ctx.query.get("fieldManager"):
            raise bad_request("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required "
                              "for apply patch")
        applied = patches.apply(content_type, None, raw)
        body = bodies.check_object(applied, ctx.rt.kind, ctx.rt.api_version)
        name = body["metadata"].get("name")
        if name != ctx.name:
            raise bad_request(f"the name of the object ({name}) does not match the name on the URL ({ctx.name})")
        if old is None:
            if ctx.subresource:
                raise not_found(ctx.rt.plural, ctx.name, ctx.rt.group)
            return create_object(ctx, body, dry_run)
        patched = patches.strategic_merge(old, body)
    else:
        if old is None:
            # The patch body is still checked first: a malformed body is a 400 even for a missing object.
            patches.apply(content_type, {}, raw)
            raise not_found(ctx.rt.plural, ctx.name, ctx.rt.group)
        patched = patches.apply(content_type, old, raw)
    new = bodies.check_object(patched, ctx.rt.kind, ctx.rt.api_version)
    return store_update(ctx, old, new, dry_run)


# -- delete --------------------------------------------------------------------------------------------------------

async def _grace(ctx: Ctx) -> tuple[int | None, Obj]:
    options = await bodies.read_delete_options(ctx.request)
    grace = ctx.query.number("gracePeriodSeconds")
    if grace is None:
        grace = options.get("gracePeriodSeconds")
    if grace is not None and grace < 0:
        grace = 1
    return grace, options


def _check_preconditions(ctx: Ctx, obj: Obj, options: Obj) -> None:
    pre = options.get("preconditions") or {}
    meta = obj["metadata"]
    assert ctx.name is not None
    if pre.get("uid") and pre["uid"] != meta.get("uid"):
        raise conflict(ctx.rt.plural, ctx.name, f"Precondition failed: UID in precondition: {pre['uid']}, UID in "
                                                f"object meta: {meta.get('uid')}", ctx.rt.group)
    if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
        raise conflict(ctx.rt.plural, ctx.name, "Precondition failed: ResourceVersion in precondition: "
                                                f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                                                f"{meta.get('resourceVersion')}", ctx.rt.group)


def _success(ctx: Ctx, obj: Obj) -> Obj:
    details: Obj = {"name": obj["metadata"]["name"], "group": ctx.rt.group, "kind": ctx.rt.plural,
                    "uid": obj["metadata"].get("uid", "")}
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


async def delete(ctx: Ctx) -> web.Response:
    grace, options = await _grace(ctx)
    dry_run = ctx.query.dry_run() or bool(options.get("dryRun"))
    obj = _load(ctx)
    _check_preconditions(ctx, obj, options)
    b = behaviour(ctx)
    if dry_run:
        return k8s_json(obj if b.returns_deleted_object else _success(ctx, obj))
    result = b.delete(ctx.cluster, obj, grace)
    return k8s_json(result if result is not None else _success(ctx, obj))


async def delete_collection(ctx: Ctx) -> web.Response:
    grace, _ = await _grace(ctx)
    dry_run = ctx.query.dry_run()
    selection = Selection(ctx)
    b = behaviour(ctx)
    deleted = []
    for obj in ctx.cluster.objects.list(ctx.rt.plural, selection.namespace):
        if not selection.matches(obj):
            continue
        result = obj if dry_run else b.delete(ctx.cluster, obj, grace)
        item = copy.deepcopy(result if result is not None else obj)
        item.pop("kind", None)
        item.pop("apiVersion", None)
        deleted.append(item)
    return k8s_json({"kind": ctx.rt.list_kind, "apiVersion": ctx.rt.api_version,
                     "metadata": {"resourceVersion": ctx.cluster.objects.resource_version}, "items": deleted})


def method_for(ctx: Ctx) -> Any:
    """The handler for this request's verb, or raise 405."""
    method = ctx.request.method
    collection = ctx.name is None
    if method == "GET":
        return list_objects if collection else get
    table = {"POST": create, "DELETE": delete_collection} if collection else \
        {"PUT": update, "PATCH": patch, "DELETE": delete}
    handler = table.get(method)
    if handler is None or (ctx.subresource and method in {"DELETE", "POST"}):
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
    return handler
