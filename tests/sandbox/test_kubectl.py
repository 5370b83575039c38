"""kubectl 1.32 against the sandbox, with nothing but KUBECONFIG and a per-test KUBECACHEDIR (no
--validate=false, no insecure flags): the seed's walkthrough commands and the errors people see."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest
import yaml

from tests.conftest import Env
from tests.sandbox import seedflow
from tests.sandbox.kube_api_support import record, unique
from wizard.sandbox import Sandbox, clusters

pytestmark = [
    pytest.mark.kubectl,
    pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed (the gcloud kubectl "
                                                                "component provides /usr/bin/kubectl)"),
]

CLIENT_ID = "11111111-2222-3333-4444-555555555555"


def manifests(namespace: str, env: dict[str, str] | None = None, restart: str = "Always") -> str:
    """The seed's ServiceAccount + Pod, as a user would write them."""
    env = env or {"AZURE_TENANT_ID": "22222222-3333-4444-5555-666666666666"}
    return yaml.safe_dump_all([
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": "wi-demo-account", "namespace": namespace,
                      "annotations": {"azure.workload.identity/client-id": CLIENT_ID}}},
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "wi-demo-app", "namespace": namespace,
                      "labels": {"azure.workload.identity/use": "true"}},
         "spec": {"serviceAccountName": "wi-demo-account", "restartPolicy": restart,
                  "containers": [{"name": "app", "image": "ttl.sh/wi-demo-app:1h",
                                  "env": [{"name": k, "value": v} for k, v in env.items()]}]}},
    ], sort_keys=False)


class Kubectl:
    def __init__(self, kubeconfig: str, workdir: Path) -> None:
        self.workdir = workdir
        self.env = {"PATH": os.environ["PATH"], "HOME": str(workdir), "KUBECONFIG": kubeconfig,
                    "KUBECACHEDIR": os.environ["KUBECACHEDIR"]}

    def run(self, *args: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True, env=self.env,
                              cwd=self.workdir, timeout=timeout, check=False)

    def ok(self, *args: str, stdin: str | None = None) -> str:
        result = self.run(*args, stdin=stdin)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(["kubectl", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env, cwd=self.workdir)


@pytest.fixture
def kubectl(sandbox: Sandbox, tmp_path: Path) -> Kubectl:
    return Kubectl(sandbox.kubeconfig, tmp_path)


@pytest.fixture
def ns(kubectl: Kubectl) -> str:
    name = unique("kctl")
    kubectl.ok("create", "namespace", name)
    return name


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / f"{unique('manifest')}.yaml"
    path.write_text(text)
    return str(path)


def test_apply_of_the_seed_manifests_creates_the_mutated_pod(kubectl: Kubectl, ns: str, tmp_path: Path) -> None:
    path = write(tmp_path, manifests(ns))
    result = kubectl.run("apply", "-f", path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "serviceaccount/wi-demo-account created\npod/wi-demo-app created\n"
    assert result.stderr == ""
    pod = json.loads(kubectl.ok("get", "pod", "wi-demo-app", "-n", ns, "-o", "json"))
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    assert env["AZURE_CLIENT_ID"] == CLIENT_ID
    assert env["AZURE_TENANT_ID"] == "22222222-3333-4444-5555-666666666666"
    assert env["AZURE_FEDERATED_TOKEN_FILE"].startswith("/var/run/secrets/azure/")

    # The webhook's env entries make kubectl send a `$setElementOrder` patch (so it says "configured", as it does
    # on AKS), which changes nothing on the server.
    again = kubectl.run("apply", "-f", path)
    assert again.stdout == "serviceaccount/wi-demo-account unchanged\npod/wi-demo-app configured\n", again.stderr
    after = json.loads(kubectl.ok("get", "pod", "wi-demo-app", "-n", ns, "-o", "json"))
    assert after["spec"] == pod["spec"]


def test_apply_of_a_changed_image_patches_the_pod_and_a_spec_change_is_refused(
        kubectl: Kubectl, ns: str, tmp_path: Path) -> None:
    kubectl.ok("apply", "-f", write(tmp_path, manifests(ns)))
    changed = manifests(ns).replace("ttl.sh/wi-demo-app:1h", "ttl.sh/wi-demo-app:2h")
    result = kubectl.run("apply", "-f", write(tmp_path, changed))
    assert "pod/wi-demo-app configured" in result.stdout, result.stderr
    assert kubectl.ok("get", "pod", "wi-demo-app", "-n", ns, "-o", "jsonpath={.spec.containers[0].image}") == \
        "ttl.sh/wi-demo-app:2h"
    refused = kubectl.run("apply", "-f", write(tmp_path, manifests(ns, restart="Never")))
    assert refused.returncode == 1
    assert 'The Pod "wi-demo-app" is invalid: spec: Forbidden: pod updates may not change fields' in refused.stderr


def test_get_pods_prints_the_server_table(kubectl: Kubectl, ns: str, tmp_path: Path) -> None:
    kubectl.ok("apply", "-f", write(tmp_path, manifests(ns)))
    lines = kubectl.ok("get", "pods", "-n", ns).splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert lines[1].split()[:2] == ["wi-demo-app", "0/1"] or lines[1].split()[:2] == ["wi-demo-app", "1/1"]
    wide = kubectl.ok("get", "pods", "-n", ns, "-o", "wide").splitlines()[0].split()
    assert wide[-5:] == ["IP", "NODE", "NOMINATED", "NODE", "READINESS"] or "NODE" in wide
    assert kubectl.ok("get", "sa", "-n", ns).splitlines()[0].split() == ["NAME", "SECRETS", "AGE"]
    assert kubectl.ok("get", "ns", ns).splitlines()[1].split()[:2] == [ns, "Active"]


def test_get_pods_watch_prints_rows_as_the_pod_changes(kubectl: Kubectl, ns: str, tmp_path: Path) -> None:
    watcher = kubectl.popen("get", "pods", "-n", ns, "-w")
    try:
        time.sleep(1.0)
        kubectl.ok("apply", "-f", write(tmp_path, manifests(ns)))
        assert watcher.stdout is not None
        seen: list[list[str]] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(seen) < 3:
            line = watcher.stdout.readline()
            if not line:
                break
            seen.append(line.split())
    finally:
        watcher.terminate()
        watcher.wait(10)
    assert seen[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert seen[1][0] == "wi-demo-app" and seen[1][2] in {"Pending", "ContainerCreating"}
    assert all(row[0] == "wi-demo-app" for row in seen[1:])


def test_describe_pod_shows_service_account_mutation_and_events(kubectl: Kubectl, ns: str, tmp_path: Path) -> None:
    kubectl.ok("apply", "-f", write(tmp_path, manifests(ns)))
    time.sleep(0.5)
    text = kubectl.ok("describe", "pod", "wi-demo-app", "-n", ns)
    assert "Service Account:  wi-demo-account" in text
    assert f"AZURE_CLIENT_ID:             {CLIENT_ID}" in text
    assert "kube-api-access-" in text
    events = text.split("Events:", 1)[1]
    assert "Scheduled" in events and "default-scheduler" in events


def test_create_token_for_the_federated_audience(sandbox: Sandbox, kubectl: Kubectl, ns: str) -> None:
    kubectl.ok("create", "sa", "wi-demo-account", "-n", ns)
    token = kubectl.ok("create", "token", "wi-demo-account", "-n", ns, "--audience", "api://AzureADTokenExchange")
    claims = jwt.decode(token.strip(), options={"verify_signature": False})
    assert claims["aud"] == ["api://AzureADTokenExchange"]
    assert claims["iss"] == clusters.issuer_url(sandbox.world, record(sandbox))
    assert claims["sub"] == f"system:serviceaccount:{ns}:wi-demo-account"


def test_create_sa_and_namespace_use_protobuf_bodies_and_duplicates_fail_cleanly(
        kubectl: Kubectl, ns: str) -> None:
    assert kubectl.ok("create", "sa", "extra", "-n", ns) == "serviceaccount/extra created\n"
    again = kubectl.run("create", "sa", "extra", "-n", ns)
    assert again.returncode == 1
    assert again.stderr.strip() == 'error: failed to create serviceaccount: serviceaccounts "extra" already exists'
    name = unique("ns")
    assert kubectl.ok("create", "namespace", name) == f"namespace/{name} created\n"
    assert kubectl.ok("create", "configmap", "cm", "--from-literal=a=b", "-n", ns) == "configmap/cm created\n"
    assert kubectl.ok("create", "secret", "generic", "s", "--from-literal=x=y", "-n", ns) == "secret/s created\n"


def test_not_found_and_already_exists_messages(kubectl: Kubectl, ns: str, tmp_path: Path) -> None:
    missing = kubectl.run("get", "pod", "nope", "-n", ns)
    assert missing.returncode == 1
    assert missing.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'
    path = write(tmp_path, manifests(ns))
    kubectl.ok("create", "-f", path)
    exists = kubectl.run("create", "-f", path)
    assert 'Error from server (AlreadyExists): error when creating "' in exists.stderr
    assert 'serviceaccounts "wi-demo-account" already exists' in exists.stderr


def test_delete_pod_waits_until_it_is_gone(kubectl: Kubectl, ns: str, tmp_path: Path) -> None:
    kubectl.ok("apply", "-f", write(tmp_path, manifests(ns)))
    assert kubectl.ok("delete", "pod", "wi-demo-app", "-n", ns) == 'pod "wi-demo-app" deleted\n'
    gone = kubectl.run("get", "pod", "wi-demo-app", "-n", ns)
    assert "NotFound" in gone.stderr


def test_get_raw_reads_the_issuer_documents(sandbox: Sandbox, kubectl: Kubectl) -> None:
    jwks = json.loads(kubectl.ok("get", "--raw", "/openid/v1/jwks"))
    assert jwks["keys"][0]["kty"] == "RSA"
    config = json.loads(kubectl.ok("get", "--raw", "/.well-known/openid-configuration"))
    assert config["issuer"] == clusters.issuer_url(sandbox.world, record(sandbox))


def test_auth_whoami_and_events(kubectl: Kubectl, ns: str, tmp_path: Path) -> None:
    assert "masterclient" in kubectl.ok("auth", "whoami")
    kubectl.ok("apply", "-f", write(tmp_path, manifests(ns)))
    time.sleep(0.3)
    events = kubectl.ok("events", "-n", ns).splitlines()
    assert events[0].split()[:4] == ["LAST", "SEEN", "TYPE", "REASON"]
    assert any("Scheduled" in line and "Pod/wi-demo-app" in line for line in events[1:])


def test_wait_for_ready_then_follow_the_quota_readers_logs(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env], tmp_path: Path) -> None:
    """The seed walkthrough's last steps with kubectl, on a cluster federated with fabrikam."""
    pytest.importorskip("wizard.sandbox.kube.kubelet", reason="running pods needs the pod runtime")
    box = make_sandbox()
    env = make_env(box)
    issuer = seedflow.enable_workload_identity(env)
    ident = seedflow.create_identity(env)
    seedflow.federate(env, issuer, f"system:serviceaccount:default:{seedflow.SERVICE_ACCOUNT}")
    kubeconfig = tmp_path / "aks-wi-demo.kubeconfig"
    from azure.mgmt.containerservice import ContainerServiceClient

    aks = ContainerServiceClient(env.sp_credential("contoso"), env.subscription_id("contoso"), **env.client_kwargs())
    kubeconfig.write_bytes(aks.managed_clusters.list_cluster_user_credentials(
        seedflow.RG, seedflow.CLUSTER).kubeconfigs[0].value)
    kubectl = Kubectl(str(kubeconfig), tmp_path)
    text = manifests("default", seedflow.demo_env(env)).replace(CLIENT_ID, ident.client_id)
    kubectl.ok("apply", "-f", write(tmp_path, text))

    waited = kubectl.run("wait", "--for=condition=Ready", "pod/wi-demo-app", "--timeout=60s", timeout=90)
    assert waited.stdout == "pod/wi-demo-app condition met\n", waited.stderr
    follower = kubectl.popen("logs", "-f", "wi-demo-app")
    lines: list[str] = []
    try:
        assert follower.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = follower.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if line.startswith("usage:"):
                break
    finally:
        follower.terminate()
        follower.wait(10)
    limit = json.loads(next(line for line in lines if line.startswith("limit: ")).removeprefix("limit: "))
    assert limit["properties"]["limit"]["value"] == 20
    assert lines[-1].startswith("usage: ")


def test_wrong_token_says_you_must_be_logged_in(sandbox: Sandbox, tmp_path: Path) -> None:
    config = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    for user in config["users"]:
        user["user"]["token"] = "not-the-token"
    bad = tmp_path / "bad.kubeconfig"
    bad.write_text(yaml.safe_dump(config))
    result = Kubectl(str(bad), tmp_path).run("get", "pods")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: You must be logged in to the server (")
