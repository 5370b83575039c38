"""What differs between resource types on create, update and delete (the API server's per-type strategies).

The generic handlers (`handlers.py`) do the HTTP, preconditions and storage; a `Behaviour` supplies defaults,
admission, validation and deletion semantics. Pods have their own module (`pods.py`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
from typing import Any

from wizard.sandbox.kube.cluster import SYSTEM_NAMESPACES, Cluster
from wizard.sandbox.kube.errors import Cause, bad_request, forbidden
from wizard.sandbox.kube.meta import rfc3339
from wizard.sandbox.kube.resources import CONFIG_MAPS, EVENTS, NAMESPACES, SECRETS, SERVICE_ACCOUNTS, ResourceType
from wizard.sandbox.kube.validation import CONFIG_KEY, object_meta

Obj = dict[str, Any]

NAMESPACE_DRAIN_LIMIT = 120.0  # seconds a terminating namespace waits for its pods before it is removed anyway


class Behaviour:
    rt: ResourceType = SERVICE_ACCOUNTS
    # True: DELETE answers with the object; False: with a `Status` Success (the API server's ReturnDeletedObject).
    returns_deleted_object = False
    name_is_label = False

    def mutate(self, cluster: Cluster, obj: Obj) -> Obj:
        """Defaults and mutating admission, before the name is generated."""
        return obj

    def finish_create(self, cluster: Cluster, obj: Obj) -> Obj:
        """Last touches once the name is known."""
        return obj

    def validate(self, cluster: Cluster, obj: Obj) -> list[Cause]:
        return object_meta(obj["metadata"], label_name=self.name_is_label)

    def after_create(self, cluster: Cluster, stored: Obj) -> None:
        """Controllers reacting to the new object (scheduling, namespace contents)."""

    def prepare_update(self, cluster: Cluster, old: Obj, new: Obj, subresource: str | None) -> Obj:
        """The object to store for a PUT/PATCH: system metadata is the server's, not the client's."""
        result = copy.deepcopy(new)
        meta = result.setdefault("metadata", {})
        for key in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generateName"):
            if key in old["metadata"]:
                meta[key] = old["metadata"][key]
            else:
                meta.pop(key, None)
        meta.pop("managedFields", None)
        meta["name"], meta["resourceVersion"] = old["metadata"]["name"], old["metadata"]["resourceVersion"]
        if "namespace" in old["metadata"]:
            meta["namespace"] = old["metadata"]["namespace"]
        return result

    def validate_update(self, cluster: Cluster, old: Obj, new: Obj) -> list[Cause]:
        return object_meta(new["metadata"], label_name=self.name_is_label)

    def delete(self, cluster: Cluster, obj: Obj, grace: int | None) -> Obj | None:
        meta = obj["metadata"]
        final, removed = cluster.finish_deletion(self.rt.plural, meta.get("namespace", ""), meta["name"])
        return final if self.returns_deleted_object or not removed else None


class ServiceAccounts(Behaviour):
    rt = SERVICE_ACCOUNTS
    returns_deleted_object = True


def _config_keys(obj: Obj, fields: tuple[str, ...]) -> list[Cause]:
    causes, seen = [], set()
    for field in fields:
        for key in obj.get(field) or {}:
            if not CONFIG_KEY.match(key) or len(key) > 253:
                causes.append(Cause(f"{field}[{key}]", "Invalid value",
                                    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
                                    "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation "
                                    "is '[-._a-zA-Z0-9]+')", key))
            if key in seen:
                causes.append(Cause(f"{field}[{key}]", "Invalid value", "duplicate of key present in data", key))
            seen.add(key)
    return causes


def _immutable(old: Obj, new: Obj, fields: tuple[str, ...]) -> list[Cause]:
    if not old.get("immutable"):
        return []
    causes = []
    if not new.get("immutable"):
        causes.append(Cause("immutable", "Forbidden", "field is immutable when `immutable` is set"))
    for field in fields:
        if (old.get(field) or {}) != (new.get(field) or {}):
            causes.append(Cause(field, "Forbidden", "field is immutable when `immutable` is set"))
    return causes


class ConfigMaps(Behaviour):
    rt = CONFIG_MAPS

    def validate(self, cluster: Cluster, obj: Obj) -> list[Cause]:
        return super().validate(cluster, obj) + _config_keys(obj, ("data", "binaryData"))

    def validate_update(self, cluster: Cluster, old: Obj, new: Obj) -> list[Cause]:
        return super().validate_update(cluster, old, new) + _config_keys(new, ("data", "binaryData")) \
            + _immutable(old, new, ("data", "binaryData"))


def _fold_string_data(obj: Obj) -> Obj:
    """`stringData` is write-only: merged into `data` (base64) as the API server does; bad base64 is a 400."""
    for key, value in (obj.get("data") or {}).items():
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise bad_request(f'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input '
                              f"byte {_bad_base64_offset(value)} (key {key!r})") from None
    string_data = obj.pop("stringData", None) or {}
    if string_data:
        data = obj.setdefault("data", {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(value.encode()).decode()
    obj.setdefault("type", "Opaque")
    return obj


def _bad_base64_offset(value: str) -> int:
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
    return next((i for i, c in enumerate(value) if c not in alphabet), len(value))


class Secrets(Behaviour):
    rt = SECRETS

    def mutate(self, cluster: Cluster, obj: Obj) -> Obj:
        return _fold_string_data(obj)

    def prepare_update(self, cluster: Cluster, old: Obj, new: Obj, subresource: str | None) -> Obj:
        return _fold_string_data(super().prepare_update(cluster, old, new, subresource))

    def validate(self, cluster: Cluster, obj: Obj) -> list[Cause]:
        return super().validate(cluster, obj) + _config_keys(obj, ("data",))

    def validate_update(self, cluster: Cluster, old: Obj, new: Obj) -> list[Cause]:
        causes = super().validate_update(cluster, old, new) + _config_keys(new, ("data",)) \
            + _immutable(old, new, ("data",))
        if new.get("type") != old.get("type"):
            causes.append(Cause("type", "Invalid value", "field is immutable", new.get("type")))
        return causes


class Events(Behaviour):
    rt = EVENTS

    def mutate(self, cluster: Cluster, obj: Obj) -> Obj:
        obj.setdefault("involvedObject", {})
        obj.setdefault("count", 1)
        return obj

    def validate(self, cluster: Cluster, obj: Obj) -> list[Cause]:
        causes = super().validate(cluster, obj)
        involved_ns = (obj.get("involvedObject") or {}).get("namespace")
        if involved_ns and involved_ns != obj["metadata"].get("namespace"):
            causes.append(Cause("involvedObject.namespace", "Invalid value",
                                "does not match event.namespace", involved_ns))
        return causes


class Namespaces(Behaviour):
    rt = NAMESPACES
    returns_deleted_object = True
    name_is_label = True

    def mutate(self, cluster: Cluster, obj: Obj) -> Obj:
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj["status"] = {"phase": "Active"}
        return obj

    def finish_create(self, cluster: Cluster, obj: Obj) -> Obj:
        name = obj["metadata"].get("name", "")
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        return obj

    def after_create(self, cluster: Cluster, stored: Obj) -> None:
        cluster.ensure_namespace_contents(stored["metadata"]["name"])

    def prepare_update(self, cluster: Cluster, old: Obj, new: Obj, subresource: str | None) -> Obj:
        result = super().prepare_update(cluster, old, new, subresource)
        if subresource != "status":
            result["status"] = copy.deepcopy(old.get("status") or {})
        if subresource != "finalize":
            result["spec"] = copy.deepcopy(old.get("spec") or {})
        result["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = old["metadata"]["name"]
        return result

    def delete(self, cluster: Cluster, obj: Obj, grace: int | None) -> Obj | None:
        name = obj["metadata"]["name"]
        if name in SYSTEM_NAMESPACES:
            raise forbidden("namespaces", name, "this namespace may not be deleted")
        if obj["metadata"].get("deletionTimestamp"):
            return obj
        obj["metadata"]["deletionTimestamp"] = rfc3339(cluster.now())
        obj["metadata"]["deletionGracePeriodSeconds"] = 0
        obj["status"] = {"phase": "Terminating"}
        stored = cluster.objects.put(NAMESPACES.plural, obj)
        cluster.spawn(_drain_namespace(cluster, name, stored["metadata"]["uid"]))
        return stored


CONTENTS = ("serviceaccounts", "configmaps", "secrets", "events")


async def _drain_namespace(cluster: Cluster, name: str, uid: str) -> None:
    """The namespace controller: delete everything in the namespace (pods gracefully), wait until nothing is
    left — objects held by finalizers keep the namespace Terminating, as on a real cluster — then remove it."""
    loop = asyncio.get_running_loop()
    force_at = loop.time() + NAMESPACE_DRAIN_LIMIT
    forced = False
    while True:
        for resource in CONTENTS:
            for obj in cluster.objects.list(resource, name):
                cluster.finish_deletion(resource, name, obj["metadata"]["name"])
        for pod in cluster.objects.list("pods", name):
            if forced or not pod["metadata"].get("deletionTimestamp"):
                grace = 0 if forced else int((pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30))
                cluster.delete_pod(pod, grace)
        if not any(cluster.objects.count(r, name) for r in (*CONTENTS, "pods")):
            break
        forced = forced or loop.time() >= force_at
        await asyncio.sleep(0.1)
    current = cluster.objects.get("namespaces", "", name)
    if current is not None and current["metadata"]["uid"] == uid:
        cluster.finish_deletion("namespaces", "", name)


def resume_namespace_deletions(cluster: Cluster) -> None:
    """After a restart: namespaces that were terminating carry on draining."""
    for ns in cluster.objects.list("namespaces"):
        if ns["metadata"].get("deletionTimestamp"):
            cluster.spawn(_drain_namespace(cluster, ns["metadata"]["name"], ns["metadata"]["uid"]))


BEHAVIOURS: dict[str, Behaviour] = {b.rt.plural: b for b in (
    ServiceAccounts(), ConfigMaps(), Secrets(), Events(), Namespaces())}
