"""Field validation with the API server's messages (`Pod "Bad_Name" is invalid: metadata.name: Invalid value…`).

Only what the sandbox's resources need: object names, labels and annotations, the pod spec fields the wizard
and kubectl users get wrong, and pod-update immutability.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from wizard.sandbox.kube.errors import Cause
from wizard.sandbox.kube.selectors import label_key_problem, label_value_problem

Obj = dict[str, Any]

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")

LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
             "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
             "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
                 "must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation "
                 "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def dns_label(value: str, field: str) -> list[Cause]:
    causes = []
    if len(value) > 63:
        causes.append(Cause(field, "Invalid value", "must be no more than 63 characters", value))
    if not DNS1123_LABEL.match(value):
        causes.append(Cause(field, "Invalid value", LABEL_MSG, value))
    return causes


def dns_subdomain(value: str, field: str) -> list[Cause]:
    causes = []
    if len(value) > 253:
        causes.append(Cause(field, "Invalid value", "must be no more than 253 characters", value))
    if not DNS1123_SUBDOMAIN.match(value):
        causes.append(Cause(field, "Invalid value", SUBDOMAIN_MSG, value))
    return causes


def object_meta(meta: Obj, *, label_name: bool = False) -> list[Cause]:
    """Name (DNS-1123 subdomain, or label for namespaces), labels and annotations."""
    causes: list[Cause] = []
    name = meta.get("name", "")
    if not name:
        causes.append(Cause("metadata.name", "Required value", "name or generateName is required"))
    else:
        causes += (dns_label if label_name else dns_subdomain)(name, "metadata.name")
    for key, value in (meta.get("labels") or {}).items():
        problem = label_key_problem(key)
        if problem:
            causes.append(Cause("metadata.labels", "Invalid value", problem, key))
        problem = label_value_problem(value)
        if problem:
            causes.append(Cause("metadata.labels", "Invalid value", problem, value))
    annotations = meta.get("annotations") or {}
    for key in annotations:
        problem = label_key_problem(key.lower())
        if problem:
            causes.append(Cause("metadata.annotations", "Invalid value", problem, key))
    if sum(len(k) + len(v) for k, v in annotations.items()) > 256 * 1024:
        causes.append(Cause("metadata.annotations", "Too long", "must have at most 262144 bytes",
                            show_value=False))
    return causes


def _supported(value: str, field: str, allowed: tuple[str, ...]) -> list[Cause]:
    if value in allowed:
        return []
    return [Cause(field, "Unsupported value", "supported values: " + ", ".join(f'"{a}"' for a in allowed), value)]


def _container(c: Obj, field: str, volumes: set[str]) -> list[Cause]:
    causes: list[Cause] = []
    if not c.get("name"):
        causes.append(Cause(f"{field}.name", "Required value"))
    else:
        causes += dns_label(c["name"], f"{field}.name")
    if not str(c.get("image", "")).strip():
        causes.append(Cause(f"{field}.image", "Required value"))
    if "imagePullPolicy" in c:
        causes += _supported(c["imagePullPolicy"], f"{field}.imagePullPolicy", ("Always", "IfNotPresent", "Never"))
    for i, env in enumerate(c.get("env") or []):
        where = f"{field}.env[{i}]"
        if not env.get("name"):
            causes.append(Cause(f"{where}.name", "Required value"))
        elif not ENV_NAME.match(env["name"]):
            causes.append(Cause(f"{where}.name", "Invalid value", "a valid environment variable name must consist "
                                "of alphabetic characters, digits, '_', '-', or '.', and must not start with a "
                                "digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for "
                                "validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')", env["name"]))
        if env.get("value") and env.get("valueFrom"):
            causes.append(Cause(f"{where}.valueFrom", "Invalid value",
                                "may not be specified when `value` is not empty", "", show_value=False))
    for i, port in enumerate(c.get("ports") or []):
        number = port.get("containerPort", 0)
        if not 1 <= number <= 65535:
            causes.append(Cause(f"{field}.ports[{i}].containerPort", "Invalid value",
                                "must be between 1 and 65535, inclusive", number))
    for i, mount in enumerate(c.get("volumeMounts") or []):
        where = f"{field}.volumeMounts[{i}]"
        if not mount.get("name"):
            causes.append(Cause(f"{where}.name", "Required value"))
        elif mount["name"] not in volumes:
            causes.append(Cause(f"{where}.name", "Not found", value=mount["name"]))
        if not mount.get("mountPath"):
            causes.append(Cause(f"{where}.mountPath", "Required value"))
    return causes


def pod_spec(spec: Obj) -> list[Cause]:
    causes: list[Cause] = []
    volumes: set[str] = set()
    for i, volume in enumerate(spec.get("volumes") or []):
        name = volume.get("name", "")
        if not name:
            causes.append(Cause(f"spec.volumes[{i}].name", "Required value"))
        elif name in volumes:
            causes.append(Cause(f"spec.volumes[{i}].name", "Duplicate value", value=name))
        else:
            causes += dns_label(name, f"spec.volumes[{i}].name")
        volumes.add(name)
    containers = spec.get("containers") or []
    if not containers:
        causes.append(Cause("spec.containers", "Required value"))
    seen: set[str] = set()
    for field in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(field) or []):
            causes += _container(c, f"spec.{field}[{i}]", volumes)
            if c.get("name") and c["name"] in seen:
                causes.append(Cause(f"spec.{field}[{i}].name", "Duplicate value", value=c["name"]))
            seen.add(c.get("name", ""))
    causes += _supported(spec.get("restartPolicy", "Always"), "spec.restartPolicy", ("Always", "OnFailure", "Never"))
    causes += _supported(spec.get("dnsPolicy", "ClusterFirst"), "spec.dnsPolicy",
                         ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"))
    if spec.get("serviceAccountName"):
        causes += dns_subdomain(spec["serviceAccountName"], "spec.serviceAccountName")
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None and not 1 <= deadline <= 2147483647:
        causes.append(Cause("spec.activeDeadlineSeconds", "Invalid value",
                            "must be between 1 and 2147483647, inclusive", deadline))
    grace = spec.get("terminationGracePeriodSeconds")
    if grace is not None and grace < 0:
        causes.append(Cause("spec.terminationGracePeriodSeconds", "Invalid value", "must be >= 0", grace))
    return causes


POD_UPDATE_FORBIDDEN = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)")


def pod_update(old_spec: Obj, new_spec: Obj) -> list[Cause]:
    """What Kubernetes lets a pod update change: container images, activeDeadlineSeconds (set or shorten) and
    tolerations (only additions); anything else is `spec: Forbidden`."""
    causes: list[Cause] = []
    old_deadline, new_deadline = old_spec.get("activeDeadlineSeconds"), new_spec.get("activeDeadlineSeconds")
    if old_deadline is not None and (new_deadline is None or new_deadline > old_deadline):
        causes.append(Cause("spec.activeDeadlineSeconds", "Invalid value",
                            "must be less than or equal to previous value", new_deadline))
    old_tolerations = old_spec.get("tolerations") or []
    new_tolerations = new_spec.get("tolerations") or []
    if any(t not in new_tolerations for t in old_tolerations):
        causes.append(Cause("spec.tolerations", "Forbidden", "existing toleration can not be modified except "
                                                             "its tolerationSeconds"))
    masked_old, masked_new = _mask(old_spec), _mask(new_spec)
    if masked_old != masked_new:
        causes.append(Cause("spec", "Forbidden", POD_UPDATE_FORBIDDEN))
    return causes


def _mask(spec: Obj) -> Obj:
    masked = copy.deepcopy(spec)
    for field in ("containers", "initContainers"):
        for c in masked.get(field) or []:
            c.pop("image", None)
    masked.pop("activeDeadlineSeconds", None)
    masked.pop("tolerations", None)
    return masked
