"""The contract between the ARM side of AKS (managedClusters) and the clusters themselves.

A cluster record lives in collection `clusters`, keyed by a short `key` that names it in URLs:
- its Kubernetes API is served at `{base}/k8s/{key}` (one kubeconfig context per cluster);
- once the OIDC issuer is enabled, its issuer is `{base}/oic/{location}/{tenant}/{guid}/` (trailing slash, as
  AKS's `https://{region}.oic.prod-aks.azure.com/{tenant}/{guid}/`); before that, service-account tokens carry
  the cluster-internal issuer that no federated credential can match.
ARM owns the resource body; this record holds what the cluster needs. Changes are announced on the world's
event bus as `cluster-changed` / `cluster-deleted` (argument: the record).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import yaml

from wizard.paths import write_private
from wizard.sandbox.world import World

INTERNAL_ISSUER = "https://kubernetes.default.svc.cluster.local"
KUBERNETES_VERSION = "1.32.6"

Record = dict[str, Any]


def key_for(arm_id: str) -> str:
    return hashlib.sha256(arm_id.lower().encode()).hexdigest()[:12]


def create(world: World, *, arm_id: str, name: str, tenant_id: str, subscription_id: str,
           resource_group: str, location: str, oidc_issuer: bool = False,
           workload_identity: bool = False, kubernetes_version: str = KUBERNETES_VERSION) -> Record:
    record: Record = {
        "key": key_for(arm_id),
        "arm_id": arm_id,
        "name": name,
        "tenant_id": tenant_id,
        "subscription_id": subscription_id,
        "resource_group": resource_group,
        "location": location,
        "kubernetes_version": kubernetes_version,
        "oidc_issuer": False,
        "issuer_path": None,
        "workload_identity": False,
        "user_token": world.ids.secret(),
        "admin_token": world.ids.secret(),
    }
    if oidc_issuer:
        enable_oidc_issuer(world, record)
    record["workload_identity"] = workload_identity
    save(world, record)
    return record


def enable_oidc_issuer(world: World, record: Record) -> None:
    """Turn the issuer on (it can never be turned off); the URL is new and random, as on AKS."""
    if not record["oidc_issuer"]:
        guid = world.ids.new("issuer")
        record["oidc_issuer"] = True
        record["issuer_path"] = f"/oic/{record['location']}/{record['tenant_id']}/{guid}/"


def get(world: World, key: str) -> Record | None:
    return world.store.get("clusters", key)


def by_arm_id(world: World, arm_id: str) -> Record | None:
    return get(world, key_for(arm_id))


def all_records(world: World) -> list[Record]:
    return sorted(world.store.values("clusters"), key=lambda r: (r["resource_group"].lower(), r["name"].lower()))


def save(world: World, record: Record) -> None:
    world.store.put("clusters", record["key"], record)
    world.emit("cluster-changed", record)
    write_kubeconfig_file(world)


def delete(world: World, key: str) -> None:
    record = get(world, key)
    if record and world.store.delete("clusters", key):
        world.emit("cluster-deleted", record)
        write_kubeconfig_file(world)


def issuer_url(world: World, record: Record) -> str | None:
    """The public OIDC issuer URL ARM reports (None until enabled)."""
    return world.url(record["issuer_path"]) if record.get("issuer_path") else None


def token_issuer(world: World, record: Record) -> str:
    """The `iss` the cluster signs into service-account tokens."""
    return issuer_url(world, record) or INTERNAL_ISSUER


def server_url(world: World, record: Record) -> str:
    return world.url(f"/k8s/{record['key']}")


def fqdn(record: Record) -> str:
    """The realistic AKS FQDN shown in the ARM body (the kubeconfig points at the sandbox instead)."""
    return f"{record['name'][:20]}-dns-{record['key'][:8]}.hcp.{record['location']}.azmk8s.io"


def _user_name(record: Record, admin: bool) -> str:
    role = "clusterAdmin" if admin else "clusterUser"
    return f"{role}_{record['resource_group']}_{record['name']}"


def kubeconfig_dict(world: World, records: list[Record], admin: bool = False) -> dict[str, Any]:
    ca = world.ca_path.read_bytes() if world.ca_path else b""
    ca_data = base64.b64encode(ca).decode()
    clusters, users, contexts = [], [], []
    for r in records:
        user = _user_name(r, admin)
        clusters.append({"name": r["name"], "cluster": {
            "server": server_url(world, r), "certificate-authority-data": ca_data}})
        users.append({"name": user, "user": {"token": r["admin_token" if admin else "user_token"]}})
        contexts.append({"name": r["name"] + ("-admin" if admin else ""),
                         "context": {"cluster": r["name"], "user": user}})
    return {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": clusters, "users": users, "contexts": contexts,
        "current-context": contexts[0]["name"] if contexts else "",
    }


def kubeconfig(world: World, record: Record, admin: bool = False) -> str:
    """What listClusterUserCredential / listClusterAdminCredential return for one cluster."""
    return yaml.safe_dump(kubeconfig_dict(world, [record], admin), sort_keys=False)


def write_kubeconfig_file(world: World) -> None:
    """`{state_dir}/kubeconfig`: one context per cluster (named after the cluster), user credentials."""
    if not world.base_url:
        return
    text = yaml.safe_dump(kubeconfig_dict(world, all_records(world)), sort_keys=False)
    write_private(world.state_dir / "kubeconfig", text)


def authenticate(record: Record, bearer: str) -> str | None:
    """Which kind of kubeconfig user a static bearer token is ('user', 'admin'), or None."""
    if bearer and bearer == record["admin_token"]:
        return "admin"
    if bearer and bearer == record["user_token"]:
        return "user"
    return None
