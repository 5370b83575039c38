"""The cluster step: find the plan's AKS cluster, make sure its OIDC issuer and workload identity are on (turning
them on through the cluster-update LRO when the plan allows), and read the issuer URL verbatim.

The issuer URL is copied byte for byte from ARM (trailing slash included): the federated credential must equal
the tokens' `iss` exactly, and a "normalised" issuer is the most common cause of AADSTS70021/700211. Enabling the
issuer changes it, so the URL is always re-read after an update, never remembered from before.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from wizard.azure.arm import BUSY_STATES
from wizard.diagnose import Diagnosis
from wizard.steps.armsupport import failures, gateway, known, subscription
from wizard.steps.base import Check, Context, Description, Event, Result, Step, StepFailed

if TYPE_CHECKING:
    from wizard.azure.arm import Arm, Cluster, Subscription


def _flag(value: bool) -> str:
    return "true" if value else "false"


class ClusterStep(Step):
    name = "cluster"
    title = "AKS cluster"

    def describe(self, ctx: Context) -> Description:
        c = ctx.plan.cluster
        sub = known(ctx, self.name, "subscription_id") or c.subscription
        where = f"--subscription {shlex.quote(sub)} -g {shlex.quote(c.resource_group)} -n {shlex.quote(c.name)}"
        ready = known(ctx, self.name, "oidc_issuer") == "true" and known(ctx, self.name, "workload_identity") == "true"
        if ready:
            action = "Its OIDC issuer and workload identity are already on."
        elif c.enable_workload_identity:
            action = ("If its OIDC issuer or workload identity is off, turn both on (a cluster update that takes a "
                      "few minutes and cannot be undone; running pods are not restarted).")
        else:
            action = ("Its OIDC issuer and workload identity must already be on (the plan does not allow turning them "
                      "on).")
        summary = (f"Find the AKS cluster {c.name} in resource group {c.resource_group} of subscription "
                   f"{c.subscription} (tenant {c.tenant}). {action} Then read its OIDC issuer URL exactly as Azure "
                   "reports it: the federated credential must match it byte for byte.")
        commands = [f"az aks show {where} --query \"{{oidcIssuer: oidcIssuerProfile.enabled, "
                    "workloadIdentity: securityProfile.workloadIdentity.enabled}\""]
        if not ready and c.enable_workload_identity:
            commands.append(f"az aks update {where} --enable-oidc-issuer --enable-workload-identity")
        commands.append(f"az aks show {where} --query oidcIssuerProfile.issuerUrl -o tsv")
        return Description(summary, commands)

    def check(self, ctx: Context) -> Check:
        c = ctx.plan.cluster
        with failures(self):
            sub = subscription(ctx, "cluster")
            cluster = gateway(ctx, "cluster").clusters(sub.id).get(c.resource_group, c.name)
            ctx.observed.record(_key(sub.id, c.resource_group, c.name), cluster)
            if cluster is None:
                return Check("missing", [f"there is no AKS cluster {c.name} in resource group {c.resource_group} "
                                         f"of subscription {sub.name}"], {"subscription_id": sub.id})
            values = _values(cluster)
            missing = _off(cluster)
            if missing:
                return Check("missing", missing, values)
            previous = known(ctx, self.name, "issuer_url")
            if previous and previous != cluster.issuer_url:
                return Check("drifted", [f"the cluster's issuer URL changed: it was {previous!r} and is now "
                                         f"{cluster.issuer_url!r}; the federated credential must follow it"], values)
            return Check("done", [], values)

    def apply(self, ctx: Context) -> Result:
        c = ctx.plan.cluster
        with failures(self):
            sub = subscription(ctx, "cluster")
            arm = gateway(ctx, "cluster")
            clusters = arm.clusters(sub.id)
            cluster = ctx.observed.take(_key(sub.id, c.resource_group, c.name),
                                        lambda: clusters.get(c.resource_group, c.name))
            if cluster is None:
                raise StepFailed(_not_found(ctx, arm, sub))

            def progress(message: str) -> None:
                ctx.check_cancelled()
                ctx.report(Event(self.name, message, "progress"))
                ctx.idle()  # the update runs for a while: a headless run imports the later steps' modules now

            if cluster.provisioning_state in BUSY_STATES:
                progress(f"Cluster {c.name} is {cluster.provisioning_state}; waiting for that operation to finish")
                cluster = clusters.wait_idle(c.resource_group, c.name, progress)
            summary = f"Cluster {c.name} has its OIDC issuer and workload identity on"
            off = _off(cluster)
            if off:
                if not c.enable_workload_identity:
                    raise StepFailed(Diagnosis(
                        "WorkloadIdentityOff", "Workload identity is off on the cluster",
                        f"On cluster {c.name}, {' and '.join(off)}, and the plan does not allow turning them on.",
                        f"Set cluster.enable_workload_identity = true, or run `az aks update --subscription {sub.id} "
                        f"-g {c.resource_group} -n {c.name} --enable-oidc-issuer --enable-workload-identity`.",
                        self.name))
                ctx.report(Event(self.name, f"Turning on the OIDC issuer and workload identity on {c.name} (a cluster "
                                            "update; a few minutes on Azure)", "progress"))
                cluster = clusters.enable_workload_identity(c.resource_group, c.name, progress)
                if _off(cluster):
                    raise StepFailed(Diagnosis(
                        "WorkloadIdentityNotEnabled", "The cluster update did not turn workload identity on",
                        f"After the update, on cluster {c.name}, {' and '.join(_off(cluster))}.",
                        "Check the cluster with `az aks show` and run the step again.", self.name))
                summary = f"Turned on the OIDC issuer and workload identity on cluster {c.name}"
            return Result(f"{summary}; issuer {cluster.issuer_url}", _values(cluster))


def _key(subscription_id: str, group: str, name: str) -> str:
    """The cluster's key among a step's observations (ARM names are case-insensitive)."""
    return f"/subscriptions/{subscription_id}/resourceGroups/{group}/managedClusters/{name}".lower()


def _off(cluster: Cluster) -> list[str]:
    off = []
    if not cluster.oidc_issuer or not cluster.issuer_url:
        off.append("the OIDC issuer is off")
    if not cluster.workload_identity:
        off.append("workload identity is off")
    return off


def _values(cluster: Cluster) -> dict[str, str]:
    values = {"subscription_id": cluster.subscription_id, "cluster_id": cluster.id, "location": cluster.location,
              "oidc_issuer": _flag(cluster.oidc_issuer), "workload_identity": _flag(cluster.workload_identity),
              "kubernetes_version": cluster.kubernetes_version, "aad": _flag(cluster.aad)}
    if cluster.issuer_url:
        values["issuer_url"] = cluster.issuer_url  # verbatim
    return values


def _not_found(ctx: Context, arm: Arm, sub: Subscription) -> Diagnosis:
    """Name the clusters this login can see, so a typo or a wrong resource group is obvious."""
    from wizard.azure.arm import all_clusters

    c = ctx.plan.cluster
    tenant_subs = [s for s in arm.subscriptions.list() if not s.tenant_id or s.tenant_id == sub.tenant_id]
    names = {s.id: s.name for s in tenant_subs}
    visible = all_clusters(arm, tenant_subs)
    listed = "; ".join(f"{v.name} (resource group {v.resource_group}, subscription {names.get(v.subscription_id)})"
                       for v in visible) or "none"
    same_name = [v for v in visible if v.name.lower() == c.name.lower()]
    fix = (f"Set cluster.resource_group = {same_name[0].resource_group!r} and cluster.subscription = "
           f"{names.get(same_name[0].subscription_id)!r}." if same_name else
           "Use one of the clusters listed (cluster.name, cluster.resource_group, cluster.subscription), or sign in "
           "with an account that can see yours.")
    return Diagnosis("ClusterNotFound", f"Cluster {c.name} not found",
                     f"There is no AKS cluster {c.name!r} in resource group {c.resource_group!r} of subscription "
                     f"{sub.name} ({sub.id}). Clusters the cluster-side login can see: {listed}.", fix, "cluster")
