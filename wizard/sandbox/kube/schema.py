"""JSON type checks of request bodies, with the errors Go's decoder gives the real API server.

The API server unmarshals bodies into Go structs: a number where a string belongs, or an unquoted YAML `true`
as a label value (the classic `azure.workload.identity/use: true` mistake), is a 400
`Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal bool into Go struct field
ObjectMeta.metadata.labels of type string`. Checking the fields the sandbox reads also means a malformed body can
never reach the handlers as a surprise type. Unknown fields are accepted (as with `fieldValidation=Ignore`).
JSON `null` means the zero value in Go, so nulls in structs are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]


class SchemaError(Exception):
    pass


@dataclass(frozen=True)
class Scalar:
    go: str  # Go type name in messages: string, bool, int32, int64, resource.Quantity, intstr

    def check(self, value: Any, where: str, struct: str) -> Any:
        ok = {
            "string": isinstance(value, str),
            "bool": isinstance(value, bool),
            "int32": _is_int(value, 32),
            "int64": _is_int(value, 64),
            "resource.Quantity": isinstance(value, str) or _is_number(value),
            "intstr.IntOrString": isinstance(value, str) or _is_int(value, 32),
            "[]uint8": isinstance(value, str),
            "any": True,
        }[self.go]
        if not ok:
            raise _mismatch(value, where, struct, self.go)
        return value


@dataclass(frozen=True)
class Struct:
    go: str
    fields: dict[str, Any]

    def check(self, value: Any, where: str, struct: str) -> Any:
        if not isinstance(value, dict):
            raise _mismatch(value, where, struct, f"v1.{self.go}")
        out: Obj = {}
        for name, item in value.items():
            if item is None:
                continue
            spec = self.fields.get(name)
            path = f"{where}.{name}" if where else name
            out[name] = spec.check(item, path, self.go) if spec is not None else item
        return out


@dataclass(frozen=True)
class ListOf:
    item: Any

    def check(self, value: Any, where: str, struct: str) -> Any:
        if not isinstance(value, list):
            raise _mismatch(value, where, struct, "[]" + _go_name(self.item))
        return [_zero(self.item) if v is None else self.item.check(v, where, struct) for v in value]


@dataclass(frozen=True)
class MapOf:
    item: Any

    def check(self, value: Any, where: str, struct: str) -> Any:
        if not isinstance(value, dict):
            raise _mismatch(value, where, struct, "map[string]" + _go_name(self.item))
        return {k: (_zero(self.item) if v is None else self.item.check(v, where, struct)) for k, v in value.items()}


def _go_name(spec: Any) -> str:
    if isinstance(spec, Scalar):
        return spec.go
    if isinstance(spec, Struct):
        return f"v1.{spec.go}"
    if isinstance(spec, ListOf):
        return "[]" + _go_name(spec.item)
    return "map[string]" + _go_name(spec.item)


def _zero(spec: Any) -> Any:
    if isinstance(spec, Scalar):
        return {"string": "", "bool": False, "[]uint8": ""}.get(spec.go, 0)
    return {} if isinstance(spec, Struct | MapOf) else []


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any, bits: int) -> bool:
    if not _is_number(value) or (isinstance(value, float) and not value.is_integer()):
        return False
    return bool(-(2 ** (bits - 1)) <= int(value) < 2 ** (bits - 1))


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if _is_number(value):
        return f"number {value}" if isinstance(value, float) and not value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _mismatch(value: Any, where: str, struct: str, go_type: str) -> SchemaError:
    if not where:
        return SchemaError(f"json: cannot unmarshal {_json_kind(value)} into Go value of type {go_type}")
    return SchemaError(f"json: cannot unmarshal {_json_kind(value)} into Go struct field {struct}.{where} "
                       f"of type {go_type}")


STR, BOOL, I32, I64 = Scalar("string"), Scalar("bool"), Scalar("int32"), Scalar("int64")
QUANTITY, INTSTR, BYTES, ANY = Scalar("resource.Quantity"), Scalar("intstr.IntOrString"), Scalar("[]uint8"), \
    Scalar("any")
OPEN = Struct("Object", {})

OBJECT_META = Struct("ObjectMeta", {
    "name": STR, "generateName": STR, "namespace": STR, "uid": STR, "resourceVersion": STR, "generation": I64,
    "creationTimestamp": ANY, "deletionTimestamp": ANY, "deletionGracePeriodSeconds": I64,
    "labels": MapOf(STR), "annotations": MapOf(STR), "finalizers": ListOf(STR),
    "ownerReferences": ListOf(Struct("OwnerReference", {"apiVersion": STR, "kind": STR, "name": STR, "uid": STR})),
    "managedFields": ListOf(OPEN),
})
RESOURCES = Struct("ResourceRequirements", {"limits": MapOf(QUANTITY), "requests": MapOf(QUANTITY)})
PROBE = Struct("Probe", {"initialDelaySeconds": I32, "periodSeconds": I32, "timeoutSeconds": I32,
                         "failureThreshold": I32, "successThreshold": I32})
CONTAINER = Struct("Container", {
    "name": STR, "image": STR, "command": ListOf(STR), "args": ListOf(STR), "workingDir": STR,
    "ports": ListOf(Struct("ContainerPort", {"name": STR, "containerPort": I32, "hostPort": I32, "protocol": STR})),
    "env": ListOf(Struct("EnvVar", {"name": STR, "value": STR, "valueFrom": Struct("EnvVarSource", {
        "configMapKeyRef": Struct("ConfigMapKeySelector", {"name": STR, "key": STR, "optional": BOOL}),
        "secretKeyRef": Struct("SecretKeySelector", {"name": STR, "key": STR, "optional": BOOL}),
        "fieldRef": Struct("ObjectFieldSelector", {"apiVersion": STR, "fieldPath": STR}),
    })})),
    "envFrom": ListOf(Struct("EnvFromSource", {
        "prefix": STR, "configMapRef": Struct("ConfigMapEnvSource", {"name": STR, "optional": BOOL}),
        "secretRef": Struct("SecretEnvSource", {"name": STR, "optional": BOOL})})),
    "resources": RESOURCES,
    "volumeMounts": ListOf(Struct("VolumeMount", {"name": STR, "mountPath": STR, "readOnly": BOOL, "subPath": STR})),
    "imagePullPolicy": STR, "terminationMessagePath": STR, "terminationMessagePolicy": STR,
    "livenessProbe": PROBE, "readinessProbe": PROBE, "startupProbe": PROBE, "restartPolicy": STR,
    "stdin": BOOL, "stdinOnce": BOOL, "tty": BOOL, "securityContext": OPEN,
})
TOLERATION = Struct("Toleration", {"key": STR, "operator": STR, "value": STR, "effect": STR,
                                   "tolerationSeconds": I64})
VOLUME = Struct("Volume", {"name": STR, "projected": Struct("ProjectedVolumeSource", {
    "defaultMode": I32, "sources": ListOf(Struct("VolumeProjection", {
        "serviceAccountToken": Struct("ServiceAccountTokenProjection", {
            "audience": STR, "expirationSeconds": I64, "path": STR}),
    }))}),
    "configMap": Struct("ConfigMapVolumeSource", {"name": STR, "defaultMode": I32, "optional": BOOL}),
    "secret": Struct("SecretVolumeSource", {"secretName": STR, "defaultMode": I32, "optional": BOOL}),
    "emptyDir": OPEN})
POD_SPEC = Struct("PodSpec", {
    "containers": ListOf(CONTAINER), "initContainers": ListOf(CONTAINER), "volumes": ListOf(VOLUME),
    "restartPolicy": STR, "terminationGracePeriodSeconds": I64, "activeDeadlineSeconds": I64, "dnsPolicy": STR,
    "nodeSelector": MapOf(STR), "serviceAccountName": STR, "serviceAccount": STR,
    "automountServiceAccountToken": BOOL, "nodeName": STR, "hostNetwork": BOOL, "hostPID": BOOL, "hostIPC": BOOL,
    "securityContext": OPEN, "imagePullSecrets": ListOf(Struct("LocalObjectReference", {"name": STR})),
    "hostname": STR, "subdomain": STR, "schedulerName": STR, "tolerations": ListOf(TOLERATION),
    "priorityClassName": STR, "priority": I32, "enableServiceLinks": BOOL, "preemptionPolicy": STR,
    "runtimeClassName": STR, "shareProcessNamespace": BOOL, "affinity": OPEN,
})

KINDS: dict[str, Struct] = {
    "Pod": Struct("Pod", {"apiVersion": STR, "kind": STR, "metadata": OBJECT_META, "spec": POD_SPEC,
                          "status": OPEN}),
    "ServiceAccount": Struct("ServiceAccount", {
        "apiVersion": STR, "kind": STR, "metadata": OBJECT_META, "automountServiceAccountToken": BOOL,
        "secrets": ListOf(Struct("ObjectReference", {"name": STR, "namespace": STR, "kind": STR})),
        "imagePullSecrets": ListOf(Struct("LocalObjectReference", {"name": STR}))}),
    "ConfigMap": Struct("ConfigMap", {"apiVersion": STR, "kind": STR, "metadata": OBJECT_META,
                                      "data": MapOf(STR), "binaryData": MapOf(BYTES), "immutable": BOOL}),
    "Secret": Struct("Secret", {"apiVersion": STR, "kind": STR, "metadata": OBJECT_META, "data": MapOf(BYTES),
                                "stringData": MapOf(STR), "type": STR, "immutable": BOOL}),
    "Namespace": Struct("Namespace", {"apiVersion": STR, "kind": STR, "metadata": OBJECT_META,
                                      "spec": Struct("NamespaceSpec", {"finalizers": ListOf(STR)}),
                                      "status": OPEN}),
    "Event": Struct("Event", {
        "apiVersion": STR, "kind": STR, "metadata": OBJECT_META,
        "involvedObject": Struct("ObjectReference", {"kind": STR, "namespace": STR, "name": STR, "uid": STR,
                                                     "apiVersion": STR, "resourceVersion": STR, "fieldPath": STR}),
        "reason": STR, "message": STR, "type": STR, "count": I32, "firstTimestamp": ANY, "lastTimestamp": ANY,
        "source": Struct("EventSource", {"component": STR, "host": STR}),
        "reportingComponent": STR, "reportingInstance": STR, "action": STR}),
    "TokenRequest": Struct("TokenRequest", {
        "apiVersion": STR, "kind": STR, "metadata": OBJECT_META,
        "spec": Struct("TokenRequestSpec", {
            "audiences": ListOf(STR), "expirationSeconds": I64,
            "boundObjectRef": Struct("BoundObjectReference", {"kind": STR, "apiVersion": STR, "name": STR,
                                                              "uid": STR})})}),
    "TokenReview": Struct("TokenReview", {
        "apiVersion": STR, "kind": STR, "metadata": OBJECT_META,
        "spec": Struct("TokenReviewSpec", {"token": STR, "audiences": ListOf(STR)})}),
    "SelfSubjectReview": Struct("SelfSubjectReview", {"apiVersion": STR, "kind": STR, "metadata": OBJECT_META}),
    "DeleteOptions": Struct("DeleteOptions", {
        "apiVersion": STR, "kind": STR, "gracePeriodSeconds": I64, "propagationPolicy": STR,
        "orphanDependents": BOOL, "dryRun": ListOf(STR),
        "preconditions": Struct("Preconditions", {"uid": STR, "resourceVersion": STR})}),
}


def check(kind: str, body: Any) -> Obj:
    """The body with nulls dropped, or SchemaError with Go's wording."""
    schema = KINDS.get(kind)
    if schema is None:
        if not isinstance(body, dict):
            raise _mismatch(body, "", kind, f"v1.{kind}")
        return body
    result: Obj = schema.check(body, "", kind)
    return result
