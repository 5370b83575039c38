"""The seed walkthrough done by hand with the real SDKs against a sandbox: the steps a platform engineer would
type as az/kubectl commands, as reusable pieces for end-to-end tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from tests.conftest import Env

RG, CLUSTER = "rg-wi-demo", "aks-wi-demo"
IDENTITY, FIC = "mi-wi-demo", "fc-wi-demo"
NAMESPACE, SERVICE_ACCOUNT = "default", "wi-demo-account"
AUDIENCE = "api://AzureADTokenExchange"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


@dataclass
class Identity:
    client_id: str
    principal_id: str
    tenant_id: str


def enable_workload_identity(env: Env) -> str:
    """Step 1-2: enable the OIDC issuer + workload identity on contoso's aks-wi-demo; return the issuer URL."""
    from azure.mgmt.containerservice import ContainerServiceClient
    from azure.mgmt.containerservice.models import (
        ManagedClusterOIDCIssuerProfile,
        ManagedClusterSecurityProfile,
        ManagedClusterSecurityProfileWorkloadIdentity,
    )

    aks = ContainerServiceClient(env.sp_credential("contoso"), env.subscription_id("contoso"), **env.client_kwargs())
    mc = aks.managed_clusters.get(RG, CLUSTER)
    mc.oidc_issuer_profile = ManagedClusterOIDCIssuerProfile(enabled=True)
    mc.security_profile = mc.security_profile or ManagedClusterSecurityProfile()
    mc.security_profile.workload_identity = ManagedClusterSecurityProfileWorkloadIdentity(enabled=True)
    mc = aks.managed_clusters.begin_create_or_update(RG, CLUSTER, mc).result()
    assert mc.oidc_issuer_profile.enabled and mc.security_profile.workload_identity.enabled
    return str(mc.oidc_issuer_profile.issuer_url)


def create_identity(env: Env, tenant: str = "fabrikam", *, with_reader: bool = True) -> Identity:
    """Step 3: resource group + UAMI in the identity tenant, and Reader on its subscription."""
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
    from azure.mgmt.msi import ManagedServiceIdentityClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    cred, sub = env.sp_credential(tenant), env.subscription_id(tenant)
    ResourceManagementClient(cred, sub, **env.client_kwargs()).resource_groups.create_or_update(
        RG, {"location": "eastus"})
    msi = ManagedServiceIdentityClient(cred, sub, **env.client_kwargs())
    ident = msi.user_assigned_identities.create_or_update(RG, IDENTITY, {"location": "eastus"})
    if with_reader:
        auth = AuthorizationManagementClient(cred, sub, **env.client_kwargs())
        scope = f"/subscriptions/{sub}"
        reader = next(iter(auth.role_definitions.list(scope, filter="roleName eq 'Reader'")))
        assert reader.id.endswith(READER)
        name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope}|{ident.principal_id}|{reader.id}"))
        auth.role_assignments.create(scope, name, RoleAssignmentCreateParameters(
            role_definition_id=reader.id, principal_id=ident.principal_id, principal_type="ServicePrincipal"))
    return Identity(ident.client_id, ident.principal_id, ident.tenant_id)


def federate(env: Env, issuer: str, subject: str, tenant: str = "fabrikam") -> None:
    """Step 4: the federated identity credential trusting the cluster's issuer, verbatim."""
    from azure.mgmt.msi import ManagedServiceIdentityClient
    from azure.mgmt.msi.models import FederatedIdentityCredential

    msi = ManagedServiceIdentityClient(env.sp_credential(tenant), env.subscription_id(tenant), **env.client_kwargs())
    fic = msi.federated_identity_credentials.create_or_update(
        RG, IDENTITY, FIC, FederatedIdentityCredential(issuer=issuer, subject=subject, audiences=[AUDIENCE]))
    assert fic.issuer == issuer


def kube_client(env: Env) -> Any:
    """The cluster's API through the kubeconfig ARM hands out (listClusterUserCredential)."""
    from azure.mgmt.containerservice import ContainerServiceClient
    from kubernetes import client, config

    aks = ContainerServiceClient(env.sp_credential("contoso"), env.subscription_id("contoso"), **env.client_kwargs())
    creds = aks.managed_clusters.list_cluster_user_credentials(RG, CLUSTER)
    kubeconfig = yaml.safe_load(creds.kubeconfigs[0].value)
    return client.CoreV1Api(config.new_client_from_config_dict(kubeconfig))


def deploy(v1: Any, client_id: str, pod_name: str, env_vars: dict[str, str],
           service_account: str = SERVICE_ACCOUNT) -> Any:
    """Steps 5-6: the annotated ServiceAccount (if missing) and the labelled pod; returns the created pod."""
    from kubernetes.client.exceptions import ApiException

    try:
        v1.create_namespaced_service_account(NAMESPACE, {
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": service_account, "annotations": {"azure.workload.identity/client-id": client_id}},
        })
    except ApiException as exc:
        if exc.status != 409:
            raise
    return v1.create_namespaced_pod(NAMESPACE, {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod_name, "labels": {"azure.workload.identity/use": "true"}},
        "spec": {
            "serviceAccountName": service_account,
            "restartPolicy": "Never",
            "containers": [{
                "name": "app", "image": "ttl.sh/wi-demo-app:1h",
                "env": [{"name": k, "value": v} for k, v in env_vars.items()],
            }],
        },
    })


def wait_started(v1: Any, pod_name: str, timeout: float = 60) -> str:
    """Watch the pod until its container has started (or ended); return the phase."""
    from kubernetes import watch

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in watch.Watch().stream(v1.list_namespaced_pod, NAMESPACE,
                                          field_selector=f"metadata.name={pod_name}", timeout_seconds=5):
            phase = event["object"].status.phase
            if phase in {"Running", "Succeeded", "Failed"}:
                return str(phase)
    raise AssertionError(f"pod {pod_name} did not start within {timeout} s")


def follow_logs(v1: Any, pod_name: str, until: tuple[str, ...], timeout: float = 60) -> list[str]:
    """Stream the pod's logs line by line until a line starts with one of `until` (or the stream ends)."""
    lines: list[str] = []
    resp = v1.read_namespaced_pod_log(pod_name, NAMESPACE, follow=True, _preload_content=False,
                                      _request_timeout=timeout)
    try:
        for raw in _lines(resp):
            lines.append(raw)
            if raw.startswith(until):
                break
    finally:
        resp.release_conn()
    return lines


def _lines(resp: Any) -> Iterator[str]:
    buffer = b""
    for chunk in resp.stream(1024):
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield line.decode()
    if buffer:
        yield buffer.decode()


def demo_env(env: Env, *, tenant_override: bool = True) -> dict[str, str]:
    values = {"AZURE_SUBSCRIPTION_ID": env.subscription_id("fabrikam"), "AZURE_REGION": "eastus",
              "AZURE_RESOURCE_NAME": "cores", "WI_DEMO_INTERVAL_SECONDS": "1"}
    if tenant_override:
        values["AZURE_TENANT_ID"] = env.tenant_id("fabrikam")
    return values
