"""The resource types each sandbox cluster serves, as discovery (`/api/v1`) announces them.

One table drives discovery, routing (plural ↔ kind, namespaced or not) and error details, so what kubectl learns
from discovery is exactly what the handlers accept.
"""

from __future__ import annotations

from dataclasses import dataclass

CRUD = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    plural: str
    singular: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = CRUD
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    group: str = ""
    version: str = "v1"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    def discovery(self) -> dict[str, object]:
        entry: dict[str, object] = {"name": self.plural, "singularName": self.singular, "namespaced": self.namespaced,
                                    "kind": self.kind, "verbs": list(self.verbs)}
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        return entry


NAMESPACES = ResourceType("namespaces", "namespace", "Namespace", False,
                          ("create", "delete", "get", "list", "patch", "update", "watch"), ("ns",))
PODS = ResourceType("pods", "pod", "Pod", True, short_names=("po",), categories=("all",))
SERVICE_ACCOUNTS = ResourceType("serviceaccounts", "serviceaccount", "ServiceAccount", True, short_names=("sa",))
CONFIG_MAPS = ResourceType("configmaps", "configmap", "ConfigMap", True, short_names=("cm",))
SECRETS = ResourceType("secrets", "secret", "Secret", True)
EVENTS = ResourceType("events", "event", "Event", True, short_names=("ev",))

CORE: dict[str, ResourceType] = {rt.plural: rt for rt in (
    NAMESPACES, PODS, SERVICE_ACCOUNTS, CONFIG_MAPS, SECRETS, EVENTS)}

# Subresources as `/api/v1` lists them: (name, kind, verbs, group, version) — group/version only where they differ.
SUBRESOURCES: tuple[tuple[str, str, tuple[str, ...], str, str], ...] = (
    ("namespaces/status", "Namespace", ("get", "patch", "update"), "", ""),
    ("pods/log", "Pod", ("get",), "", ""),
    ("pods/status", "Pod", ("get", "patch", "update"), "", ""),
    ("serviceaccounts/token", "TokenRequest", ("create",), "authentication.k8s.io", "v1"),
)

# authentication.k8s.io/v1: only the two create-only review types kubectl and tools use.
TOKEN_REVIEWS = ResourceType("tokenreviews", "tokenreview", "TokenReview", False, ("create",),
                             group="authentication.k8s.io")
SELF_SUBJECT_REVIEWS = ResourceType("selfsubjectreviews", "selfsubjectreview", "SelfSubjectReview", False,
                                    ("create",), group="authentication.k8s.io")
AUTHENTICATION = (SELF_SUBJECT_REVIEWS, TOKEN_REVIEWS)
TOKEN_REQUEST_GROUP = "authentication.k8s.io"


def core_api_resources() -> list[dict[str, object]]:
    """The `resources` of `/api/v1`, sorted by name as the API server lists them."""
    entries = [rt.discovery() for rt in CORE.values()]
    for name, kind, verbs, group, version in SUBRESOURCES:
        entry: dict[str, object] = {"name": name, "singularName": "", "namespaced": name != "namespaces/status",
                                    "kind": kind, "verbs": list(verbs)}
        if group:
            entry["group"], entry["version"] = group, version
        entries.append(entry)
    return sorted(entries, key=lambda e: str(e["name"]))
