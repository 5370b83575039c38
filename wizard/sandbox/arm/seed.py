"""Scenario seeding of ARM resources (PLACEHOLDER signatures; the ARM emulation fills them)."""

from __future__ import annotations

from wizard.sandbox.world import World


def seed_providers(world: World, subscription_id: str, unregistered: list[str]) -> None:
    pass


def seed_role_assignment(world: World, scope: str, principal_id: str, principal_type: str, role_name: str) -> None:
    pass


def seed_resource_group(world: World, subscription_id: str, name: str, location: str) -> None:
    pass


def seed_cluster(world: World, tenant_id: str, subscription_id: str, resource_group: str, name: str,
                 location: str, oidc_issuer: bool, workload_identity: bool) -> None:
    pass


def seed_quota(world: World, subscription_id: str, location: str, resource: str, limit: int, usage: int) -> None:
    pass
