"""Pods on a sandbox cluster through the real kubernetes client: namespaces, pod bodies, waiting on a watch,
events and logs, plus a same-tenant federated identity made with the ARM SDKs (for the pod runtime's tests)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.conftest import Env
from wizard.sandbox import Sandbox

PLATFORM_RG, PLATFORM_CLUSTER = "rg-platform", "aks-platform"  # contoso's cluster with OIDC + WI on
AUDIENCE = "api://AzureADTokenExchange"
WI_LABEL = {"azure.workload.identity/use": "true"}
QUOTA_IMAGE, PROBE_IMAGE = "ttl.sh/wi-demo-app:1h", "mcr.microsoft.com/azure-cli:2.67.0"


def core_v1(box: Sandbox, context: str = PLATFORM_CLUSTER) -> Any:
    from kubernetes import client, config

    return client.CoreV1Api(config.new_client_from_config(box.kubeconfig, context=context))


def new_namespace(v1: Any, prefix: str = "rt") -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    v1.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def pod_body(name: str, image: str, *, restart: str = "Never", env: dict[str, str] | None = None,
             labels: dict[str, str] | None = None, service_account: str | None = None,
             container: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    app: dict[str, Any] = {"name": "app", "image": image,
                           "env": [{"name": k, "value": v} for k, v in (env or {}).items()], **(container or {})}
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod",
                            "metadata": {"name": name, "labels": labels or {}},
                            "spec": {"restartPolicy": restart, "containers": [app], **spec}}
    if service_account:
        body["spec"]["serviceAccountName"] = service_account
    return body


def wait_pod(v1: Any, namespace: str, name: str, predicate: Callable[[Any], bool], timeout: float = 60) -> Any:
    """Watch one pod until `predicate(pod)` holds; fail with its last status otherwise."""
    from kubernetes import watch

    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        stream = watch.Watch()
        for event in stream.stream(v1.list_namespaced_pod, namespace, field_selector=f"metadata.name={name}",
                                   timeout_seconds=max(1, min(10, int(deadline - time.monotonic())))):
            last = event["object"]
            if event["type"] != "DELETED" and predicate(last):
                stream.stop()
                return last
    raise AssertionError(f"pod {namespace}/{name} did not get there within {timeout} s; last status: "
                         f"{last.status if last is not None else None}")


def waiting_reason(pod: Any, index: int = 0) -> str | None:
    statuses = pod.status.container_statuses or []
    if len(statuses) <= index or statuses[index].state.waiting is None:
        return None
    return str(statuses[index].state.waiting.reason)


def phase_is(*phases: str) -> Callable[[Any], bool]:
    return lambda pod: pod.status.phase in phases


def events(v1: Any, namespace: str, name: str) -> list[tuple[str, str, str]]:
    """(type, reason, message) of the pod's events, oldest first (event names sort chronologically)."""
    found = v1.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}").items
    return [(e.type, e.reason, e.message) for e in sorted(found, key=lambda e: e.metadata.name)]


def logs(v1: Any, namespace: str, name: str, **kwargs: Any) -> list[str]:
    resp = v1.read_namespaced_pod_log(name, namespace, _preload_content=False, **kwargs)
    return resp.data.decode().splitlines()  # type: ignore[no-any-return]


def follow(v1: Any, namespace: str, name: str, until: tuple[str, ...], timeout: float = 60,
           times: int = 1) -> list[str]:
    """Stream the log until `times` lines have started with one of `until`, or the container ends."""
    lines: list[str] = []
    seen = 0
    resp = v1.read_namespaced_pod_log(name, namespace, follow=True, _preload_content=False,
                                      _request_timeout=timeout)
    buffer = b""
    try:
        for chunk in resp.stream(1024):
            buffer += chunk
            while b"\n" in buffer:
                raw, buffer = buffer.split(b"\n", 1)
                lines.append(raw.decode())
                seen += lines[-1].startswith(until)
                if seen >= times:
                    return lines
    finally:
        resp.release_conn()
    if buffer:
        lines.append(buffer.decode())
    return lines


@dataclass
class Identity:
    name: str
    client_id: str
    principal_id: str
    tenant_id: str


def issuer_url(env: Env, rg: str = PLATFORM_RG, cluster: str = PLATFORM_CLUSTER) -> str:
    from azure.mgmt.containerservice import ContainerServiceClient

    aks = ContainerServiceClient(env.sp_credential("contoso"), env.subscription_id("contoso"), **env.client_kwargs())
    return str(aks.managed_clusters.get(rg, cluster).oidc_issuer_profile.issuer_url)


def federated_identity(env: Env, subject: str, *, tenant: str = "contoso", issuer: str | None = None,
                       reader: bool = True, rg: str = "rg-wi-demo") -> Identity:
    """A fresh UAMI in `tenant` (Reader on its subscription unless told otherwise) trusting `subject` of the
    platform cluster's issuer, made the way the wizard makes it: ARM SDKs only."""
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
    from azure.mgmt.msi import ManagedServiceIdentityClient
    from azure.mgmt.msi.models import FederatedIdentityCredential
    from azure.mgmt.resource.resources import ResourceManagementClient

    cred, sub = env.sp_credential(tenant), env.subscription_id(tenant)
    ResourceManagementClient(cred, sub, **env.client_kwargs()).resource_groups.create_or_update(
        rg, {"location": "eastus"})
    msi = ManagedServiceIdentityClient(cred, sub, **env.client_kwargs())
    name = f"mi-rt-{uuid.uuid4().hex[:8]}"
    ident = msi.user_assigned_identities.create_or_update(rg, name, {"location": "eastus"})
    if reader:
        auth = AuthorizationManagementClient(cred, sub, **env.client_kwargs())
        scope = f"/subscriptions/{sub}"
        role = next(iter(auth.role_definitions.list(scope, filter="roleName eq 'Reader'")))
        auth.role_assignments.create(scope, str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope}|{ident.principal_id}")),
                                     RoleAssignmentCreateParameters(role_definition_id=role.id,
                                                                    principal_id=ident.principal_id,
                                                                    principal_type="ServicePrincipal"))
    msi.federated_identity_credentials.create_or_update(rg, name, "fc-runtime", FederatedIdentityCredential(
        issuer=issuer or issuer_url(env), subject=subject, audiences=[AUDIENCE]))
    return Identity(name, ident.client_id, ident.principal_id, ident.tenant_id)


def annotated_service_account(v1: Any, namespace: str, name: str, client_id: str, **annotations: str) -> None:
    v1.create_namespaced_service_account(namespace, {
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": name, "annotations": {"azure.workload.identity/client-id": client_id, **annotations}}})
