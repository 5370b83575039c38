"""PATCH bodies (§7): strategic merge, JSON merge (RFC 7386), JSON patch (RFC 6902) and server-side apply.

Strategic merge knows the merge keys of the core/v1 lists the sandbox serves (containers and env by `name`,
container ports by `containerPort`, volume mounts by `mountPath`, …) and the directives kubectl sends
(`$patch: delete|replace|merge`, `$setElementOrder/…`, `$deleteFromPrimitiveList/…`, `$retainKeys`). Server-side
apply is approximated as "create if missing, otherwise strategic-merge the applied configuration": no
managedFields, no conflicts.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch

from wizard.sandbox.kube.bodies import decode_raw, media_type
from wizard.sandbox.kube.errors import ApiError, bad_request, unsupported_media

Obj = dict[str, Any]

STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
PATCH_TYPES = [JSON_PATCH, MERGE, APPLY, STRATEGIC, "application/apply-patch+cbor"]

# patchMergeKey of the core/v1 lists (by field name; the sandbox serves no type where these names clash).
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
    "ports": "containerPort", "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "imagePullSecrets": "name", "secrets": "name", "conditions": "type", "hostAliases": "ip",
    "ownerReferences": "uid", "topologySpreadConstraints": "topologyKey", "resourceClaims": "name",
    "containerStatuses": "name", "initContainerStatuses": "name", "podIPs": "ip",
}
# Lists of scalars with patchStrategy "merge" (union instead of replace).
MERGE_PRIMITIVES = {"finalizers"}

SET_ORDER, DELETE_FROM = "$setElementOrder/", "$deleteFromPrimitiveList/"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge(original: Any, patch: Any) -> Any:
    """Strategic merge of `patch` into `original` (both JSON maps); returns a new value."""
    if not isinstance(patch, dict):
        raise bad_request("unable to find api field in struct for the strategic merge patch: patch is not a map")
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    if directive not in (None, "merge"):
        raise bad_request(f"Unknown patch type: {directive}")
    result: Obj = copy.deepcopy(original) if isinstance(original, dict) else {}
    retain = patch.get("$retainKeys")
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key in {"$patch", "$retainKeys"}:
            continue
        if key.startswith(SET_ORDER):
            orders[key[len(SET_ORDER):]] = value if isinstance(value, list) else []
            continue
        if key.startswith(DELETE_FROM):
            field = key[len(DELETE_FROM):]
            drop = value if isinstance(value, list) else []
            if isinstance(result.get(field), list):
                result[field] = [v for v in result[field] if v not in drop]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic_merge(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(key, result.get(key), value)
        else:
            result[key] = copy.deepcopy(value)
    for field, order in orders.items():
        if isinstance(result.get(field), list):
            result[field] = _reorder(field, result[field], order)
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(field: str, original: Any, patch: list[Any]) -> list[Any]:
    current = copy.deepcopy(original) if isinstance(original, list) else []
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [copy.deepcopy(i) for i in patch if not (isinstance(i, dict) and i.get("$patch") == "replace")]
    if field in MERGE_PRIMITIVES:
        return current + [copy.deepcopy(v) for v in patch if v not in current]
    key = MERGE_KEYS.get(field)
    if key is None or not all(isinstance(item, dict) for item in patch):
        return [copy.deepcopy(i) for i in patch]
    for item in patch:
        index = next((i for i, existing in enumerate(current)
                      if isinstance(existing, dict) and key in item and existing.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if index is not None:
                current.pop(index)
        elif index is None:
            current.append({k: copy.deepcopy(v) for k, v in item.items() if k != "$patch"})
        else:
            merged = strategic_merge(current[index], item)
            current[index] = merged if merged is not None else current[index]
    return current


def _reorder(field: str, items: list[Any], order: list[Any]) -> list[Any]:
    key = MERGE_KEYS.get(field)

    def ident(item: Any) -> Any:
        return item.get(key) if key and isinstance(item, dict) else item

    wanted = [ident(o) for o in order]
    known = [i for i in items if ident(i) in wanted]
    known.sort(key=lambda i: wanted.index(ident(i)))
    rest = [i for i in items if ident(i) not in wanted]
    return known + rest


def json_patch(original: Obj, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    try:
        return jsonpatch.JsonPatch(operations).apply(copy.deepcopy(original))
    except jsonpatch.InvalidJsonPatch as exc:
        raise bad_request(str(exc)) from None
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError, IndexError,
            ValueError) as exc:
        raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: {exc}") \
            from None


def is_apply(content_type: str) -> bool:
    return media_type(content_type) == APPLY


def apply(content_type: str, original: Obj | None, raw: bytes) -> Any:
    """The patched object (not yet validated). For apply patches `original` may be None (create)."""
    kind = media_type(content_type)
    if kind not in PATCH_TYPES:
        raise unsupported_media(PATCH_TYPES)
    if kind == "application/apply-patch+cbor":
        raise unsupported_media([JSON_PATCH, MERGE, APPLY, STRATEGIC])
    if kind == APPLY:
        applied = decode_raw(raw, "application/yaml")
        if not isinstance(applied, dict):
            raise bad_request("error decoding YAML: the applied configuration is not an object")
        return applied if original is None else strategic_merge(original, applied)
    assert original is not None
    body = decode_raw(raw, "application/json")
    if kind == JSON_PATCH:
        return json_patch(original, body)
    if not isinstance(body, dict):
        raise bad_request("couldn't get version/kind; json parse error: json: cannot unmarshal array into Go value "
                          "of type map[string]interface {}")
    if kind == MERGE:
        return merge_patch(original, body)
    return strategic_merge(original, body)
