"""The Kubernetes path grammar below a cluster's prefix (`/k8s/{key}`):

    /api/v1[/watch][/namespaces/{ns}]/{resource}[/{name}[/{subresource}]]
    /apis/{group}/{version}[/watch][/namespaces/{ns}]/{resource}[/{name}[/{subresource}]]

`/api/v1/namespaces/{name}/status|finalize` are the namespace's own subresources, not resources inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE_SUBRESOURCES = ("status", "finalize")


@dataclass(frozen=True)
class ResourcePath:
    group: str
    version: str
    namespace: str | None
    resource: str
    name: str | None
    subresource: str | None
    watch: bool = False


def parse_resource_path(group: str, version: str, segments: list[str]) -> ResourcePath | None:
    """The resource part of a path (after `/api/v1` or `/apis/{g}/{v}`), or None when it is not one."""
    watch = bool(segments) and segments[0] == "watch"
    if watch:
        segments = segments[1:]
    if not segments or any(s == "" for s in segments):
        return None
    namespace = None
    if segments[0] == "namespaces" and len(segments) >= 3 and segments[2] not in NAMESPACE_SUBRESOURCES:
        namespace, segments = segments[1], segments[2:]
    if len(segments) > 3:
        return None
    resource = segments[0]
    name = segments[1] if len(segments) > 1 else None
    subresource = segments[2] if len(segments) > 2 else None
    return ResourcePath(group, version, namespace, resource, name, subresource, watch)
