"""The session as Terraform (azurerm + kubernetes providers), formatted as `terraform fmt` writes it.

Two azurerm provider aliases address the two tenants explicitly (`cluster`: tenant A, `identity`: tenant B), as
the wizard keeps one login per side. What the session created becomes a resource; what existed before (a resource
group, a reused identity, a ServiceAccount someone else made) becomes a data source or, for that ServiceAccount,
only the annotations the wizard added (`kubernetes_annotations`), so `terraform destroy` never removes what the
wizard did not create. The cluster itself is read (a data source): the wizard only turns its issuer on.

Values are the session's own: the issuer verbatim (trailing slash included), subject, audience, scopes, the pod
exactly as `wizard.steps.deploy.desired` builds it; the identity's IDs are references to the identity resource
(a new apply gets new ones), with the session's values in a comment.
"""

from __future__ import annotations

import re

from wizard.export.facts import created_ids, describe_context, session_created, tenants
from wizard.export.hcl import Attr, Block, Item, Map, document, string, strings
from wizard.kube.client import MANAGED_BY_LABEL, MANAGED_BY_VALUE, SESSION_ANNOTATION
from wizard.session import Session
from wizard.steps.base import CREATED_BY_TAG, CREATED_BY_VALUE, SESSION_TAG
from wizard.steps.deploy import CLIENT_ID_ANNOTATION, desired
from wizard.steps.role import scope_of

# The Entra ID server application of AKS (the same in every tenant): what kubelogin asks tokens for.
AKS_AAD_SERVER = "6dae42f8-4368-4678-94ff-3960e28e3630"


def _label(text: str) -> str:
    """A Terraform resource name from free text (`Storage Blob Data Reader` → `storage_blob_data_reader`)."""
    name = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_") or "role"
    return name if name[0].isalpha() else f"r_{name}"


def _providers(session: Session, cluster_tenant: str, identity_tenant: str) -> list[Block]:
    values = {step: outcome.values for step, outcome in session.outcomes.items()}
    sides = (("cluster", cluster_tenant, values["cluster"]["subscription_id"]),
             ("identity", identity_tenant, values["identity"]["subscription_id"]))
    blocks = [Block("terraform", body=[Block("required_providers", body=[
        Map("azurerm", {"source": string("hashicorp/azurerm"), "version": string(">= 3.80")}, bare=True),
        Map("kubernetes", {"source": string("hashicorp/kubernetes"), "version": string(">= 2.23")}, bare=True),
    ])])]
    for alias, tenant, subscription in sides:
        blocks.append(Block("provider", ("azurerm",), [
            Attr("alias", string(alias)), Attr("tenant_id", string(tenant)),
            Attr("subscription_id", string(subscription)), Block("features")],
            comment=(f"The {alias}'s tenant: sign in to it (az login --tenant {tenant}, or ARM_* variables).",)))
    return blocks


def _kubernetes(session: Session) -> list[Block]:
    c = session.plan.cluster
    kube = "data.azurerm_kubernetes_cluster.cluster.kube_config[0]"
    cluster = Block("data", ("azurerm_kubernetes_cluster", "cluster"), [
        Attr("provider", "azurerm.cluster"), Attr("name", string(c.name)),
        Attr("resource_group_name", string(c.resource_group))],
        comment=("The cluster (not managed here). Its OIDC issuer and workload identity must be on:",
                 f"az aks update -g {c.resource_group} -n {c.name} --enable-oidc-issuer --enable-workload-identity"))
    body: list[Item] = [Attr("host", f"{kube}.host"),
                        Attr("cluster_ca_certificate", f"base64decode({kube}.cluster_ca_certificate)")]
    if session.outcomes["cluster"].values.get("aad") == "true":
        body.append(Block("exec", body=[
            Attr("api_version", string("client.authentication.k8s.io/v1beta1")), Attr("command", string("kubelogin")),
            Attr("args", strings(["get-token", "--login", "azurecli", "--server-id", AKS_AAD_SERVER]))]))
    else:
        body += [Attr("client_certificate", f"base64decode({kube}.client_certificate)"),
                 Attr("client_key", f"base64decode({kube}.client_key)")]
    return [cluster, Block("provider", ("kubernetes",), body)]


def _tags(session: Session) -> Map:
    return Map("tags", {CREATED_BY_TAG: string(CREATED_BY_VALUE), SESSION_TAG: string(session.name)})


def render(session: Session) -> str:
    plan = session.plan
    values = {step: outcome.values for step, outcome in session.outcomes.items()}
    identity, fic = values["identity"], values["federation"]
    cluster_tenant, identity_tenant = tenants(session)
    created = created_ids(session)
    i, k = plan.identity, plan.kubernetes
    on_identity = Attr("provider", "azurerm.identity")
    blocks = _providers(session, cluster_tenant, identity_tenant) + _kubernetes(session)

    if identity.get("resource_group_id") in created:
        group = "azurerm_resource_group.identity"
        blocks.append(Block("resource", ("azurerm_resource_group", "identity"), [
            on_identity, Attr("name", string(i.resource_group)), Attr("location", string(i.location)),
            _tags(session)]))
    else:
        group = "data.azurerm_resource_group.identity"
        blocks.append(Block("data", ("azurerm_resource_group", "identity"), [
            on_identity, Attr("name", string(i.resource_group))],
            comment=("The resource group existed before the session.",)))

    ids = (f"The session's identity: client ID {identity.get('client_id')}, principal ID "
           f"{identity.get('principal_id')}, tenant {identity_tenant}.")
    if identity.get("identity_id") in created:
        me = "azurerm_user_assigned_identity.workload"
        blocks.append(Block("resource", ("azurerm_user_assigned_identity", "workload"), [
            on_identity, Attr("name", string(i.name)), Attr("resource_group_name", f"{group}.name"),
            Attr("location", string(i.location)), _tags(session)], comment=(ids,)))
    else:
        me = "data.azurerm_user_assigned_identity.workload"
        blocks.append(Block("data", ("azurerm_user_assigned_identity", "workload"), [
            on_identity, Attr("name", string(i.name)), Attr("resource_group_name", string(i.resource_group))],
            comment=("The identity existed before the session.", ids)))

    roles: list[str] = []
    for n, grant in enumerate(plan.roles):
        name = _label(grant.role) + (f"_{n}" if n else "")
        roles.append(f"azurerm_role_assignment.{name}")
        blocks.append(Block("resource", ("azurerm_role_assignment", name), [
            on_identity, Attr("scope", string(scope_of(describe_context(session), grant))),
            Attr("role_definition_name", string(grant.role)), Attr("principal_id", f"{me}.principal_id"),
            Attr("principal_type", string("ServicePrincipal")),
            Attr("description", string(f"Created by wi-wizard session {session.name}"))]))

    blocks.append(Block("resource", ("azurerm_federated_identity_credential", "trust"), [
        on_identity, Attr("name", string(plan.federation_name)), Attr("resource_group_name", f"{group}.name"),
        Attr("parent_id", f"{me}.id"), Attr("issuer", string(fic["issuer"])), Attr("subject", string(fic["subject"])),
        Attr("audience", strings([a.strip() for a in fic["audience"].split(",")]))],
        comment=("The issuer exactly as the cluster reports it (trailing slash included).",)))

    want = desired(plan, session)
    marks = Map("labels", {MANAGED_BY_LABEL: string(MANAGED_BY_VALUE)})
    account_annotations = {key: (f"{me}.client_id" if key == CLIENT_ID_ANNOTATION else string(value))
                           for key, value in want.annotations.items()}
    namespace = string(k.namespace)
    if session_created(session):
        blocks.append(Block("resource", ("kubernetes_namespace_v1", "workload"), [Block("metadata", body=[
            Attr("name", string(k.namespace)), marks,
            Map("annotations", {SESSION_ANNOTATION: string(session.name)})])]))
        namespace = "kubernetes_namespace_v1.workload.metadata[0].name"
    if session_created(session, "serviceaccounts", k.service_account):
        account = "kubernetes_service_account_v1.workload"
        blocks.append(Block("resource", ("kubernetes_service_account_v1", "workload"), [Block("metadata", body=[
            Attr("name", string(k.service_account)), Attr("namespace", namespace), marks,
            Map("annotations", {SESSION_ANNOTATION: string(session.name), **account_annotations})])]))
    else:
        account = "kubernetes_annotations.workload"
        blocks.append(Block("resource", ("kubernetes_annotations", "workload"), [
            Attr("api_version", string("v1")), Attr("kind", string("ServiceAccount")),
            Block("metadata", body=[Attr("name", string(k.service_account)), Attr("namespace", namespace)]),
            Map("annotations", account_annotations)],
            comment=("The ServiceAccount existed before the session: only the workload identity annotations are "
                     "managed.",)))

    manifest = want.manifest
    meta, spec = manifest["metadata"], manifest["spec"]
    [container] = spec["containers"]
    container_body: list[Item] = [Attr("name", string(container["name"])), Attr("image", string(container["image"]))]
    if container.get("command"):
        container_body.append(Attr("command", strings(container["command"])))
    container_body += [Block("env", body=[Attr("name", string(e["name"])), Attr("value", string(e["value"]))])
                       for e in container.get("env") or []]
    blocks.append(Block("resource", ("kubernetes_pod_v1", "workload"), [
        Block("metadata", body=[
            Attr("name", string(meta["name"])), Attr("namespace", namespace),
            Map("labels", {key: string(v) for key, v in meta["labels"].items()}),
            Map("annotations", {key: string(v) for key, v in meta["annotations"].items()})]),
        Block("spec", body=[
            Attr("service_account_name", string(spec["serviceAccountName"])),
            Attr("restart_policy", string(spec["restartPolicy"])),
            Block("container", body=container_body)]),
        Attr("depends_on", "[" + ", ".join([account, "azurerm_federated_identity_credential.trust", *roles]) + "]")],
        comment=("The workload identity webhook injects the identity when the pod is created (not on update).",)))

    header = [f"wi-wizard session {session.name}: cross-tenant AKS workload identity as Terraform.",
              f"Target: {session.target.label}. Session started {session.created_at}, last changed "
              f"{session.updated_at}.",
              f"Cluster {plan.cluster.name} in tenant {cluster_tenant}; identity {i.name} in tenant {identity_tenant}."]
    return document(blocks, header)
