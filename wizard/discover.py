"""Read-only questions the screens ask the cloud: which subscriptions, clusters, resource groups, regions,
identities and roles there are to pick from.

Each query is a function of the engine's `Context` after the login step ran (the TUI runs it in a thread worker
through `app.lookup`), goes through the ARM gateway (`Arm.for_side`, so clients and the subscription list are
built once per run), and returns the gateway's plain dataclasses, sorted the way a picker shows them. Nothing
here writes, and nothing here imports a UI or the Azure SDKs at module level.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wizard.steps.base import SIDES, Context, Side

if TYPE_CHECKING:
    from wizard.azure.arm import Arm, Cluster, Identity, Location, ResourceGroup, RoleDefinition, Subscription

# Roles a workload that only needs to read usually wants, in the order a picker offers them (after Reader).
READ_ONLY_ROLES = (
    "Reader",
    "Storage Blob Data Reader",
    "Key Vault Secrets User",
    "Key Vault Reader",
    "Monitoring Reader",
    "Log Analytics Reader",
    "Reader and Data Access",
    "Azure Kubernetes Service RBAC Reader",
    "Cost Management Reader",
    "Security Reader",
)
_MAX_PARALLEL = 8  # subscriptions listed at once (ARM throttles per principal, not per connection)


def _arm(ctx: Context, side: Side) -> Arm:
    from wizard.azure.arm import Arm

    return Arm.for_side(ctx, side)


def subscriptions(ctx: Context, side: Side) -> list[Subscription]:
    """The subscriptions of one side's tenant that its login can see, by name."""
    login = ctx.session.logins.get(side)
    tenant_id = login.tenant_id.lower() if login is not None else ""
    found = [s for s in _arm(ctx, side).subscriptions.list()
             if not tenant_id or not s.tenant_id or s.tenant_id.lower() == tenant_id]
    return sorted(found, key=lambda s: (s.name.lower(), s.id))


def matches(subscription: Subscription, ref: str) -> bool:
    """Whether a plan's subscription reference (an ID or a display name) names this subscription."""
    return ref.strip().lower() in (subscription.id.lower(), subscription.name.lower())


@dataclass(frozen=True)
class ClusterChoices:
    subscriptions: list[Subscription]  # the cluster tenant's, as the cluster-side login sees them
    searched: list[str]  # the subscription IDs the clusters were listed in
    clusters: list[Cluster]


def cluster_choices(ctx: Context) -> ClusterChoices | None:
    """The clusters to pick from: those of the plan's cluster subscription, or of every subscription of the
    cluster tenant when the plan names none the login sees. None before the login step has signed in."""
    if "cluster" not in ctx.credentials:
        return None
    subs = subscriptions(ctx, "cluster")
    ref = ctx.plan.cluster.subscription
    chosen = [s for s in subs if ref and matches(s, ref)]
    searched = [s.id for s in (chosen[:1] or subs)]
    return ClusterChoices(subs, searched, clusters(ctx, searched))


def side_of(ctx: Context, subscription_id: str) -> Side:
    """Which side's login sees a subscription (the identity side first: resource groups, regions, identities and
    roles are tenant B's questions; in a same-tenant plan both sides share one login anyway)."""
    from wizard.azure.arm import ArmProblem

    for side in ("identity", "cluster"):
        if side in ctx.credentials and any(s.id.lower() == subscription_id.lower()
                                           for s in _arm(ctx, side).subscriptions.list()):
            return side
    signed_in = [side for side in SIDES if side in ctx.credentials]
    raise ArmProblem("SubscriptionNotFound", f"Subscription {subscription_id} not found",
                     f"Neither login ({', '.join(signed_in) or 'none signed in'}) can see subscription "
                     f"{subscription_id}.", "Pick one of the listed subscriptions, or sign in with an account that "
                     "has a role on it.", "login")


def clusters(ctx: Context, subscription_ids: list[str]) -> list[Cluster]:
    """AKS clusters across subscriptions (listed in parallel), by subscription, resource group and name.

    A subscription the cluster-side login may not list clusters in is skipped when others answer; when none
    answers, its error is raised (the screen shows why the table is empty)."""
    from azure.core.exceptions import HttpResponseError

    arm = _arm(ctx, "cluster")
    wanted = list(dict.fromkeys(subscription_ids))

    def listed(subscription_id: str) -> list[Cluster] | HttpResponseError:
        try:
            return arm.clusters(subscription_id).list()
        except HttpResponseError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=max(1, min(_MAX_PARALLEL, len(wanted)))) as pool:
        answers = list(pool.map(listed, wanted))
    found = [c for answer in answers if not isinstance(answer, HttpResponseError) for c in answer]
    errors = [answer for answer in answers if isinstance(answer, HttpResponseError)]
    if errors and len(errors) == len(answers):
        raise errors[0]
    return sorted(found, key=lambda c: (c.subscription_id.lower(), c.resource_group.lower(), c.name.lower()))


def resource_groups(ctx: Context, subscription_id: str, side: Side | None = None) -> list[ResourceGroup]:
    """The subscription's resource groups, by name."""
    arm = _arm(ctx, side or side_of(ctx, subscription_id))
    return sorted(arm.groups(subscription_id).list(), key=lambda g: g.name.lower())


def locations(ctx: Context, subscription_id: str, side: Side | None = None) -> list[Location]:
    """The regions the subscription may deploy to (`name` for the plan, `display_name` to read), by display
    name."""
    arm = _arm(ctx, side or side_of(ctx, subscription_id))
    return sorted(arm.subscriptions.locations(subscription_id), key=lambda loc: loc.display_name.lower())


def identities(ctx: Context, subscription_id: str, side: Side | None = None) -> list[Identity]:
    """The subscription's user-assigned managed identities, by resource group and name."""
    arm = _arm(ctx, side or side_of(ctx, subscription_id))
    return sorted(arm.identities(subscription_id).list(),
                  key=lambda i: (i.resource_group.lower(), i.name.lower()))


def role_rank(name: str) -> tuple[int, int, str]:
    """Sort key of a role in a picker: Reader, then the common read-only roles, then other readers, then the
    rest alphabetically (the least privilege a workload needs is usually near the top)."""
    lowered = [r.lower() for r in READ_ONLY_ROLES]
    key = name.lower()
    if key in lowered:
        return (0, lowered.index(key), key)
    if "reader" in key:
        return (1, 0, key)
    return (2, 0, key)


def role_definitions(ctx: Context, scope: str, side: Side | None = None) -> list[RoleDefinition]:
    """The built-in roles assignable at `scope` (a subscription, resource group or resource ID), with their
    descriptions, Reader first (see `role_rank`)."""
    from wizard.azure.arm import ArmProblem, parse_id

    subscription_id = parse_id(scope).subscription_id
    if not subscription_id:
        raise ArmProblem("ScopeNotInSubscription", "Scope outside a subscription",
                         f"The scope {scope!r} names no subscription.",
                         "Give a scope such as /subscriptions/<id> or /subscriptions/<id>/resourceGroups/<name>.",
                         "role")
    arm = _arm(ctx, side or side_of(ctx, subscription_id))
    built_in = [d for d in arm.roles(subscription_id).definitions(scope) if d.role_type == "BuiltInRole"]
    return sorted(built_in, key=lambda d: role_rank(d.role_name))
