"""The contract between the cluster's API server (kube/api*.py) and its pod runtime (kube/kubelet.py,
kube/webhook.py, sandbox/images/).

The API server owns the objects (store, resourceVersions, watch events); the runtime only asks it to change
them through `PodApi`, always on the sandbox's event loop.
"""

from __future__ import annotations

from typing import Any, Protocol

Obj = dict[str, Any]


class AdmissionDenied(Exception):
    """A pod refused at admission. The API server answers with a Kubernetes Status of this code and message."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message


class PodApi(Protocol):
    """What the kubelet may do to the cluster it runs pods for."""

    def get_pod(self, namespace: str, name: str) -> Obj | None:
        """The current pod object (a copy), or None when it is gone."""

    def update_pod_status(self, namespace: str, name: str, uid: str, status: Obj) -> None:
        """Replace `.status` of the pod with this UID (no-op if the pod was deleted or re-created);
        bumps resourceVersion and sends a MODIFIED watch event."""

    def record_event(self, involved: Obj, reason: str, message: str, type_: str = "Normal", *,
                     field_path: str = "") -> None:
        """Create (or bump the count of) a core/v1 Event about `involved` (a pod object); `field_path` names the
        container it concerns (`spec.containers{app}`), as kubelet events do."""

    def append_log(self, uid: str, container: str, line: str) -> None:
        """One line the container wrote (without the newline); followers of the log see it at once."""

    def close_log(self, uid: str, container: str) -> None:
        """The container terminated: `follow` streams of this container end."""

    def mint_token(self, namespace: str, service_account: str, audiences: list[str],
                   expiration_seconds: int, pod: Obj | None) -> str:
        """A service-account JWT signed by the cluster's issuer key, exactly as TokenRequest would mint it."""

    def remove_pod(self, namespace: str, name: str, uid: str) -> None:
        """Finish a graceful deletion: the pod object disappears (DELETED watch event)."""

    # Added by the pod runtime (additive):

    def get_object(self, kind_plural: str, namespace: str, name: str) -> Obj | None:
        """A copy of a namespaced object (`configmaps`, `secrets`, `serviceaccounts`…), or None when it does
        not exist or the kind is not served. The kubelet reads ConfigMaps and Secrets for env, envFrom and
        projected volumes."""
