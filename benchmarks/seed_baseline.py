"""`python -m benchmarks.seed_baseline COMMAND WORKDIR`: one of the seed walkthrough's az/kubectl commands, done
the way the CLI does it: a fresh process that imports the SDK, builds a credential and makes its call(s).

The seed benchmark runs these one after the other (COMMANDS, in order) against the same fresh sandbox the
wizard gets. State between commands goes through files in WORKDIR, as a shell script keeps it in variables:
endpoints.json (the sandbox), issuer, identity.json, kubeconfig. Each command makes the calls its az/kubectl
counterpart makes at least (e.g. `az aks update` reads the cluster, then PUTs it and polls); none is skipped.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

ARM_SCOPE = "https://management.azure.com/.default"
PLAN = {"cluster_rg": "rg-wi-demo", "cluster": "aks-wi-demo", "identity_rg": "rg-wi-demo", "identity": "mi-wi-demo",
        "location": "eastus", "fic": "fc-wi-demo", "namespace": "default", "sa": "wi-demo-account",
        "pod": "wi-demo-app", "image": "ttl.sh/wi-demo-app:1h", "role": "Reader"}

# (command, the seed's shell command it stands for)
COMMANDS = [
    ("login-cluster", "az login --service-principal --tenant contoso.onmicrosoft.com"),
    ("login-identity", "az login --service-principal --tenant fabrikam.onmicrosoft.com"),
    ("aks-update", "az aks update -g rg-wi-demo -n aks-wi-demo --enable-oidc-issuer --enable-workload-identity"),
    ("aks-issuer", "az aks show -g rg-wi-demo -n aks-wi-demo --query oidcIssuerProfile.issuerUrl"),
    ("group-create", "az group create -n rg-wi-demo -l eastus (tenant B)"),
    ("identity-create", "az identity create -g rg-wi-demo -n mi-wi-demo"),
    ("role-create", "az role assignment create --role Reader --assignee-object-id … --scope /subscriptions/…"),
    ("fic-create", "az identity federated-credential create --name fc-wi-demo --issuer … --subject …"),
    ("aks-credentials", "az aks get-credentials -g rg-wi-demo -n aks-wi-demo"),
    ("sa-apply", "kubectl apply -f serviceaccount.yaml (client-id annotation)"),
    ("pod-apply", "kubectl apply -f pod.yaml (workload identity label)"),
    ("pod-wait", "kubectl wait pod/wi-demo-app --for=condition=Ready"),
    ("logs", "kubectl logs -f wi-demo-app (until the usage: line)"),
]


def _tenant(endpoints: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in endpoints["tenants"] if t["name"] == name)


def _credential(endpoints: dict[str, Any], tenant: dict[str, Any]) -> Any:
    from azure.identity import ClientSecretCredential

    sp = tenant["service_principal"]
    return ClientSecretCredential(tenant["tenant_id"], sp["client_id"], sp["client_secret"],
                                  authority=endpoints["authority_host"], connection_verify=endpoints["ca_bundle"],
                                  disable_instance_discovery=True)


def _client(cls: Any, endpoints: dict[str, Any], tenant: dict[str, Any]) -> Any:
    return cls(_credential(endpoints, tenant), tenant["subscriptions"][0]["subscription_id"],
               base_url=endpoints["resource_manager"].rstrip("/"), credential_scopes=[ARM_SCOPE],
               connection_verify=endpoints["ca_bundle"], polling_interval=1)


def _kube(work: Path) -> Any:
    from kubernetes import client, config

    configuration = client.Configuration()
    load: Any = config.load_kube_config  # untyped in the client
    load(str(work / "kubeconfig"), client_configuration=configuration)
    return client.CoreV1Api(client.ApiClient(configuration))


def run(command: str, work: Path) -> None:
    endpoints = json.loads((work / "endpoints.json").read_text())
    a, b = _tenant(endpoints, "contoso"), _tenant(endpoints, "fabrikam")
    sub_b = b["subscriptions"][0]["subscription_id"]
    if command in ("login-cluster", "login-identity"):
        _credential(endpoints, a if command == "login-cluster" else b).get_token(ARM_SCOPE)
    elif command == "aks-update":
        from azure.mgmt.containerservice import ContainerServiceClient

        aks = _client(ContainerServiceClient, endpoints, a)
        cluster = aks.managed_clusters.get(PLAN["cluster_rg"], PLAN["cluster"])
        cluster.oidc_issuer_profile = {"enabled": True}
        cluster.security_profile = {"workloadIdentity": {"enabled": True}}
        aks.managed_clusters.begin_create_or_update(PLAN["cluster_rg"], PLAN["cluster"], cluster).result()
    elif command == "aks-issuer":
        from azure.mgmt.containerservice import ContainerServiceClient

        aks = _client(ContainerServiceClient, endpoints, a)
        cluster = aks.managed_clusters.get(PLAN["cluster_rg"], PLAN["cluster"])
        (work / "issuer").write_text(cluster.oidc_issuer_profile.issuer_url)
    elif command == "group-create":
        from azure.mgmt.resource.resources import ResourceManagementClient

        _client(ResourceManagementClient, endpoints, b).resource_groups.create_or_update(
            PLAN["identity_rg"], {"location": PLAN["location"]})
    elif command == "identity-create":
        from azure.mgmt.msi import ManagedServiceIdentityClient

        identity = _client(ManagedServiceIdentityClient, endpoints, b).user_assigned_identities.create_or_update(
            PLAN["identity_rg"], PLAN["identity"], {"location": PLAN["location"]})
        (work / "identity.json").write_text(json.dumps({"client_id": identity.client_id,
                                                        "principal_id": identity.principal_id}))
    elif command == "role-create":
        import uuid

        from azure.mgmt.authorization import AuthorizationManagementClient

        auth = _client(AuthorizationManagementClient, endpoints, b)
        scope = f"/subscriptions/{sub_b}"
        role = next(iter(auth.role_definitions.list(scope, filter=f"roleName eq '{PLAN['role']}'")))
        principal = json.loads((work / "identity.json").read_text())["principal_id"]
        auth.role_assignments.create(scope, str(uuid.uuid4()), {
            "role_definition_id": role.id, "principal_id": principal, "principal_type": "ServicePrincipal"})
    elif command == "fic-create":
        from azure.mgmt.msi import ManagedServiceIdentityClient

        _client(ManagedServiceIdentityClient, endpoints, b).federated_identity_credentials.create_or_update(
            PLAN["identity_rg"], PLAN["identity"], PLAN["fic"], {
                "issuer": (work / "issuer").read_text(),
                "subject": f"system:serviceaccount:{PLAN['namespace']}:{PLAN['sa']}",
                "audiences": ["api://AzureADTokenExchange"]})
    elif command == "aks-credentials":
        from azure.mgmt.containerservice import ContainerServiceClient

        result = _client(ContainerServiceClient, endpoints, a).managed_clusters.list_cluster_user_credentials(
            PLAN["cluster_rg"], PLAN["cluster"])
        (work / "kubeconfig").write_bytes(result.kubeconfigs[0].value)
    elif command == "sa-apply":
        client_id = json.loads((work / "identity.json").read_text())["client_id"]
        _kube(work).create_namespaced_service_account(PLAN["namespace"], {
            "metadata": {"name": PLAN["sa"], "annotations": {"azure.workload.identity/client-id": client_id,
                                                             "azure.workload.identity/tenant-id": b["tenant_id"]}}})
    elif command == "pod-apply":
        _kube(work).create_namespaced_pod(PLAN["namespace"], {
            "metadata": {"name": PLAN["pod"], "labels": {"azure.workload.identity/use": "true"}},
            "spec": {"serviceAccountName": PLAN["sa"], "containers": [{
                "name": "app", "image": PLAN["image"],
                "env": [{"name": "AZURE_SUBSCRIPTION_ID", "value": sub_b}, {"name": "AZURE_REGION", "value": "eastus"},
                        {"name": "AZURE_RESOURCE_NAME", "value": "cores"}]}]}})
    elif command == "pod-wait":
        core = _kube(work)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # kubectl wait watches; a poll at its pace is as good here
            pod = core.read_namespaced_pod(PLAN["pod"], PLAN["namespace"])
            if pod.status.phase in ("Running", "Succeeded", "Failed"):
                return
            time.sleep(0.1)
        raise SystemExit("the pod did not start")
    elif command == "logs":
        response = _kube(work).read_namespaced_pod_log(PLAN["pod"], PLAN["namespace"], follow=True,
                                                       _preload_content=False)
        for raw in response:
            if raw.startswith(b"usage: "):
                return
        raise SystemExit("the log ended without the usage line")
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    run(sys.argv[1], Path(sys.argv[2]))
