"""AKS managed clusters on the ARM side (`ContainerServiceClient`): list, get, the long-running create, update
and delete, and the kubeconfig credential actions.

A PUT answers 201 (create) or 200 (update) with `Creating`/`Updating` and `Azure-AsyncOperation`; when the
operation falls due its finisher brings the cluster record in line (creating the cluster, turning the OIDC
issuer on, recording workload identity), or fails the operation when the node pools would exceed the regional
vCPU quota, as Compute would refuse the scale sets.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from aiohttp import web

from wizard.sandbox import armstore, clusters
from wizard.sandbox.arm import catalog, clusterbody, identities, lro, paging, quota, resourcegroups
from wizard.sandbox.arm.clusterbody import MC_TYPE
from wizard.sandbox.arm.context import Call, Target, bool_member, object_member, string_member, tags_member
from wizard.sandbox.arm.errors import (
    ArmError,
    bad_request,
    invalid_request_content,
    location_mismatch,
    location_required,
    method_not_allowed,
    resource_not_found,
)
from wizard.sandbox.httputil import json_response
from wizard.sandbox.world import World

CLUSTER_NAME = re.compile(r"^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$")
OPERATIONS = "/subscriptions/{sub}/providers/Microsoft.ContainerService/locations/{loc}/{kind}/{{id}}"
CREDENTIAL_ACTIONS = {"listclusterusercredential": ("clusterUser", False),
                      "listclusteradmincredential": ("clusterAdmin", True)}


# -- provisioning (shared by the PUT finisher and the scenario seed) ----------------------------------------


def provision(world: World, body: dict[str, Any], tenant_id: str, new_id: clusterbody.NewId) -> clusters.Record:
    """Bring up what a running AKS cluster has: its node resource group with the kubelet identity, and the
    cluster record the Kubernetes side serves."""
    props = body["properties"]
    parts = body["id"].split("/")
    subscription_id, resource_group = parts[2], parts[4]
    node_rg = props["nodeResourceGroup"]
    if resourcegroups.get(world, subscription_id, node_rg) is None:
        resourcegroups.create(world, subscription_id, node_rg, body["location"], managed_by=body["id"],
                              tags={"aks-managed-cluster-name": body["name"],
                                    "aks-managed-cluster-rg": resource_group})
    kubelet = props["identityProfile"]["kubeletidentity"]
    known = {"uami-client": kubelet["clientId"], "uami-principal": kubelet["objectId"]}
    if armstore.get(world, kubelet["resourceId"]) is None:
        identities.create_identity(world, kubelet["resourceId"], kubelet["resourceId"].rsplit("/", 1)[-1],
                                   body["location"], tenant_id, new_id=lambda kind: known.get(kind) or new_id(kind))
    return clusters.create(
        world, arm_id=body["id"], name=body["name"], tenant_id=tenant_id, subscription_id=subscription_id,
        resource_group=resource_group, location=body["location"], oidc_issuer=clusterbody.oidc_wanted(body),
        workload_identity=clusterbody.workload_identity_wanted(body),
        kubernetes_version=props["currentKubernetesVersion"])


def _teardown(world: World, body: dict[str, Any]) -> None:
    """A deleted cluster takes its API server, node resource group and counted vCPUs with it."""
    record = clusters.by_arm_id(world, body["id"])
    if record is not None:
        clusters.delete(world, record["key"])
    counted = int(armstore.internal(body).get("cores", 0))
    if counted:
        subscription_id = body["id"].split("/")[2]
        quota.add_usage(world, subscription_id, body["location"], -counted)
    node_rg = body["properties"].get("nodeResourceGroup")
    if node_rg:
        group = resourcegroups.get(world, body["id"].split("/")[2], node_rg)
        if group is not None and str(group.get("managedBy", "")).lower() == body["id"].lower():
            resourcegroups.delete_tree(world, group["id"])


resourcegroups.on_delete(MC_TYPE, _teardown)


def _quota_error(world: World, body: dict[str, Any], extra: int) -> dict[str, str] | None:
    subscription_id = body["id"].split("/")[2]
    doc = quota.find(world, subscription_id, body["location"])
    if doc is None or extra <= 0 or doc["usage"] + extra <= doc["limit"]:
        return None
    return {"code": "QuotaExceeded",
            "message": "Operation could not be completed as it results in exceeding approved Total Regional Cores "
                       f"quota. Additional details - Deployment Model: Resource Manager, Location: {body['location']}, "
                       f"Current Limit: {doc['limit']}, Current Usage: {doc['usage']}, Additional Required: {extra}, "
                       f"(Minimum) New Limit Required: {doc['usage'] + extra}. Submit a request for Quota increase at "
                       "https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView by "
                       "specifying parameters listed in the 'Details' section for deployment to succeed."}


def _finish_put(world: World, op: lro.Operation) -> dict[str, str] | None:
    body = armstore.get(world, op["resource_id"])
    if body is None:
        return {"code": "NotFound", "message": "The managed cluster was deleted while the operation ran."}
    counted = int(armstore.internal(body).get("cores", 0))
    wanted = clusterbody.cores(body)
    error = _quota_error(world, body, wanted - counted)
    if error is not None:
        clusterbody.set_state(body, "Failed", world.ids.new("etag"))
        armstore.put(world, body)
        return error
    props = body["properties"]
    props["currentKubernetesVersion"] = props["kubernetesVersion"]
    record = clusters.by_arm_id(world, body["id"])
    if record is None:
        provision(world, body, op["payload"]["tenant_id"], world.ids.new)
    else:
        if clusterbody.oidc_wanted(body):
            clusters.enable_oidc_issuer(world, record)
        record["workload_identity"] = clusterbody.workload_identity_wanted(body)
        record["kubernetes_version"] = props["currentKubernetesVersion"]
        clusters.save(world, record)
    quota.add_usage(world, body["id"].split("/")[2], body["location"], wanted - counted)
    armstore.internal(body)["cores"] = wanted
    clusterbody.set_state(body, "Succeeded", world.ids.new("etag"))
    armstore.put(world, body)
    return None


def _finish_delete(world: World, op: lro.Operation) -> dict[str, str] | None:
    resourcegroups.delete_tree(world, op["resource_id"])
    return None


lro.register("cluster-create", _finish_put)
lro.register("cluster-update", _finish_put)
lro.register("cluster-delete", _finish_delete)


# -- routes ---------------------------------------------------------------------------------------------------


async def handle_clusters(call: Call, target: Target) -> web.StreamResponse:
    sid = call.subscription_id
    assert sid is not None
    if target.is_collection:
        if call.method != "GET":
            raise method_not_allowed(call.method)
        return paging.page(call, [clusterbody.served(call.world, b) for b in resourcegroups.listed(call, MC_TYPE)])
    rg = resourcegroups.name_in_path(call)
    if call.method not in {"GET", "PUT", "DELETE"}:
        raise method_not_allowed(call.method)
    if call.method == "PUT":
        return await _put(call, sid, rg, target.name)
    body = _require(call, sid, rg, target.name)
    if call.method == "GET":
        return json_response(clusterbody.served(call.world, body))
    _refuse_if_busy(call, body)
    body["properties"]["provisioningState"] = "Deleting"
    armstore.put(call.world, body)
    op = _start(call, "cluster-delete", body)
    return web.Response(status=202, headers=lro.headers(call, op))


def _start(call: Call, kind: str, body: dict[str, Any], payload: dict[str, Any] | None = None) -> lro.Operation:
    """An AKS operation, polled at `…/Microsoft.ContainerService/locations/{loc}/operations/{id}`."""
    where = {"sub": call.subscription_id, "loc": body["location"]}
    return lro.start(call.world, kind, body["id"], payload=payload,
                     status_path=OPERATIONS.format(**where, kind="operations"),
                     result_path=OPERATIONS.format(**where, kind="operationresults"))


def _require(call: Call, sid: str, rg: str, name: str) -> dict[str, Any]:
    group = resourcegroups.require(call.world, sid, rg)
    body = armstore.get(call.world, clusterbody.cluster_id(sid, group["name"], name))
    if body is None:
        raise resource_not_found(f"{MC_TYPE}/{name}", rg)
    return body


def _refuse_if_busy(call: Call, body: dict[str, Any]) -> None:
    op = lro.in_progress_for(call.world, body["id"])
    if op is not None:
        state = body["properties"].get("provisioningState", "Updating")
        raise ArmError(409, "OperationNotAllowed",
                       f"Operation is not allowed: Another operation ({state}) is in progress, please wait for it "
                       "to finish before starting a new operation. See https://aka.ms/aks-pending-operation for "
                       "more details")


def _check_incoming(incoming: dict[str, Any]) -> None:
    """Wrong JSON types in the parts the sandbox reads are ARM's InvalidRequestContent, not a crash."""
    incoming.pop(armstore.INTERNAL, None)  # private bookkeeping never comes from a client
    tags_member(incoming)
    string_member(incoming, "location")
    props = object_member(incoming, "properties")
    for name in ("kubernetesVersion", "dnsPrefix", "nodeResourceGroup"):
        string_member(props, name, f"properties.{name}")
    bool_member(object_member(props, "oidcIssuerProfile"), "enabled", "properties.oidcIssuerProfile.enabled")
    bool_member(object_member(object_member(props, "securityProfile"), "workloadIdentity"), "enabled",
                "properties.securityProfile.workloadIdentity.enabled")
    object_member(props, "networkProfile")
    string_member(object_member(incoming, "identity"), "type", "identity.type")
    node_rg = props.get("nodeResourceGroup")
    if node_rg is not None and not re.match(r"^[-\w._()]{1,80}$", node_rg):
        raise bad_request("InvalidParameter", f"The value of parameter nodeResourceGroup is invalid: '{node_rg}'.")
    pools = props.get("agentPoolProfiles")
    if pools is not None and (not isinstance(pools, list) or not all(isinstance(p, dict) for p in pools)):
        raise invalid_request_content("Error converting value to type 'AgentPoolProfile[]'. "
                                      "Path 'properties.agentPoolProfiles'.")
    for pool in pools or []:
        if not isinstance(pool.get("name"), str) or not pool["name"]:
            raise bad_request("InvalidParameter", "Required parameter agentPoolProfile.name is missing (null).")
        string_member(pool, "vmSize", "properties.agentPoolProfiles.vmSize")
        count = pool.get("count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 1000):
            raise bad_request("InvalidParameter", "The value of parameter agentPoolProfile.count is invalid. "
                                                  "Please correct it or leave it empty.")


def _check_identity_features(body: dict[str, Any], stored: dict[str, Any] | None) -> None:
    if stored is not None and clusterbody.oidc_wanted(stored) and not clusterbody.oidc_wanted(body):
        raise bad_request("BadRequest", "OIDC issuer feature cannot be disabled.")
    if clusterbody.workload_identity_wanted(body) and not clusterbody.oidc_wanted(body):
        raise bad_request("BadRequest", "Enabling workload identity requires enabling OIDC issuer "
                                        "(properties.oidcIssuerProfile.enabled).")


async def _put(call: Call, sid: str, rg: str, name: str) -> web.Response:
    if not CLUSTER_NAME.match(name):
        raise bad_request("InvalidResourceName",
                          f"The resource name '{name}' is invalid. The name must be 1 to 63 characters long, start "
                          "and end with a letter or number, and contain only letters, numbers, hyphens and "
                          "underscores.")
    incoming = await call.json_body()
    _check_incoming(incoming)
    group = resourcegroups.require(call.world, sid, rg, for_write=True)
    arm_id = clusterbody.cluster_id(sid, group["name"], name)
    stored = armstore.get(call.world, arm_id)
    assert call.subscription is not None
    tenant_id = call.subscription["tenant_id"]
    if stored is None:
        if not incoming.get("location"):
            raise location_required()
        location = catalog.check_location(incoming["location"], MC_TYPE)
        if not object_member(incoming, "properties").get("agentPoolProfiles"):
            raise bad_request("InvalidParameter", "Required parameter agentPoolProfiles is missing (null).")
        body = clusterbody.new_cluster(subscription_id=sid, resource_group=group["name"], name=name,
                                       location=location, tenant_id=tenant_id, new_id=call.world.ids.new,
                                       incoming=incoming)
        kind, state, status = "cluster-create", "Creating", 201
    else:
        _refuse_if_busy(call, stored)
        location = catalog.check_location(incoming.get("location") or stored["location"], MC_TYPE)
        if location != stored["location"]:
            raise location_mismatch(stored["name"], stored["location"], group["name"], location)
        body = clusterbody.update_cluster(stored, incoming)
        kind, state, status = "cluster-update", "Updating", 200
    _check_identity_features(body, stored)
    clusterbody.set_state(body, state, call.world.ids.new("etag"))
    armstore.put(call.world, body)
    op = _start(call, kind, body, {"tenant_id": tenant_id})
    return json_response(clusterbody.served(call.world, body), status, headers=lro.headers(call, op))


async def handle_credentials(call: Call, target: Target) -> web.Response:
    if call.method != "POST":
        raise method_not_allowed(call.method)
    sid = call.subscription_id
    assert sid is not None
    rg = resourcegroups.name_in_path(call)
    action = target.types[-1]
    body = _require(call, sid, rg, target.names[0])
    record = clusters.by_arm_id(call.world, body["id"])
    if record is None:
        raise ArmError(409, "OperationNotAllowed",
                       f"The cluster is not ready: its provisioning state is "
                       f"'{body['properties'].get('provisioningState')}'.")
    name, admin = CREDENTIAL_ACTIONS[action.lower()]
    config = clusters.kubeconfig(call.world, record, admin)
    return json_response({"kubeconfigs": [{"name": name, "value": base64.b64encode(config.encode()).decode()}]})


async def handle_operation(call: Call, target: Target) -> web.StreamResponse:
    """`…/Microsoft.ContainerService/locations/{loc}/operations|operationresults/{id}`."""
    if call.method != "GET":
        raise method_not_allowed(call.method)
    kind = target.types[-1]
    if kind.lower() == "operations":
        return lro.status_response(call, target.name)
    return lro.result_response(call, target.name)
