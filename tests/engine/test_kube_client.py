"""The Kubernetes gateway against a sandbox cluster, through the real kubernetes client (CA verified)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import yaml

from tests.conftest import Env
from tests.engine.support import make_context, seed_plan
from wizard.diagnose import diagnose
from wizard.kube.client import Kube, KubeError, entra_token_source
from wizard.sandbox import Sandbox, clusters
from wizard.steps.login import LoginStep

PLATFORM = "aks-platform"  # contoso's cluster with OIDC issuer and workload identity on
PROBE = "mcr.microsoft.com/azure-cli:2.91.0"
WI_LABEL = {"azure.workload.identity/use": "true"}


def _kubeconfig(box: Sandbox, name: str = PLATFORM) -> dict[str, Any]:
    """The sandbox's user kubeconfig of one cluster (what listClusterUserCredential returns for it)."""
    record = next(r for r in clusters.all_records(box.world) if r["name"] == name)
    data: dict[str, Any] = yaml.safe_load(clusters.kubeconfig(box.world, record))
    return data


def _entra_kubeconfig(box: Sandbox) -> str:
    """As AKS hands out for an Entra-integrated cluster: the user is a kubelogin exec plugin (not installed)."""
    data = _kubeconfig(box)
    data["users"][0]["user"] = {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kubelogin",
        "args": ["get-token", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"], "interactiveMode": "IfAvailable"}}
    return yaml.safe_dump(data)


@pytest.fixture(scope="module")
def kube(sandbox: Sandbox) -> Iterator[Kube]:
    gateway = Kube.from_kubeconfig(yaml.safe_dump(_kubeconfig(sandbox)))
    yield gateway
    gateway.close()


@pytest.fixture
def namespace(kube: Kube) -> str:
    name = f"kc-{uuid.uuid4().hex[:8]}"
    assert kube.ensure_namespace(name).action == "created"
    return name


def _pod(name: str, image: str = PROBE, sa: str | None = None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"restartPolicy": "Never", "containers": [{"name": "app", "image": image}]}
    if sa:
        spec["serviceAccountName"] = sa
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {}}, "spec": spec}


def _until_phase(kube: Kube, namespace: str, name: str, phases: set[str]) -> dict[str, Any]:
    for pod in kube.watch_pod(namespace, name, timeout=30):
        if pod["status"].get("phase") in phases:
            return pod
    raise AssertionError(f"pod {name} never reached {phases}")


def test_connect_builds_the_gateway_from_arm_user_credentials_once_per_run(sandbox: Sandbox) -> None:
    ctx, _ = make_context(sandbox, seed_plan(cluster={"resource_group": "rg-platform", "name": PLATFORM}))
    LoginStep().apply(ctx)
    record = next(r for r in clusters.all_records(sandbox.world) if r["name"] == PLATFORM)
    ctx.session.outcome("cluster").values.update(cluster_id=record["arm_id"], aad="false")

    gateway = Kube.connect(ctx)

    assert gateway.server == clusters.server_url(sandbox.world, record)
    assert Kube.connect(ctx) is gateway
    assert gateway.get_service_account("default", "default") is not None


def test_entra_cluster_is_reached_with_a_bearer_from_the_cluster_credential_without_kubelogin(
        sandbox: Sandbox, env: Env) -> None:
    gateway = Kube.from_kubeconfig(_entra_kubeconfig(sandbox),
                                   bearer=entra_token_source(env.sp_credential("contoso")))

    sa = gateway.get_service_account("default", "default")

    assert sa is not None and sa["metadata"]["name"] == "default"


def test_entra_token_of_another_tenant_is_unauthorized(sandbox: Sandbox, env: Env) -> None:
    gateway = Kube.from_kubeconfig(_entra_kubeconfig(sandbox),
                                   bearer=entra_token_source(env.sp_credential("fabrikam")))

    with pytest.raises(KubeError) as caught:
        gateway.get_service_account("default", "default")

    assert (caught.value.status, caught.value.reason) == (401, "Unauthorized")


def test_entra_bearer_is_fetched_once_and_refreshed_only_when_it_nears_expiry(sandbox: Sandbox, env: Env) -> None:
    from azure.core.credentials import AccessToken

    credential = env.sp_credential("contoso")
    calls: list[float] = []
    lifetime = [3600.0]

    def source() -> AccessToken:
        token = entra_token_source(credential)()
        calls.append(time.time())
        return AccessToken(token.token, int(time.time() + lifetime[0]))

    gateway = Kube.from_kubeconfig(_entra_kubeconfig(sandbox), bearer=source)
    gateway.get_service_account("default", "default")
    gateway.get_service_account("default", "default")
    assert len(calls) == 1

    lifetime[0] = 60  # the next token is within the refresh margin: every request refreshes it
    gateway._api.configuration.refresh_api_key_hook._token = None  # forget the long-lived one
    gateway.get_service_account("default", "default")
    gateway.get_service_account("default", "default")
    assert len(calls) == 3


def test_ensure_namespace_creates_it_once_with_our_labels(kube: Kube) -> None:
    name = f"kc-{uuid.uuid4().hex[:8]}"

    assert kube.ensure_namespace(name, {"app.kubernetes.io/managed-by": "wi-wizard"},
                                 {"wi-wizard/session": "s"}).action == "created"
    again = kube.ensure_namespace(name, {"other": "x"})
    assert again.action == "unchanged"
    assert again.obj["metadata"]["annotations"] == {"wi-wizard/session": "s"}

    meta = json.loads(kube._core.read_namespace(name, _preload_content=False).data)["metadata"]
    assert meta["labels"]["app.kubernetes.io/managed-by"] == "wi-wizard"
    assert "other" not in meta["labels"]
    assert meta["annotations"]["wi-wizard/session"] == "s"


def test_apply_service_account_creates_it_with_owner_marks_then_changes_nothing(kube: Kube, namespace: str) -> None:
    ours = {"azure.workload.identity/client-id": "11111111-1111-1111-1111-111111111111"}

    created = kube.apply_service_account(namespace, "app", ours, {}, owner_labels={"app.kubernetes.io/managed-by":
                                                                                   "wi-wizard"},
                                         owner_annotations={"wi-wizard/session": "s1"})
    again = kube.apply_service_account(namespace, "app", ours, {}, owner_labels={"app.kubernetes.io/managed-by":
                                                                                 "wi-wizard"})

    assert created.action == "created"
    assert created.obj["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "wi-wizard"}
    assert created.obj["metadata"]["annotations"] == {**ours, "wi-wizard/session": "s1"}
    assert again.action == "unchanged"
    assert again.obj["metadata"]["resourceVersion"] == created.obj["metadata"]["resourceVersion"]


def test_apply_service_account_merges_only_our_keys_into_someone_elses_account(kube: Kube, namespace: str) -> None:
    kube._core.create_namespaced_service_account(namespace, {"metadata": {
        "name": "theirs", "labels": {"team": "payments"},
        "annotations": {"owner": "payments", "azure.workload.identity/client-id": "old"}},
        "imagePullSecrets": [{"name": "registry"}]})

    applied = kube.apply_service_account(namespace, "theirs", {"azure.workload.identity/client-id": "new"},
                                         {"azure.workload.identity/use-label": "x"},
                                         owner_labels={"app.kubernetes.io/managed-by": "wi-wizard"})

    meta = applied.obj["metadata"]
    assert applied.action == "patched"
    assert meta["annotations"] == {"owner": "payments", "azure.workload.identity/client-id": "new"}
    assert meta["labels"] == {"team": "payments", "azure.workload.identity/use-label": "x"}  # not claimed as ours
    assert applied.obj["imagePullSecrets"] == [{"name": "registry"}]


def test_token_request_mints_a_short_lived_token_for_the_audience_and_subject(kube: Kube, namespace: str) -> None:
    kube.apply_service_account(namespace, "app", {}, {})

    token = kube.token_request(namespace, "app", "api://AzureADTokenExchange", 600)

    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == f"system:serviceaccount:{namespace}:app"
    assert claims["aud"] == ["api://AzureADTokenExchange"]
    assert 590 <= claims["exp"] - claims["iat"] <= 600


def test_token_request_for_a_missing_service_account_is_not_found(kube: Kube, namespace: str) -> None:
    with pytest.raises(KubeError) as caught:
        kube.token_request(namespace, "ghost", "api://AzureADTokenExchange")

    assert caught.value.not_found
    assert caught.value.message == 'serviceaccounts "ghost" not found'


def test_created_pod_is_returned_after_admission_with_the_webhook_mutation(kube: Kube, namespace: str) -> None:
    kube.apply_service_account(namespace, "wi", {"azure.workload.identity/client-id":
                                                 "22222222-2222-2222-2222-222222222222"}, {})

    pod = kube.create_pod(namespace, _pod("p", sa="wi", labels=WI_LABEL))

    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    assert env["AZURE_CLIENT_ID"] == "22222222-2222-2222-2222-222222222222"
    assert "AZURE_FEDERATED_TOKEN_FILE" in env
    assert kube.get_pod(namespace, "p")["metadata"]["uid"] == pod["metadata"]["uid"]


def test_admission_refusal_of_a_pod_without_its_service_account_is_diagnosed(kube: Kube, namespace: str) -> None:
    with pytest.raises(KubeError) as caught:
        kube.create_pod(namespace, _pod("p", sa="missing", labels=WI_LABEL))

    assert (caught.value.status, caught.value.reason) == (403, "Forbidden")
    assert diagnose(caught.value, "deploy").code == "ServiceAccountMissing"


def test_watch_follows_a_pod_to_completion_and_logs_stream_line_by_line(kube: Kube, namespace: str) -> None:
    kube.create_pod(namespace, _pod("probe"))
    phases = []
    for pod in kube.watch_pod(namespace, "probe", timeout=30):
        phases.append(pod["status"].get("phase"))
        if phases[-1] in {"Succeeded", "Failed"}:
            break

    assert phases[0] == "Pending"
    assert phases[-1] in {"Succeeded", "Failed"}
    lines = list(kube.stream_logs(namespace, "probe", follow=True))

    assert lines and all("\n" not in line for line in lines)
    assert lines[0].startswith("wi-probe:")
    reasons = [e["reason"] for e in kube.pod_events(namespace, "probe")]
    assert reasons[:2] == ["Scheduled", "Pulling"]
    assert "Started" in reasons


def test_following_the_log_of_a_container_not_started_fails_with_the_api_message(kube: Kube, namespace: str) -> None:
    kube.create_pod(namespace, _pod("stuck", image="registry.example.com/nothing:1"))

    with pytest.raises(KubeError) as caught:
        list(kube.stream_logs(namespace, "stuck"))

    assert caught.value.status == 400
    assert "is waiting to start" in caught.value.message


def test_unknown_image_shows_in_the_pod_events_and_is_diagnosed(kube: Kube, namespace: str) -> None:
    kube.create_pod(namespace, _pod("stuck", image="registry.example.com/nothing:1"))
    for pod in kube.watch_pod(namespace, "stuck", timeout=30):
        waiting = [(c.get("state") or {}).get("waiting", {}).get("reason") for c in
                   pod["status"].get("containerStatuses", [])]
        if "ImagePullBackOff" in waiting or "ErrImagePull" in waiting:
            break

    messages = " ".join(f"{e['reason']}: {e['message']}" for e in kube.pod_events(namespace, "stuck"))

    assert diagnose(messages, "logs").code == "ImagePullBackOff"


def test_delete_pod_waits_until_it_is_gone_so_the_name_can_be_reused(kube: Kube, namespace: str) -> None:
    first = kube.create_pod(namespace, _pod("again"))

    assert kube.delete_pod(namespace, "again", wait=True)
    assert kube.get_pod(namespace, "again") is None
    assert not kube.delete_pod(namespace, "again")
    second = kube.create_pod(namespace, _pod("again"))
    assert second["metadata"]["uid"] != first["metadata"]["uid"]


def test_watching_a_pod_that_does_not_exist_ends_at_once(kube: Kube, namespace: str) -> None:
    started = time.monotonic()

    assert list(kube.watch_pod(namespace, "nobody", timeout=20)) == []
    assert time.monotonic() - started < 5


def test_watch_ends_with_the_final_state_when_the_pod_is_deleted(kube: Kube, namespace: str) -> None:
    kube.create_pod(namespace, _pod("doomed", image="registry.example.com/nothing:1"))
    seen: list[dict[str, Any]] = []
    for pod in kube.watch_pod(namespace, "doomed", timeout=30):
        seen.append(pod)
        if len(seen) == 1:
            kube.delete_pod(namespace, "doomed", wait=False)

    assert seen[-1]["metadata"].get("deletionTimestamp")


def test_a_kubeconfig_that_turns_tls_verification_off_is_refused(sandbox: Sandbox) -> None:
    data = _kubeconfig(sandbox)
    data["clusters"][0]["cluster"]["insecure-skip-tls-verify"] = True

    with pytest.raises(KubeError) as caught:
        Kube.from_kubeconfig(yaml.safe_dump(data))

    assert caught.value.reason == "InvalidKubeconfig"


@pytest.mark.parametrize("text", ["::: not yaml", "apiVersion: v1\nkind: Config\n", "- a list"])
def test_an_unusable_kubeconfig_is_a_clear_error(text: str) -> None:
    with pytest.raises(KubeError) as caught:
        Kube.from_kubeconfig(text)

    assert caught.value.reason == "InvalidKubeconfig"


def test_a_cluster_that_cannot_be_reached_is_a_clear_error(sandbox: Sandbox) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = _kubeconfig(sandbox)
    data["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{port}/k8s/x"
    gateway = Kube.from_kubeconfig(yaml.safe_dump(data))

    with pytest.raises(KubeError) as caught:
        gateway.get_pod("default", "p")

    assert caught.value.reason == "Unreachable"
    assert f"127.0.0.1:{port}" in caught.value.message


def test_connect_to_an_entra_cluster_sends_the_cluster_logins_aks_token(sandbox: Sandbox, env: Env) -> None:
    ctx, _ = make_context(sandbox, seed_plan(cluster={"resource_group": "rg-platform", "name": PLATFORM}))
    LoginStep().apply(ctx)
    record = next(r for r in clusters.all_records(sandbox.world) if r["name"] == PLATFORM)
    ctx.session.outcome("cluster").values.update(cluster_id=record["arm_id"], aad="true")

    gateway = Kube.connect(ctx)

    assert gateway.get_service_account("default", "default") is not None
    assert gateway._api.configuration.api_key["BearerToken"] != record["user_token"]  # an Entra token instead
