"""Scenario seeding of ARM state: provider registrations, role assignments, resource groups, AKS clusters and
compute quota. Everything seeded gets deterministic IDs (`ids.named`), so a fresh world is always the same;
seeded role assignments count as created at time 0, so propagation faults never hide seeded access."""

from __future__ import annotations

from wizard.sandbox import armstore
from wizard.sandbox.arm import authorization, catalog, clusterbody, managedclusters, providers, quota, resourcegroups
from wizard.sandbox.arm import roles as builtin_roles
from wizard.sandbox.world import World


def seed_providers(world: World, subscription_id: str, unregistered: list[str]) -> None:
    providers.seed(world, subscription_id, unregistered)


def seed_role_assignment(world: World, scope: str, principal_id: str, principal_type: str, role_name: str) -> None:
    role = builtin_roles.by_name(role_name)
    if role is None:
        known = ", ".join(r.name for r in builtin_roles.BUILTIN_ROLES)
        raise ValueError(f"scenario: unknown role {role_name!r}; built-in roles are: {known}")
    name = world.ids.named("role-assignment", scope.lower(), principal_id.lower(), role.guid)
    armstore.put(world, authorization.build_assignment(
        world, scope=scope, name=name, role_guid=role.guid, principal_id=principal_id,
        principal_type=principal_type, created_by=None, created=0))


def seed_resource_group(world: World, subscription_id: str, name: str, location: str) -> None:
    resourcegroups.create(world, subscription_id, name, catalog.normalize_location(location))


def seed_cluster(world: World, tenant_id: str, subscription_id: str, resource_group: str, name: str,
                 location: str, oidc_issuer: bool, workload_identity: bool) -> None:
    group = resourcegroups.get(world, subscription_id, resource_group)
    rg = group["name"] if group else resource_group
    if group is None:
        resourcegroups.create(world, subscription_id, rg, catalog.normalize_location(location))
    arm_id = clusterbody.cluster_id(subscription_id, rg, name)

    def new_id(kind: str) -> str:
        return world.ids.named(kind, arm_id.lower())

    incoming = {"properties": {
        "agentPoolProfiles": [{"name": "nodepool1", "count": 3, "vmSize": clusterbody.DEFAULT_VM_SIZE,
                               "mode": "System"}],
        "oidcIssuerProfile": {"enabled": oidc_issuer},
        "securityProfile": {"workloadIdentity": {"enabled": workload_identity}},
    }}
    body = clusterbody.new_cluster(subscription_id=subscription_id, resource_group=rg, name=name,
                                   location=catalog.normalize_location(location), tenant_id=tenant_id,
                                   new_id=new_id, incoming=incoming)
    clusterbody.set_state(body, "Succeeded", new_id("etag"))
    armstore.internal(body)["cores"] = clusterbody.cores(body)  # already part of the seeded usage
    armstore.put(world, body)
    managedclusters.provision(world, body, tenant_id, new_id)


def seed_quota(world: World, subscription_id: str, location: str, resource: str, limit: int, usage: int) -> None:
    quota.seed(world, subscription_id, location, resource, limit, usage)
