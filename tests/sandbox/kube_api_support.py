"""Shared pieces of the cluster API tests: the real kubernetes client on the sandbox kubeconfig (CA verified),
fresh namespaces, raw HTTPS for what the typed client cannot send, and access to the cluster's PodApi (the
API server's own interface to its pod runtime) for tests that play the runtime."""

from __future__ import annotations

import contextlib
import json
import ssl
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from wizard.sandbox import Sandbox, clusters

PLATFORM = "aks-platform"  # OIDC issuer + workload identity on (default scenario)
DEMO = "aks-wi-demo"  # both off
FOREIGN_NODE = "aks-elsewhere-00000000-vmss000000"  # no kubelet runs pods bound here


def record(box: Sandbox, name: str = PLATFORM) -> clusters.Record:
    found = next((r for r in clusters.all_records(box.world) if r["name"] == name), None)
    assert found is not None, f"the default scenario has no cluster {name}"
    return found


def core_v1(box: Sandbox, name: str = PLATFORM) -> Any:
    from kubernetes import client, config

    return client.CoreV1Api(config.new_client_from_config(config_file=box.kubeconfig, context=name))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def make_namespace(v1: Any, prefix: str = "t") -> str:
    name = unique(prefix)
    v1.create_namespace({"metadata": {"name": name}})
    return name


@contextlib.contextmanager
def temporary_namespace(v1: Any, prefix: str = "t") -> Iterator[str]:
    """A fresh namespace, deleted afterwards (its pods stop, so the session's node stays quiet)."""
    from kubernetes.client.exceptions import ApiException

    name = make_namespace(v1, prefix)
    try:
        yield name
    finally:
        with contextlib.suppress(ApiException):
            v1.delete_namespace(name)


def status_of(exc: Any) -> dict[str, Any]:
    """The Kubernetes `Status` body of an ApiException."""
    body: dict[str, Any] = json.loads(exc.body)
    return body


@dataclass
class Raw:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def https(box: Sandbox, method: str, path: str, *, token: str | None = None, body: bytes | None = None,
          headers: dict[str, str] | None = None, timeout: float = 30) -> Raw:
    """One HTTPS exchange with the sandbox, trusting only its CA."""
    context = ssl.create_default_context(cafile=box.ca_bundle)
    headers = dict(headers or {})
    if body is not None:
        headers.setdefault("Content-Type", "application/json")  # urllib would say form-urlencoded: a 415
    request = urllib.request.Request(box.base_url + path, data=body, method=method, headers=headers)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, context=context, timeout=timeout) as resp:
            return Raw(resp.status, dict(resp.headers.items()), resp.read())
    except urllib.error.HTTPError as exc:
        return Raw(exc.code, dict(exc.headers.items()), exc.read())


def cluster_path(rec: clusters.Record, path: str) -> str:
    return f"/k8s/{rec['key']}{path}"


def on_loop(box: Sandbox, fn: Callable[[], Any]) -> Any:
    """Run `fn` on the sandbox's event loop (where the API server and its runtime live) and return its result."""

    async def call() -> Any:
        return fn()

    return box.call(call())


def pod_api(box: Sandbox, rec: clusters.Record) -> Any:
    """The cluster's `contracts.PodApi` implementation (what the kubelet is given)."""
    from wizard.sandbox.kube.service import live_cluster

    return on_loop(box, lambda: live_cluster(box.world, rec["key"]))


def running_status(container: str = "app", started: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    return {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": container, "ready": True, "restartCount": 0, "image": "busybox",
                                   "imageID": "", "started": True, "state": {"running": {"startedAt": started}}}]}


def foreign_pod(name: str, containers: tuple[str, ...] = ("app",), **spec: Any) -> dict[str, Any]:
    """A pod bound to a node no kubelet serves: only the test (through PodApi) changes its status and logs."""
    return {"metadata": {"name": name},
            "spec": {"nodeName": FOREIGN_NODE, "containers": [{"name": c, "image": "busybox"} for c in containers],
                     **spec}}
