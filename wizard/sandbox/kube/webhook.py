"""The azure-workload-identity mutating admission webhook, as AKS runs it when workload identity is enabled.

Modelled on upstream `pkg/webhook/webhook.go` (v1.6.0 by default, the v1.5.1 layout when
`settings.webhook_version == "1.5"`), because the wizard must survive the real webhook's quirks:
- it only sees pods labelled `azure.workload.identity/use: "true"` (the objectSelector), on CREATE;
- an env var is appended only when the container's `env` has no entry of that name and the value is non-empty;
  `envFrom` is never looked at, so a tenant delivered through a ConfigMap loses to the injected cluster tenant;
- a present-but-empty `tenant-id` annotation beats the cluster default and then injects nothing;
- the token expiration comes from the pod's annotation, else the SA's, else 3600, and must be 3600–86400.

The proxy sidecar (`inject-proxy-sidecar`) is not emulated: its admission-time refusals (hostNetwork, a bad
port) are, but no init container or sidecar is added. AKS's admissions enforcer keeps the webhook away from
`kube-system`, so pods there pass untouched. `admit` is a pure function: the API server looks up the
ServiceAccount and turns `AdmissionDenied` into a Kubernetes `Status`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from wizard.sandbox.kube.contracts import AdmissionDenied, Obj
from wizard.sandbox.world import World

WEBHOOK_NAME = "mutation.azure-workload-identity.io"

USE_LABEL = "azure.workload.identity/use"
CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
TENANT_ID_ANNOTATION = "azure.workload.identity/tenant-id"
EXPIRATION_ANNOTATION = "azure.workload.identity/service-account-token-expiration"
SKIP_CONTAINERS_ANNOTATION = "azure.workload.identity/skip-containers"
INJECT_PROXY_SIDECAR_ANNOTATION = "azure.workload.identity/inject-proxy-sidecar"
PROXY_SIDECAR_PORT_ANNOTATION = "azure.workload.identity/proxy-sidecar-port"

AUDIENCE = "api://AzureADTokenExchange"
DEFAULT_EXPIRATION = 3600
MIN_EXPIRATION = 3600
MAX_EXPIRATION = 86400

# Namespaces the AKS admissions enforcer never sends to admission webhooks.
EXCLUDED_NAMESPACES = frozenset({"kube-system"})

_INT_RE = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class Layout:
    """Where a webhook version puts the projected token: volume name, mount path and file path in the volume."""

    mount_path: str
    token_path: str
    volume_prefix: str | None  # None: a fixed volume name (`fixed_name`)
    fixed_name: str = ""

    def volume_name(self, pod_name: str) -> str:
        if self.volume_prefix is None:
            return self.fixed_name
        # 63 is the longest volume name Kubernetes accepts; the hash fills what the prefix leaves.
        return self.volume_prefix + hashlib.sha256(pod_name.encode()).hexdigest()[:63 - len(self.volume_prefix)]

    @property
    def token_file(self) -> str:
        return f"{self.mount_path}/{self.token_path}"


LAYOUT_1_6 = Layout(mount_path="/var/run/secrets/azure/wi", token_path="token/azure-identity-token",
                    volume_prefix="azure-workload-identity-reserved-")
LAYOUT_1_5 = Layout(mount_path="/var/run/secrets/azure/tokens", token_path="azure-identity-token",
                    volume_prefix=None, fixed_name="azure-identity-token")


def layout_for(world: World) -> Layout:
    return LAYOUT_1_5 if world.settings.webhook_version == "1.5" else LAYOUT_1_6


def applies(cluster: dict[str, Any], pod: Obj) -> bool:
    """Whether the webhook sees this pod at all: installed on the cluster, pod labelled, namespace not excluded."""
    meta = pod.get("metadata") or {}
    labels = meta.get("labels") or {}
    return (bool(cluster.get("workload_identity"))
            and labels.get(USE_LABEL) == "true"
            and meta.get("namespace") not in EXCLUDED_NAMESPACES)


def admit(world: World, cluster: dict[str, Any], pod: Obj, service_account: Obj | None) -> Obj:
    """The pod as the webhook returns it (a mutated copy), or the pod itself when the webhook does not apply.

    `service_account` is the pod's ServiceAccount (`spec.serviceAccountName`, `default` when empty) in the
    pod's namespace, or None when it does not exist. Raises `AdmissionDenied` like the webhook's 400 answers.
    """
    if not applies(cluster, pod):
        return pod
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    if service_account is None:
        sa_name = spec.get("serviceAccountName") or "default"
        raise _denied(f'serviceaccounts "{sa_name}" not found')
    annotations: dict[str, str] = meta.get("annotations") or {}
    sa_annotations: dict[str, str] = (service_account.get("metadata") or {}).get("annotations") or {}

    if INJECT_PROXY_SIDECAR_ANNOTATION in annotations:
        _check_proxy_sidecar(spec, annotations)
    expiration = _token_expiration(annotations, sa_annotations)
    client_id = sa_annotations.get(CLIENT_ID_ANNOTATION, "")
    tenant_id = sa_annotations[TENANT_ID_ANNOTATION] if TENANT_ID_ANNOTATION in sa_annotations \
        else str(cluster["tenant_id"])
    skip = _skip_containers(annotations)
    layout = layout_for(world)
    pod_name = meta.get("name") or f"{meta.get('generateName', '')} (prefix)"
    volume_name = layout.volume_name(pod_name)
    wanted_env = [
        ("AZURE_CLIENT_ID", client_id),
        ("AZURE_TENANT_ID", tenant_id),
        ("AZURE_FEDERATED_TOKEN_FILE", layout.token_file),
        ("AZURE_AUTHORITY_HOST", world.base_url + "/"),
    ]

    mutated = copy.deepcopy(pod)
    mutated_spec = mutated.setdefault("spec", {})
    for field in ("initContainers", "containers"):
        for container in mutated_spec.get(field) or []:
            if container.get("name") in skip:
                continue
            _add_env(container, wanted_env)
            _put_by_name(container.setdefault("volumeMounts", []),
                         {"name": volume_name, "mountPath": layout.mount_path, "readOnly": True})
    _put_by_name(mutated_spec.setdefault("volumes", []), {
        "name": volume_name,
        "projected": {"sources": [{"serviceAccountToken": {
            "path": layout.token_path, "expirationSeconds": expiration, "audience": AUDIENCE}}]},
    })
    return mutated


def _denied(reason: str) -> AdmissionDenied:
    return AdmissionDenied(400, "BadRequest", f'admission webhook "{WEBHOOK_NAME}" denied the request: {reason}')


def _go_quote(value: str) -> str:
    """strconv.Quote closely enough for error messages (double quotes, backslash escapes)."""
    return json.dumps(value, ensure_ascii=False)


def _parse_int(value: str, bits: int) -> int:
    """Go's strconv.ParseInt(value, 10, bits), raising its error text as the message."""
    if not _INT_RE.fullmatch(value):
        raise ValueError(f"strconv.ParseInt: parsing {_go_quote(value)}: invalid syntax")
    number = int(value)
    if not -(2 ** (bits - 1)) <= number < 2 ** (bits - 1):
        raise ValueError(f"strconv.ParseInt: parsing {_go_quote(value)}: value out of range")
    return number


def _token_expiration(pod_annotations: dict[str, str], sa_annotations: dict[str, str]) -> int:
    """The pod's annotation wins over the SA's; an empty value counts as absent (upstream tests `!= ""`)."""
    raw = pod_annotations.get(EXPIRATION_ANNOTATION) or sa_annotations.get(EXPIRATION_ANNOTATION) or ""
    expiration = DEFAULT_EXPIRATION
    if raw:
        try:
            expiration = _parse_int(str(raw), 64)
        except ValueError as exc:
            raise _denied(str(exc)) from None
    if not MIN_EXPIRATION <= expiration <= MAX_EXPIRATION:
        raise _denied(f"token expiration {expiration} not valid. "
                      f"Expected value to be between {MIN_EXPIRATION} and {MAX_EXPIRATION}")
    return expiration


def _check_proxy_sidecar(spec: Obj, annotations: dict[str, str]) -> None:
    """The refusals upstream makes before injecting the proxy; the injection itself is not emulated."""
    if spec.get("hostNetwork"):
        raise _denied("hostNetwork is set to true, cannot inject proxy sidecar")
    if PROXY_SIDECAR_PORT_ANNOTATION in annotations:
        try:
            _parse_int(str(annotations[PROXY_SIDECAR_PORT_ANNOTATION]), 32)
        except ValueError as exc:
            raise _denied(f"failed to parse proxy sidecar port: {exc}") from None


def _skip_containers(annotations: dict[str, str]) -> set[str]:
    raw = annotations.get(SKIP_CONTAINERS_ANNOTATION) or ""
    return {name.strip() for name in raw.split(";")} if raw else set()


def _add_env(container: Obj, wanted: list[tuple[str, str]]) -> None:
    """Append what the container's `env` lacks (by name, whatever its value or valueFrom), skipping empties."""
    present = {entry.get("name") for entry in container.get("env") or []}
    for name, value in wanted:
        if name not in present and value:
            container.setdefault("env", []).append({"name": name, "value": value})


def _put_by_name(items: list[Obj], item: Obj) -> None:
    """Replace the entry with the same name, or append: how upstream adds its volume and volume mount."""
    for index, existing in enumerate(items):
        if existing.get("name") == item["name"]:
            items[index] = item
            return
    items.append(item)
