"""What a container sees: its environment and its volumes, resolved the way the kubelet resolves them.

- Environment: `envFrom` sources in order (later ones win, keys prefixed, invalid names skipped), then `env`
  in order (beats envFrom; `value` with `$(VAR)` expansion, `valueFrom` fieldRef / resourceFieldRef /
  configMapKeyRef / secretKeyRef), then the `KUBERNETES_SERVICE_*` links for names still free. A missing
  ConfigMap, Secret or key that is not optional is a `ConfigError` (the container waits in
  CreateContainerConfigError with the kubelet's message).
- Volumes: projected (serviceAccountToken, configMap, secret, downwardAPI), configMap, secret, downwardAPI and
  emptyDir are written under `{pod dir}/volumes/{volume}/`; other kinds are not materialised. Failures are
  `MountError` (FailedMount). Paths inside the container are mapped to these host folders by mount, so an env
  value such as AZURE_FEDERATED_TOKEN_FILE points the process at the real file.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from wizard.paths import private_dir, write_private
from wizard.sandbox.kube.contracts import Obj

Lookup = Callable[[str, str, str], Obj | None]  # (kind plural, namespace, name) → object or None
Mint = Callable[[list[str], int], str]  # (audiences, expirationSeconds) → service-account JWT

SERVICE_ENV = {
    "KUBERNETES_SERVICE_HOST": "10.0.0.1",
    "KUBERNETES_SERVICE_PORT": "443",
    "KUBERNETES_SERVICE_PORT_HTTPS": "443",
    "KUBERNETES_PORT": "tcp://10.0.0.1:443",
    "KUBERNETES_PORT_443_TCP": "tcp://10.0.0.1:443",
    "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
    "KUBERNETES_PORT_443_TCP_PORT": "443",
    "KUBERNETES_PORT_443_TCP_ADDR": "10.0.0.1",
}
DEFAULT_TOKEN_SECONDS = 3600
_ENV_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
_FIELD_KEY = re.compile(r"metadata\.(labels|annotations)\['(.+)'\]")
_VOLUME_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


class ConfigError(Exception):
    """The container cannot be configured (reason CreateContainerConfigError); the text is the kubelet's."""


class MountError(Exception):
    """A volume cannot be set up (FailedMount); the text is the kubelet's message after the volume name."""

    def __init__(self, volume: str, message: str) -> None:
        super().__init__(message)
        self.volume = volume


# -- environment ------------------------------------------------------------------------------------------


def field_value(pod: Obj, path: str) -> str:
    """A downward-API fieldRef value (`metadata.name`, `metadata.labels['k']`, `status.podIP`…)."""
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    match = _FIELD_KEY.fullmatch(path)
    if match:
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    simple: dict[str, object] = {
        "metadata.name": meta.get("name"),
        "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        "status.hostIP": status.get("hostIP"),
        "status.podIP": status.get("podIP"),
        "status.hostIPs": ",".join(ip.get("ip", "") for ip in status.get("hostIPs") or []),
        "status.podIPs": ",".join(ip.get("ip", "") for ip in status.get("podIPs") or []),
    }
    if path in ("metadata.labels", "metadata.annotations"):
        values = meta.get(path.split(".")[1]) or {}
        return "\n".join(f'{k}="{v}"' for k, v in sorted(values.items()))
    value = simple.get(path)
    return "" if value is None else str(value)


def resource_value(container: Obj, resource: str, divisor: str | None) -> str:
    """resourceFieldRef: the container's limit/request, else the node's allocatable (2 CPU, 7 GiB)."""
    kind, _, name = resource.partition(".")
    values = (container.get("resources") or {}).get(kind if kind in ("limits", "requests") else "limits") or {}
    if name in values:
        return str(values[name])
    if name == "cpu":
        return "2" if kind == "limits" else "0"
    if name == "memory":
        return str(7 * 1024**3) if kind == "limits" else "0"
    return "0"


def expand(value: str, defined: dict[str, str]) -> str:
    """Kubernetes `$(VAR)` expansion: defined names are replaced, `$$` escapes, unknown references stay."""
    out: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "$" and i + 1 < len(value):
            nxt = value[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                end = value.find(")", i + 2)
                if end != -1:
                    name = value[i + 2:end]
                    out.append(defined[name] if name in defined else value[i:end + 1])
                    i = end + 1
                    continue
        out.append(ch)
        i += 1
    return "".join(out)


def _data(obj: Obj, kind: str) -> dict[str, str]:
    """A ConfigMap's data (+ binaryData) or a Secret's data decoded (+ stringData), as text."""
    out: dict[str, str] = {}
    if kind == "secrets":
        for key, raw in (obj.get("data") or {}).items():
            try:
                out[key] = base64.b64decode(str(raw)).decode("utf-8", "replace")
            except ValueError:
                continue
        out.update({k: str(v) for k, v in (obj.get("stringData") or {}).items()})
    else:
        out.update({k: str(v) for k, v in (obj.get("data") or {}).items()})
        for key, raw in (obj.get("binaryData") or {}).items():
            try:
                out[key] = base64.b64decode(str(raw)).decode("utf-8", "replace")
            except ValueError:
                continue
    return out


_SINGULAR = {"configmaps": ("configmap", "ConfigMap"), "secrets": ("secret", "Secret")}


def _source(lookup: Lookup, kind: str, namespace: str, name: str, optional: bool) -> dict[str, str] | None:
    obj = lookup(kind, namespace, name)
    if obj is None:
        if optional:
            return None
        raise ConfigError(f'{_SINGULAR[kind][0]} "{name}" not found')
    return _data(obj, kind)


def _key_ref(lookup: Lookup, kind: str, namespace: str, ref: Obj) -> str | None:
    name, key, optional = str(ref.get("name") or ""), str(ref.get("key") or ""), bool(ref.get("optional"))
    data = _source(lookup, kind, namespace, name, optional)
    if data is None:
        return None
    if key not in data:
        if optional:
            return None
        raise ConfigError(f"couldn't find key {key} in {_SINGULAR[kind][1]} {namespace}/{name}")
    return data[key]


def resolve_env(pod: Obj, container: Obj, lookup: Lookup) -> tuple[dict[str, str], list[str]]:
    """The container's environment and the envFrom keys skipped as invalid names (for the kubelet's event)."""
    namespace = str((pod.get("metadata") or {}).get("namespace") or "default")
    env: dict[str, str] = {}
    skipped: list[str] = []
    for source in container.get("envFrom") or []:
        prefix = str(source.get("prefix") or "")
        for kind, field in (("configmaps", "configMapRef"), ("secrets", "secretRef")):
            ref = source.get(field)
            if ref is None:
                continue
            data = _source(lookup, kind, namespace, str(ref.get("name") or ""), bool(ref.get("optional")))
            for key, text in (data or {}).items():
                if _ENV_NAME.fullmatch(prefix + key):
                    env[prefix + key] = text
                else:
                    skipped.append(prefix + key)
    for entry in container.get("env") or []:
        name = str(entry.get("name") or "")
        value_from = entry.get("valueFrom")
        if value_from is None:
            env[name] = expand(str(entry.get("value") or ""), {**SERVICE_ENV, **env})
            continue
        value: str | None = None
        if "fieldRef" in value_from:
            value = field_value(pod, str(value_from["fieldRef"].get("fieldPath") or ""))
        elif "resourceFieldRef" in value_from:
            ref = value_from["resourceFieldRef"]
            value = resource_value(container, str(ref.get("resource") or ""), ref.get("divisor"))
        elif "configMapKeyRef" in value_from:
            value = _key_ref(lookup, "configmaps", namespace, value_from["configMapKeyRef"])
        elif "secretKeyRef" in value_from:
            value = _key_ref(lookup, "secrets", namespace, value_from["secretKeyRef"])
        if value is not None:
            env[name] = value
    for name, value in SERVICE_ENV.items():
        env.setdefault(name, value)
    return env, skipped


# -- volumes ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenFile:
    """A projected service-account token the kubelet keeps fresh."""

    path: Path
    audiences: tuple[str, ...]
    expiration_seconds: int


def _safe_relative(volume: str, path: str) -> PurePosixPath:
    rel = PurePosixPath(path)
    if not path or rel.is_absolute() or ".." in rel.parts:
        raise MountError(volume, f"invalid path {path!r}: must be relative and may not contain '..'")
    return rel


def _write(root: Path, volume: str, rel_path: str, data: str) -> Path:
    rel = _safe_relative(volume, rel_path)
    target = root.joinpath(*rel.parts)
    private_dir(target.parent)
    write_private(target, data)
    return target


def _key_files(volume: str, data: dict[str, str], items: list[Obj] | None, kind: str, name: str,
               optional: bool) -> dict[str, str]:
    """The files a configMap/secret source projects: its items, or every key."""
    if not items:
        return dict(data)
    files: dict[str, str] = {}
    for item in items:
        key = str(item.get("key") or "")
        if key not in data:
            if optional:
                continue
            raise MountError(volume, f"{_SINGULAR[kind][0]} references non-existent config key: {key}")
        files[str(item.get("path") or key)] = data[key]
    return files


def _object_files(lookup: Lookup, namespace: str, volume: str, kind: str, ref: Obj, name_field: str) -> \
        dict[str, str]:
    name, optional = str(ref.get(name_field) or ""), bool(ref.get("optional"))
    obj = lookup(kind, namespace, name)
    if obj is None:
        if optional:
            return {}
        raise MountError(volume, f'{_SINGULAR[kind][0]} "{name}" not found')
    return _key_files(volume, _data(obj, kind), ref.get("items"), kind, name, optional)


def _downward_files(pod: Obj, container_for: dict[str, Obj], items: list[Obj]) -> dict[str, str]:
    files: dict[str, str] = {}
    for item in items:
        if "fieldRef" in item:
            files[str(item.get("path") or "")] = field_value(pod, str(item["fieldRef"].get("fieldPath") or ""))
        elif "resourceFieldRef" in item:
            ref = item["resourceFieldRef"]
            container = container_for.get(str(ref.get("containerName") or ""), {})
            files[str(item.get("path") or "")] = resource_value(container, str(ref.get("resource") or ""),
                                                                 ref.get("divisor"))
    return files


def materialize_volumes(pod: Obj, volumes_dir: Path, lookup: Lookup, mint: Mint) -> \
        tuple[dict[str, Path], list[TokenFile]]:
    """Write the pod's volumes under `volumes_dir`; returns {volume name: host folder} and the token files."""
    namespace = str((pod.get("metadata") or {}).get("namespace") or "default")
    spec = pod.get("spec") or {}
    containers = {str(c.get("name")): c for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])}
    mounted: dict[str, Path] = {}
    tokens: list[TokenFile] = []
    for volume in spec.get("volumes") or []:
        name = str(volume.get("name") or "")
        if not _VOLUME_NAME.fullmatch(name) or len(name) > 63:
            continue
        root = private_dir(volumes_dir / name)
        files: dict[str, str] = {}
        if "projected" in volume:
            for source in (volume["projected"] or {}).get("sources") or []:
                if "serviceAccountToken" in source:
                    sat = source["serviceAccountToken"]
                    audience = sat.get("audience")
                    seconds = int(sat.get("expirationSeconds") or DEFAULT_TOKEN_SECONDS)
                    audiences = [str(audience)] if audience else []
                    try:
                        token = mint(audiences, seconds)
                    except Exception as exc:
                        raise MountError(name, f"failed to fetch token: {exc}") from None
                    path = _write(root, name, str(sat.get("path") or ""), token)
                    tokens.append(TokenFile(path, tuple(audiences), seconds))
                elif "configMap" in source:
                    files.update(_object_files(lookup, namespace, name, "configmaps", source["configMap"], "name"))
                elif "secret" in source:
                    files.update(_object_files(lookup, namespace, name, "secrets", source["secret"], "name"))
                elif "downwardAPI" in source:
                    files.update(_downward_files(pod, containers, source["downwardAPI"].get("items") or []))
        elif "configMap" in volume:
            files = _object_files(lookup, namespace, name, "configmaps", volume["configMap"], "name")
        elif "secret" in volume:
            files = _object_files(lookup, namespace, name, "secrets", volume["secret"], "secretName")
        elif "downwardAPI" in volume:
            files = _downward_files(pod, containers, volume["downwardAPI"].get("items") or [])
        elif "emptyDir" not in volume:
            root.rmdir()
            continue
        for rel, data in files.items():
            _write(root, name, rel, data)
        mounted[name] = root
    return mounted, tokens


def container_mounts(container: Obj, mounted: dict[str, Path]) -> list[tuple[str, Path]]:
    """(path in the container, host path) for each of the container's mounts that is materialised,
    longest container path first so nested mounts win."""
    pairs: list[tuple[str, Path]] = []
    for mount in container.get("volumeMounts") or []:
        host = mounted.get(str(mount.get("name") or ""))
        mount_path = str(mount.get("mountPath") or "")
        if host is None or not mount_path.startswith("/"):
            continue
        sub = str(mount.get("subPath") or "")
        if sub:
            try:
                host = host.joinpath(*_safe_relative(str(mount.get("name")), sub).parts)
            except MountError:
                continue
        pairs.append((mount_path.rstrip("/") or "/", host))
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


def translate(value: str, mounts: list[tuple[str, Path]]) -> str:
    """An in-container path under a mount becomes the host path of the volume; other values are unchanged."""
    for mount_path, host in mounts:
        if value == mount_path:
            return str(host)
        if value.startswith(mount_path + "/"):
            return str(host.joinpath(*PurePosixPath(value[len(mount_path) + 1:]).parts))
    return value
