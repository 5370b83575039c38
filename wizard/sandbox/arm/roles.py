"""Azure built-in role definitions the sandbox knows: real names, GUIDs, descriptions and permissions.

Taken from the published Azure built-in roles reference (categories Privileged, General, Identity, Containers).
RBAC checks evaluate `actions`/`notActions`; the data actions are kept so a role picker can show them.
"""

from __future__ import annotations

from dataclasses import dataclass

# The reference does not publish per-role timestamps; ARM bodies carry these for every built-in role.
CREATED_ON = "2015-02-02T21:55:09.8806423Z"
UPDATED_ON = "2025-06-30T15:21:07.1836530Z"


@dataclass(frozen=True)
class BuiltinRole:
    name: str
    guid: str
    description: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()


_AUTH_READ = "Microsoft.Authorization/*/read"
_SUB_READS = ("Microsoft.Resources/subscriptions/operationresults/read", "Microsoft.Resources/subscriptions/read",
              "Microsoft.Resources/subscriptions/resourceGroups/read")
_MC = "Microsoft.ContainerService/managedClusters"

_AKS_READER_DATA = tuple(f"{_MC}/{p}/read" for p in (
    "apps/controllerrevisions", "apps/daemonsets", "apps/deployments", "apps/replicasets", "apps/statefulsets",
    "autoscaling/horizontalpodautoscalers", "batch/cronjobs", "batch/jobs", "configmaps",
    "discovery.k8s.io/endpointslices", "endpoints", "events.k8s.io/events", "events", "extensions/daemonsets",
    "extensions/deployments", "extensions/ingresses", "extensions/networkpolicies", "extensions/replicasets",
    "limitranges", "metrics.k8s.io/pods", "metrics.k8s.io/nodes", "namespaces", "networking.k8s.io/ingresses",
    "networking.k8s.io/networkpolicies", "persistentvolumeclaims", "pods", "policy/poddisruptionbudgets",
    "replicationcontrollers", "resourcequotas", "serviceaccounts", "services"))

_AKS_WRITER_DATA = (
    f"{_MC}/apps/controllerrevisions/read", f"{_MC}/apps/daemonsets/*", f"{_MC}/apps/deployments/*",
    f"{_MC}/apps/replicasets/*", f"{_MC}/apps/statefulsets/*", f"{_MC}/autoscaling/horizontalpodautoscalers/*",
    f"{_MC}/batch/cronjobs/*", f"{_MC}/coordination.k8s.io/leases/read", f"{_MC}/coordination.k8s.io/leases/write",
    f"{_MC}/coordination.k8s.io/leases/delete", f"{_MC}/discovery.k8s.io/endpointslices/read",
    f"{_MC}/batch/jobs/*", f"{_MC}/configmaps/*", f"{_MC}/endpoints/*", f"{_MC}/events.k8s.io/events/read",
    f"{_MC}/events/*", f"{_MC}/extensions/daemonsets/*", f"{_MC}/extensions/deployments/*",
    f"{_MC}/extensions/ingresses/*", f"{_MC}/extensions/networkpolicies/*", f"{_MC}/extensions/replicasets/*",
    f"{_MC}/limitranges/read", f"{_MC}/metrics.k8s.io/pods/read", f"{_MC}/metrics.k8s.io/nodes/read",
    f"{_MC}/namespaces/read", f"{_MC}/networking.k8s.io/ingresses/*", f"{_MC}/networking.k8s.io/networkpolicies/*",
    f"{_MC}/persistentvolumeclaims/*", f"{_MC}/pods/*", f"{_MC}/policy/poddisruptionbudgets/*",
    f"{_MC}/replicationcontrollers/*", f"{_MC}/resourcequotas/read", f"{_MC}/secrets/*",
    f"{_MC}/serviceaccounts/*", f"{_MC}/services/*")

BUILTIN_ROLES: tuple[BuiltinRole, ...] = (
    BuiltinRole(
        "Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        ("*",)),
    BuiltinRole(
        "Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c",
        "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, "
        "manage assignments in Azure Blueprints, or share image galleries.",
        ("*",),
        ("Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
         "Microsoft.Authorization/elevateAccess/Action", "Microsoft.Blueprint/blueprintAssignments/write",
         "Microsoft.Blueprint/blueprintAssignments/delete", "Microsoft.Compute/galleries/share/action",
         "Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete",
         "Microsoft.Resources/deploymentStacks/manageDenySetting/action", "Microsoft.Subscription/cancel/action",
         "Microsoft.Subscription/enable/action")),
    BuiltinRole(
        "Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        "View all resources, but does not allow you to make any changes.",
        ("*/read",)),
    BuiltinRole(
        "User Access Administrator", "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        "Lets you manage user access to Azure resources.",
        ("*/read", "Microsoft.Authorization/*", "Microsoft.Support/*")),
    BuiltinRole(
        "Role Based Access Control Administrator", "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
        "Manage access to Azure resources by assigning roles using Azure RBAC. This role does not allow you to "
        "manage access using other ways, such as Azure Policy.",
        ("Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete",
         "*/read", "Microsoft.Support/*")),
    BuiltinRole(
        "Managed Identity Contributor", "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59",
        "Create, Read, Update, and Delete User Assigned Identity",
        ("Microsoft.ManagedIdentity/userAssignedIdentities/read",
         "Microsoft.ManagedIdentity/userAssignedIdentities/write",
         "Microsoft.ManagedIdentity/userAssignedIdentities/delete",
         "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read",
         "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
         "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete",
         "Microsoft.ManagedIdentity/userAssignedIdentities/revokeTokens/action", _AUTH_READ,
         "Microsoft.Insights/alertRules/*", "Microsoft.Resources/subscriptions/resourceGroups/read",
         "Microsoft.Resources/deployments/*", "Microsoft.Support/*")),
    BuiltinRole(
        "Managed Identity Operator", "f1a07417-d97a-45cb-824c-7a7467783830",
        "Read and Assign User Assigned Identity",
        ("Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
         "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action", _AUTH_READ,
         "Microsoft.Insights/alertRules/*", "Microsoft.Resources/subscriptions/resourceGroups/read",
         "Microsoft.Resources/deployments/*", "Microsoft.Support/*")),
    BuiltinRole(
        "Azure Kubernetes Service Cluster Admin Role", "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8",
        "List cluster admin credential action.",
        (f"{_MC}/listClusterAdminCredential/action", f"{_MC}/accessProfiles/listCredential/action",
         f"{_MC}/read", f"{_MC}/runcommand/action")),
    BuiltinRole(
        "Azure Kubernetes Service Cluster User Role", "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
        "List cluster user credential action.",
        (f"{_MC}/listClusterUserCredential/action", f"{_MC}/read")),
    BuiltinRole(
        "Azure Kubernetes Service Contributor Role", "ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8",
        "Grants access to read and write Azure Kubernetes Service clusters",
        (_AUTH_READ, "Microsoft.ContainerService/locations/*", f"{_MC}/*",
         "Microsoft.ContainerService/managedclustersnapshots/*", "Microsoft.ContainerService/snapshots/*",
         "Microsoft.Insights/alertRules/*", "Microsoft.Resources/deployments/*",
         "Microsoft.Resources/subscriptions/resourceGroups/read")),
    BuiltinRole(
        "Azure Kubernetes Service RBAC Reader", "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
        "Allows read-only access to see most objects in a namespace. It does not allow viewing roles or role "
        "bindings. This role does not allow viewing Secrets, since reading the contents of Secrets enables access "
        "to ServiceAccount credentials in the namespace, which would allow API access as any ServiceAccount in the "
        "namespace (a form of privilege escalation). Applying this role at cluster scope will give access across "
        "all namespaces.",
        (_AUTH_READ, *_SUB_READS), data_actions=_AKS_READER_DATA),
    BuiltinRole(
        "Azure Kubernetes Service RBAC Writer", "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb",
        "Allows read/write access to most objects in a namespace.This role does not allow viewing or modifying "
        "roles or role bindings. However, this role allows accessing Secrets and running Pods as any ServiceAccount "
        "in the namespace, so it can be used to gain the API access levels of any ServiceAccount in the namespace. "
        "Applying this role at cluster scope will give access across all namespaces.",
        (_AUTH_READ, *_SUB_READS), data_actions=_AKS_WRITER_DATA),
    BuiltinRole(
        "Azure Kubernetes Service RBAC Admin", "3498e952-d568-435e-9b2c-8d77e338d7f7",
        "Lets you manage all resources under cluster/namespace, except update or delete resource quotas and "
        "namespaces.",
        (_AUTH_READ, *_SUB_READS, f"{_MC}/listClusterUserCredential/action"),
        data_actions=(f"{_MC}/*",),
        not_data_actions=(f"{_MC}/resourcequotas/write", f"{_MC}/resourcequotas/delete",
                          f"{_MC}/namespaces/write", f"{_MC}/namespaces/delete")),
    BuiltinRole(
        "Azure Kubernetes Service RBAC Cluster Admin", "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
        "Lets you manage all resources in the cluster.",
        (_AUTH_READ, *_SUB_READS, f"{_MC}/listClusterUserCredential/action"),
        data_actions=(f"{_MC}/*",)),
)

_BY_GUID = {r.guid: r for r in BUILTIN_ROLES}
_BY_NAME = {r.name.lower(): r for r in BUILTIN_ROLES}


def by_guid(guid: str) -> BuiltinRole | None:
    return _BY_GUID.get(guid.lower())


def by_name(name: str) -> BuiltinRole | None:
    return _BY_NAME.get(name.lower())
