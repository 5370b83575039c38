"""The ARM body of an AKS managed cluster: realistic defaults (shaped like `az aks show` output and the spec
examples), the merge of an incoming PUT over the stored body, and the live view served to clients.

The cluster record (wizard.sandbox.clusters) owns what the running cluster actually has — whether its OIDC
issuer is on and its URL, which is only known once the sandbox listens — so the served body takes `issuerURL`
from the record, while the stored body holds what was asked for.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from wizard.sandbox import armstore, clusters
from wizard.sandbox.world import World

NAMESPACE = "Microsoft.ContainerService"
MC_TYPE = f"{NAMESPACE}/managedClusters"
SERVED_TYPE = f"{NAMESPACE}/ManagedClusters"  # AKS answers with a capital M
DEFAULT_VM_SIZE = "Standard_DS2_v2"
NODE_IMAGE = "AKSUbuntu-2204gen2containerd-202507.21.0"

NewId = Callable[[str], str]
# Fields AKS computes: a PUT cannot set them, and they survive a PUT that omits them.
READ_ONLY = ("fqdn", "azurePortalFQDN", "identityProfile", "resourceUID", "maxAgentPools", "currentKubernetesVersion")


def cluster_id(subscription_id: str, resource_group: str, name: str) -> str:
    # AKS spells the segment `resourcegroups` in the IDs it returns.
    return f"/subscriptions/{subscription_id}/resourcegroups/{resource_group}/providers/{MC_TYPE}/{name}"


def node_resource_group(resource_group: str, name: str, location: str) -> str:
    return f"MC_{resource_group}_{name}_{location}"


def default_dns_prefix(name: str, resource_group: str, subscription_id: str) -> str:
    """What `az aks create` derives when no DNS prefix is given."""
    name_part = re.sub(r"[^A-Za-z0-9-]", "", name)[:10]
    if not name_part[:1].isalpha():
        name_part = ("a" + name_part)[:10]
    return f"{name_part}-{re.sub(r'[^A-Za-z0-9-]', '', resource_group)[:16]}-{subscription_id[:6]}"


def vcpus(vm_size: str) -> int:
    """vCPUs of a VM size, read from its name as Azure names them (Standard_D4s_v3 → 4)."""
    match = re.match(r"^(?:standard|basic)_[a-z]+?(\d+)", vm_size, re.IGNORECASE)
    return int(match.group(1)) if match else 2


def cores(body: dict[str, Any]) -> int:
    return sum(int(p.get("count") or 0) * vcpus(str(p.get("vmSize") or DEFAULT_VM_SIZE))
               for p in body["properties"].get("agentPoolProfiles", []))


def merge(base: Any, overlay: Any) -> Any:
    """`overlay` over `base`: objects merge key by key, lists of named objects merge by name (pools the PUT
    leaves out stay), other lists and values are replaced; nulls in the overlay leave the base value."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = merge(base.get(key), value) if value is not None else base.get(key)
        return {k: v for k, v in merged.items() if v is not None}
    if _named_list(base) and _named_list(overlay):
        by_name = {str(item["name"]).lower(): item for item in base}
        result = [merge(by_name.pop(str(item["name"]).lower(), {}), item) for item in overlay]
        return result + list(by_name.values())
    return copy.deepcopy(overlay if overlay is not None else base)


def _named_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(i, dict) and "name" in i for i in value)


def _pool_defaults(version: str) -> dict[str, Any]:
    return {
        "count": 3, "vmSize": DEFAULT_VM_SIZE, "osDiskSizeGB": 128, "osDiskType": "Managed",
        "kubeletDiskType": "OS", "maxPods": 110, "type": "VirtualMachineScaleSets", "enableAutoScaling": False,
        "scaleDownMode": "Delete", "orchestratorVersion": version, "enableNodePublicIP": False, "mode": "System",
        "osType": "Linux", "osSKU": "Ubuntu", "nodeImageVersion": NODE_IMAGE,
        "upgradeSettings": {"maxSurge": "10%", "maxUnavailable": "0"}, "enableFIPS": False,
        "securityProfile": {"enableVTPM": False, "enableSecureBoot": False},
    }


def _network_defaults() -> dict[str, Any]:
    return {
        "networkPlugin": "azure", "networkPluginMode": "overlay", "networkPolicy": "none",
        "networkDataplane": "azure", "loadBalancerSku": "standard",
        "loadBalancerProfile": {"managedOutboundIPs": {"count": 1}, "allocatedOutboundPorts": 0,
                                "idleTimeoutInMinutes": 30, "backendPoolType": "nodeIPConfiguration"},
        "podCidr": "10.244.0.0/16", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10",
        "outboundType": "loadBalancer", "podCidrs": ["10.244.0.0/16"], "serviceCidrs": ["10.0.0.0/16"],
        "ipFamilies": ["IPv4"],
    }


def new_cluster(*, subscription_id: str, resource_group: str, name: str, location: str, tenant_id: str,
                new_id: NewId, incoming: dict[str, Any]) -> dict[str, Any]:
    """A new cluster's body: AKS's defaults under what the caller sent, read-only fields filled in."""
    arm_id = cluster_id(subscription_id, resource_group, name)
    props_in = incoming.get("properties") or {}
    version = props_in.get("kubernetesVersion") or clusters.KUBERNETES_VERSION
    node_rg = props_in.get("nodeResourceGroup") or node_resource_group(resource_group, name, location)
    kubelet_name = f"{name}-agentpool"
    fqdn = clusters.fqdn({"name": name, "key": clusters.key_for(arm_id), "location": location})
    defaults: dict[str, Any] = {
        "id": arm_id, "location": location, "name": name, "type": SERVED_TYPE, "kind": "Base",
        "sku": {"name": "Base", "tier": "Free"},
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "kubernetesVersion": version,
            "dnsPrefix": default_dns_prefix(name, resource_group, subscription_id),
            "windowsProfile": {"adminUsername": "azureuser", "enableCSIProxy": True},
            "servicePrincipalProfile": {"clientId": "msi"},
            "nodeResourceGroup": node_rg, "enableRBAC": True, "supportPlan": "KubernetesOfficial",
            "networkProfile": _network_defaults(),
            "maxAgentPools": 100,
            "identityProfile": {"kubeletidentity": {
                "resourceId": f"/subscriptions/{subscription_id}/resourcegroups/{node_rg}/providers/"
                              f"Microsoft.ManagedIdentity/userAssignedIdentities/{kubelet_name}",
                "clientId": new_id("kubelet-client"), "objectId": new_id("kubelet-principal")}},
            "autoUpgradeProfile": {"upgradeChannel": "none", "nodeOSUpgradeChannel": "NodeImage"},
            "disableLocalAccounts": False,
            "securityProfile": {"workloadIdentity": {"enabled": False}},
            "oidcIssuerProfile": {"enabled": False},
            "storageProfile": {"diskCSIDriver": {"enabled": True}, "fileCSIDriver": {"enabled": True},
                               "snapshotController": {"enabled": True}},
            "fqdn": fqdn,
            "azurePortalFQDN": fqdn.replace(".hcp.", ".portal.hcp.", 1),
            "resourceUID": new_id("resource-uid").replace("-", "")[:24],
        },
    }
    body: dict[str, Any] = merge(defaults, incoming)
    body.update(id=arm_id, name=name, type=SERVED_TYPE, location=location)
    for read_only in READ_ONLY:
        if read_only in defaults["properties"]:
            body["properties"][read_only] = defaults["properties"][read_only]
    if body["identity"].get("type") == "SystemAssigned":
        body["identity"].update(principalId=new_id("cluster-principal"), tenantId=tenant_id)
    props = body["properties"]
    props["kubernetesVersion"] = version
    props["currentKubernetesVersion"] = version
    props["agentPoolProfiles"] = [merge(_pool_defaults(version), p) for p in props.get("agentPoolProfiles", [])]
    lb = props["networkProfile"].get("loadBalancerProfile")
    if isinstance(lb, dict):  # the outbound IPs AKS makes in the node resource group, or the ones it was given
        ip_prefix = f"/subscriptions/{subscription_id}/resourceGroups/{node_rg}/providers/Microsoft.Network/" \
                    "publicIPAddresses/"
        count = int((lb.get("managedOutboundIPs") or {}).get("count") or 1)
        lb["effectiveOutboundIPs"] = [{"id": ip_prefix + new_id(f"outbound-ip-{i}")} for i in range(count)]
    props["networkProfile"] = _complete_network(props["networkProfile"])
    return body


def _complete_network(net: dict[str, Any]) -> dict[str, Any]:
    """Effective outbound IPs follow the requested ones, as AKS reports them."""
    lb = net.get("loadBalancerProfile")
    if isinstance(lb, dict) and isinstance(lb.get("outboundIPs"), dict):
        lb["effectiveOutboundIPs"] = list(lb["outboundIPs"].get("publicIPs") or [])
        lb.pop("managedOutboundIPs", None)
    return net


def update_cluster(stored: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """The stored body with the PUT merged over it; read-only fields keep their stored values."""
    keep: dict[str, Any] = {k: stored[k] for k in ("id", "name", "type", "location") if k in stored}
    body: dict[str, Any] = merge(stored, incoming)
    body.update(keep)
    identity = stored.get("identity") or {}
    if body.get("identity", {}).get("type") == identity.get("type"):
        body["identity"] = merge(body["identity"], {k: identity[k] for k in ("principalId", "tenantId")
                                                    if k in identity})
    props, old = body["properties"], stored["properties"]
    for read_only in (*READ_ONLY, "nodeResourceGroup"):
        if read_only in old:
            props[read_only] = old[read_only]
    version = props.get("kubernetesVersion") or old["kubernetesVersion"]
    props["agentPoolProfiles"] = [merge(_pool_defaults(version), p) for p in props.get("agentPoolProfiles", [])]
    props["networkProfile"] = _complete_network(props.get("networkProfile", {}))
    return body


def set_state(body: dict[str, Any], state: str, etag: str) -> None:
    """Provisioning state of the cluster and its pools, with a fresh eTag (every write changes it)."""
    body["properties"]["provisioningState"] = state
    body["properties"]["powerState"] = {"code": "Running"}
    body["eTag"] = etag
    for pool in body["properties"].get("agentPoolProfiles", []):
        pool["provisioningState"] = state
        pool["powerState"] = {"code": "Running"}
        pool["currentOrchestratorVersion"] = pool.get("orchestratorVersion")
        pool["eTag"] = etag


def oidc_wanted(body: dict[str, Any]) -> bool:
    return bool((body["properties"].get("oidcIssuerProfile") or {}).get("enabled"))


def workload_identity_wanted(body: dict[str, Any]) -> bool:
    security = body["properties"].get("securityProfile") or {}
    return bool((security.get("workloadIdentity") or {}).get("enabled"))


def served(world: World, body: dict[str, Any]) -> dict[str, Any]:
    """What GET answers: the stored body with the live issuer URL of the running cluster."""
    out = armstore.public(body)
    props = out["properties"]
    profile: dict[str, Any] = {"enabled": oidc_wanted(body)}
    record = clusters.by_arm_id(world, body["id"])
    issuer = clusters.issuer_url(world, record) if record else None
    if issuer:
        profile["issuerURL"] = issuer
    props["oidcIssuerProfile"] = profile
    return out
