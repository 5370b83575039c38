"""The screens' read-only queries (wizard.discover) against the sandbox's ARM, through the real SDKs."""

from __future__ import annotations

import pytest

from tests.conftest import Env
from tests.engine.support import signed_in
from wizard import discover
from wizard.azure.arm import Arm, ArmProblem
from wizard.sandbox import Sandbox
from wizard.steps.base import Context


@pytest.fixture(scope="module")
def ctx(sandbox: Sandbox) -> Context:
    found, _ = signed_in(sandbox)
    return found


def test_subscriptions_are_those_of_each_sides_tenant(ctx: Context, env: Env) -> None:
    cluster_side = discover.subscriptions(ctx, "cluster")
    identity_side = discover.subscriptions(ctx, "identity")

    assert [(s.id, s.name, s.tenant_id) for s in cluster_side] == [
        (env.subscription_id("contoso"), "contoso-platform", env.tenant_id("contoso"))]
    assert [(s.id, s.name) for s in identity_side] == [(env.subscription_id("fabrikam"), "fabrikam-shared")]


def test_clusters_lists_both_seed_clusters_sorted_by_resource_group_with_their_state(ctx: Context, env: Env) -> None:
    sub = env.subscription_id("contoso")

    found = discover.clusters(ctx, [sub, sub])  # a subscription named twice is listed once

    assert [(c.resource_group, c.name) for c in found] == [("rg-platform", "aks-platform"),
                                                           ("rg-wi-demo", "aks-wi-demo")]
    platform = found[0]
    assert (platform.location, platform.oidc_issuer, platform.workload_identity) == ("westeurope", True, True)
    assert platform.issuer_url and platform.issuer_url.startswith("https://")
    assert platform.kubernetes_version and platform.subscription_id == sub


def test_clusters_skips_a_subscription_the_login_cannot_list_when_another_answers(ctx: Context, env: Env) -> None:
    other_tenants = env.subscription_id("fabrikam")  # the cluster side's token is refused there

    found = discover.clusters(ctx, [env.subscription_id("contoso"), other_tenants])

    assert {c.name for c in found} == {"aks-platform", "aks-wi-demo"}


def test_clusters_raises_the_error_when_no_subscription_answers(ctx: Context, env: Env) -> None:
    from azure.core.exceptions import HttpResponseError

    with pytest.raises(HttpResponseError):
        discover.clusters(ctx, [env.subscription_id("fabrikam")])


def test_clusters_of_no_subscription_is_empty(ctx: Context) -> None:
    assert discover.clusters(ctx, []) == []


def test_resource_groups_are_listed_by_name_from_the_side_that_sees_the_subscription(ctx: Context,
                                                                                      env: Env) -> None:
    found = discover.resource_groups(ctx, env.subscription_id("contoso"))

    names = [g.name for g in found]
    assert {"rg-platform", "rg-wi-demo"} <= set(names) and names == sorted(names, key=str.lower)
    assert {g.name: g.location for g in found}["rg-platform"] == "westeurope"


def test_locations_have_the_plan_name_and_the_display_name(ctx: Context, env: Env) -> None:
    found = discover.locations(ctx, env.subscription_id("fabrikam"))

    by_name = {loc.name: loc.display_name for loc in found}
    assert by_name["eastus"] == "East US" and by_name["westeurope"] == "West Europe"
    assert [loc.display_name for loc in found] == sorted((loc.display_name for loc in found), key=str.lower)


def test_identities_lists_the_subscriptions_user_assigned_identities(ctx: Context, env: Env) -> None:
    sub = env.subscription_id("fabrikam")
    arm = Arm.for_side(ctx, "identity")
    if arm.groups(sub).get("rg-discover") is None:
        arm.groups(sub).create("rg-discover", "eastus", {})
    made = arm.identities(sub).create("rg-discover", "mi-discover", "eastus", {}).value

    found = discover.identities(ctx, sub)

    mine = [i for i in found if i.id.lower() == made.id.lower()]
    assert len(mine) == 1 and mine[0].client_id == made.client_id and mine[0].resource_group == "rg-discover"
    assert [(i.resource_group.lower(), i.name.lower()) for i in found] == sorted(
        (i.resource_group.lower(), i.name.lower()) for i in found)


def test_role_definitions_are_built_in_with_descriptions_reader_first(ctx: Context, env: Env) -> None:
    scope = f"/subscriptions/{env.subscription_id('fabrikam')}/resourceGroups/rg-discover"

    found = discover.role_definitions(ctx, f"/subscriptions/{env.subscription_id('fabrikam')}")
    at_group = discover.role_definitions(ctx, scope)

    names = [d.role_name for d in found]
    assert names[0] == "Reader"
    assert names.index("Azure Kubernetes Service RBAC Reader") < names.index("Contributor") < names.index("Owner")
    assert all(d.role_type == "BuiltInRole" and d.description for d in found)
    assert [d.role_name for d in at_group] == names


def test_role_rank_puts_reader_then_common_read_only_roles_then_other_readers_then_the_rest() -> None:
    names = ["Owner", "Billing Reader", "Key Vault Secrets User", "Reader", "Contributor"]

    assert sorted(names, key=discover.role_rank) == ["Reader", "Key Vault Secrets User", "Billing Reader",
                                                     "Contributor", "Owner"]


def test_role_definitions_outside_a_subscription_is_a_clear_problem(ctx: Context) -> None:
    with pytest.raises(ArmProblem, match="names no subscription"):
        discover.role_definitions(ctx, "/")


def test_a_subscription_neither_login_sees_is_a_clear_problem(ctx: Context) -> None:
    with pytest.raises(ArmProblem, match="Neither login"):
        discover.resource_groups(ctx, "00000000-0000-0000-0000-000000000000")


def test_cluster_choices_search_the_plans_subscription_or_else_all_of_tenant_a(ctx: Context, env: Env) -> None:
    sub = env.subscription_id("contoso")

    by_name = discover.cluster_choices(ctx)
    ctx.plan.cluster.subscription = ""
    try:
        unnamed = discover.cluster_choices(ctx)
    finally:
        ctx.plan.cluster.subscription = "contoso-platform"

    assert by_name is not None and by_name.searched == [sub]
    assert {c.name for c in by_name.clusters} == {"aks-platform", "aks-wi-demo"}
    assert unnamed is not None and unnamed.searched == [s.id for s in unnamed.subscriptions] == [sub]


def test_cluster_choices_before_signing_in_is_none(sandbox: Sandbox) -> None:
    from tests.engine.support import make_context

    fresh, _ = make_context(sandbox)

    assert discover.cluster_choices(fresh) is None
