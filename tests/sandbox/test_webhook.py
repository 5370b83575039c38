"""The workload-identity webhook's admission (a pure function): which pods it touches, what it injects, in which
order of precedence, and what it refuses — the traps the wizard has to get right on real clusters."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from wizard.sandbox.ids import Ids
from wizard.sandbox.kube.contracts import AdmissionDenied
from wizard.sandbox.kube.webhook import admit
from wizard.sandbox.store import Store
from wizard.sandbox.world import Settings, World

CLUSTER_TENANT = "11111111-1111-1111-1111-111111111111"
TENANT_B = "22222222-2222-2222-2222-222222222222"
CLIENT_ID = "33333333-3333-3333-3333-333333333333"
BASE = "https://127.0.0.1:8443"
V16_MOUNT, V16_FILE = "/var/run/secrets/azure/wi", "/var/run/secrets/azure/wi/token/azure-identity-token"
V15_MOUNT, V15_FILE = "/var/run/secrets/azure/tokens", "/var/run/secrets/azure/tokens/azure-identity-token"
DENIED = 'admission webhook "mutation.azure-workload-identity.io" denied the request: '


def make_world(version: str = "1.6") -> World:
    store = Store(None)
    return World(state_dir=Path("/nonexistent"), store=store, ids=Ids(store, "test"),
                 settings=Settings(webhook_version=version), base_url=BASE)


CLUSTER: dict[str, Any] = {"key": "abc", "tenant_id": CLUSTER_TENANT, "workload_identity": True}


def pod(name: str = "app", *, labels: dict[str, Any] | None = None, annotations: dict[str, str] | None = None,
        env: list[dict[str, Any]] | None = None, env_from: list[dict[str, Any]] | None = None,
        init: bool = False, **spec: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": "ttl.sh/wi-demo:1h"}
    if env is not None:
        container["env"] = env
    if env_from is not None:
        container["envFrom"] = env_from
    body: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default",
                     "labels": {"azure.workload.identity/use": "true"} if labels is None else labels},
        "spec": {"serviceAccountName": "wi", "containers": [container], **spec},
    }
    if annotations:
        body["metadata"]["annotations"] = annotations
    if init:
        body["spec"]["initContainers"] = [{"name": "setup", "image": "ttl.sh/wi-demo:1h"}]
    return body


def sa(**annotations: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "wi", "namespace": "default", "annotations": annotations}}


def annotated_sa(**extra: str) -> dict[str, Any]:
    return sa(**{"azure.workload.identity/client-id": CLIENT_ID, **extra})


def env_of(container: dict[str, Any]) -> dict[str, str | None]:
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def test_labelled_pod_gets_client_tenant_token_file_and_sandbox_authority() -> None:
    mutated = admit(make_world(), CLUSTER, pod(), annotated_sa())

    assert env_of(mutated["spec"]["containers"][0]) == {
        "AZURE_CLIENT_ID": CLIENT_ID,
        "AZURE_TENANT_ID": CLUSTER_TENANT,
        "AZURE_FEDERATED_TOKEN_FILE": V16_FILE,
        "AZURE_AUTHORITY_HOST": BASE + "/",
    }


def test_v16_layout_names_the_volume_after_the_pod_name_hash_and_mounts_it_read_only() -> None:
    mutated = admit(make_world(), CLUSTER, pod("wi-demo-app"), annotated_sa())

    name = "azure-workload-identity-reserved-" + hashlib.sha256(b"wi-demo-app").hexdigest()[:30]
    assert len(name) == 63
    assert mutated["spec"]["containers"][0]["volumeMounts"] == [
        {"name": name, "mountPath": V16_MOUNT, "readOnly": True}]
    assert mutated["spec"]["volumes"] == [{"name": name, "projected": {"sources": [{"serviceAccountToken": {
        "path": "token/azure-identity-token", "expirationSeconds": 3600, "audience": "api://AzureADTokenExchange"}}]}}]


def test_v16_volume_name_of_a_generate_name_pod_hashes_the_prefix_marker() -> None:
    body = pod("")
    del body["metadata"]["name"]
    body["metadata"]["generateName"] = "wi-demo-"

    mutated = admit(make_world(), CLUSTER, body, annotated_sa())

    expected = "azure-workload-identity-reserved-" + hashlib.sha256(b"wi-demo- (prefix)").hexdigest()[:30]
    assert mutated["spec"]["volumes"][0]["name"] == expected


def test_v15_layout_uses_the_fixed_volume_and_the_tokens_path() -> None:
    mutated = admit(make_world("1.5"), CLUSTER, pod(), annotated_sa())

    container = mutated["spec"]["containers"][0]
    assert env_of(container)["AZURE_FEDERATED_TOKEN_FILE"] == V15_FILE
    assert container["volumeMounts"] == [{"name": "azure-identity-token", "mountPath": V15_MOUNT, "readOnly": True}]
    source = mutated["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]
    assert mutated["spec"]["volumes"][0]["name"] == "azure-identity-token"
    assert source["path"] == "azure-identity-token"


def test_admit_does_not_change_the_pod_it_was_given() -> None:
    body = pod()
    admit(make_world(), CLUSTER, body, annotated_sa())
    assert body == pod()


def test_sa_tenant_annotation_beats_the_cluster_tenant() -> None:
    mutated = admit(make_world(), CLUSTER, pod(), annotated_sa(**{"azure.workload.identity/tenant-id": TENANT_B}))
    assert env_of(mutated["spec"]["containers"][0])["AZURE_TENANT_ID"] == TENANT_B


def test_explicit_container_env_beats_the_sa_annotations() -> None:
    body = pod(env=[{"name": "AZURE_TENANT_ID", "value": TENANT_B}, {"name": "AZURE_CLIENT_ID", "value": "mine"}])

    mutated = admit(make_world(), CLUSTER, body, annotated_sa(**{"azure.workload.identity/tenant-id": "other"}))

    env = mutated["spec"]["containers"][0]["env"]
    assert [e["name"] for e in env].count("AZURE_TENANT_ID") == 1
    assert env_of(mutated["spec"]["containers"][0])["AZURE_TENANT_ID"] == TENANT_B
    assert env_of(mutated["spec"]["containers"][0])["AZURE_CLIENT_ID"] == "mine"


def test_env_entry_with_value_from_counts_as_present() -> None:
    ref = {"name": "AZURE_TENANT_ID", "valueFrom": {"configMapKeyRef": {"name": "wi", "key": "tenant"}}}

    mutated = admit(make_world(), CLUSTER, pod(env=[ref]), annotated_sa())

    assert [e for e in mutated["spec"]["containers"][0]["env"] if e["name"] == "AZURE_TENANT_ID"] == [ref]


def test_tenant_from_env_from_is_shadowed_by_the_injected_cluster_tenant() -> None:
    """The trap: envFrom is not looked at, and Kubernetes gives `env` precedence over `envFrom`."""
    body = pod(env_from=[{"configMapRef": {"name": "tenant-b"}}])

    mutated = admit(make_world(), CLUSTER, body, annotated_sa())

    container = mutated["spec"]["containers"][0]
    assert container["envFrom"] == [{"configMapRef": {"name": "tenant-b"}}]
    assert env_of(container)["AZURE_TENANT_ID"] == CLUSTER_TENANT


def test_empty_tenant_annotation_injects_no_tenant_at_all() -> None:
    mutated = admit(make_world(), CLUSTER, pod(), annotated_sa(**{"azure.workload.identity/tenant-id": ""}))

    env = env_of(mutated["spec"]["containers"][0])
    assert "AZURE_TENANT_ID" not in env
    assert env["AZURE_CLIENT_ID"] == CLIENT_ID


def test_sa_without_client_id_injects_no_client_id_but_still_the_token() -> None:
    mutated = admit(make_world(), CLUSTER, pod(), sa())

    env = env_of(mutated["spec"]["containers"][0])
    assert "AZURE_CLIENT_ID" not in env
    assert env["AZURE_FEDERATED_TOKEN_FILE"] == V16_FILE
    assert len(mutated["spec"]["volumes"]) == 1


def test_skip_containers_are_left_alone_and_names_are_trimmed() -> None:
    body = pod(annotations={"azure.workload.identity/skip-containers": " sidecar ; setup"}, init=True)
    body["spec"]["containers"].append({"name": "sidecar", "image": "busybox"})

    mutated = admit(make_world(), CLUSTER, body, annotated_sa())

    app, sidecar = mutated["spec"]["containers"]
    assert env_of(app)["AZURE_CLIENT_ID"] == CLIENT_ID
    assert sidecar == {"name": "sidecar", "image": "busybox"}
    assert mutated["spec"]["initContainers"] == [{"name": "setup", "image": "ttl.sh/wi-demo:1h"}]


def test_init_containers_are_mutated_too() -> None:
    mutated = admit(make_world(), CLUSTER, pod(init=True), annotated_sa())

    init = mutated["spec"]["initContainers"][0]
    assert env_of(init)["AZURE_FEDERATED_TOKEN_FILE"] == V16_FILE
    assert init["volumeMounts"][0]["mountPath"] == V16_MOUNT


@pytest.mark.parametrize(("pod_value", "sa_value", "expected"), [
    (None, None, 3600),
    (None, "7200", 7200),
    ("86400", "7200", 86400),
    ("", "7200", 7200),
    ("3600", None, 3600),
])
def test_token_expiration_comes_from_the_pod_then_the_sa_then_the_default(
        pod_value: str | None, sa_value: str | None, expected: int) -> None:
    key = "azure.workload.identity/service-account-token-expiration"
    body = pod(annotations={key: pod_value} if pod_value is not None else None)
    account = annotated_sa(**({key: sa_value} if sa_value is not None else {}))

    mutated = admit(make_world(), CLUSTER, body, account)

    assert mutated["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"] \
        == expected


@pytest.mark.parametrize("value", ["3599", "86401", "-1"])
def test_token_expiration_out_of_bounds_is_refused_with_the_webhook_message(value: str) -> None:
    body = pod(annotations={"azure.workload.identity/service-account-token-expiration": value})

    with pytest.raises(AdmissionDenied) as caught:
        admit(make_world(), CLUSTER, body, annotated_sa())

    assert (caught.value.code, caught.value.reason) == (400, "BadRequest")
    assert caught.value.message == DENIED + (
        f"token expiration {int(value)} not valid. Expected value to be between 3600 and 86400")


def test_out_of_bounds_expiration_on_the_sa_is_refused_too() -> None:
    account = annotated_sa(**{"azure.workload.identity/service-account-token-expiration": "100000"})
    with pytest.raises(AdmissionDenied, match="token expiration 100000 not valid"):
        admit(make_world(), CLUSTER, pod(), account)


@pytest.mark.parametrize(("value", "error"), [
    ("1h", 'strconv.ParseInt: parsing "1h": invalid syntax'),
    ("3600.0", 'strconv.ParseInt: parsing "3600.0": invalid syntax'),
    ("99999999999999999999", 'strconv.ParseInt: parsing "99999999999999999999": value out of range'),
])
def test_non_numeric_expiration_is_refused_with_go_parse_error(value: str, error: str) -> None:
    body = pod(annotations={"azure.workload.identity/service-account-token-expiration": value})

    with pytest.raises(AdmissionDenied) as caught:
        admit(make_world(), CLUSTER, body, annotated_sa())

    assert caught.value.code == 400
    assert caught.value.message == DENIED + error


def test_missing_service_account_is_refused_with_not_found() -> None:
    with pytest.raises(AdmissionDenied) as caught:
        admit(make_world(), CLUSTER, pod(), None)

    assert (caught.value.code, caught.value.reason) == (400, "BadRequest")
    assert caught.value.message == DENIED + 'serviceaccounts "wi" not found'


def test_missing_default_service_account_is_named_default() -> None:
    body = pod()
    del body["spec"]["serviceAccountName"]
    with pytest.raises(AdmissionDenied, match='serviceaccounts "default" not found'):
        admit(make_world(), CLUSTER, body, None)


@pytest.mark.parametrize("labels", [{}, {"azure.workload.identity/use": "True"},
                                    {"azure.workload.identity/use": True}, {"azure.workload.identity/use": "yes"}])
def test_pod_without_the_exact_string_true_label_is_untouched(labels: dict[str, Any]) -> None:
    body = pod(labels=labels)
    assert admit(make_world(), CLUSTER, body, None) == pod(labels=labels)


def test_cluster_without_workload_identity_has_no_webhook() -> None:
    cluster = {**CLUSTER, "workload_identity": False}
    assert admit(make_world(), cluster, pod(), None) == pod()


def test_kube_system_pods_are_never_sent_to_the_webhook() -> None:
    body = pod()
    body["metadata"]["namespace"] = "kube-system"
    assert admit(make_world(), CLUSTER, body, None) is body


def test_existing_volume_and_mount_of_the_same_name_are_replaced_not_duplicated() -> None:
    body = pod()
    body["spec"]["volumes"] = [{"name": "azure-identity-token", "emptyDir": {}}]
    body["spec"]["containers"][0]["volumeMounts"] = [{"name": "azure-identity-token", "mountPath": "/x"}]

    mutated = admit(make_world("1.5"), CLUSTER, body, annotated_sa())

    assert [v["name"] for v in mutated["spec"]["volumes"]] == ["azure-identity-token"]
    assert "projected" in mutated["spec"]["volumes"][0]
    assert mutated["spec"]["containers"][0]["volumeMounts"] == [
        {"name": "azure-identity-token", "mountPath": V15_MOUNT, "readOnly": True}]


def test_proxy_sidecar_annotation_adds_no_container_even_when_false() -> None:
    body = pod(annotations={"azure.workload.identity/inject-proxy-sidecar": "false"})

    mutated = admit(make_world(), CLUSTER, body, annotated_sa())

    assert [c["name"] for c in mutated["spec"]["containers"]] == ["app"]
    assert "initContainers" not in mutated["spec"]


def test_proxy_sidecar_with_host_network_is_refused() -> None:
    body = pod(annotations={"azure.workload.identity/inject-proxy-sidecar": "true"}, hostNetwork=True)
    with pytest.raises(AdmissionDenied) as caught:
        admit(make_world(), CLUSTER, body, annotated_sa())
    assert caught.value.message == DENIED + "hostNetwork is set to true, cannot inject proxy sidecar"


def test_proxy_sidecar_with_bad_port_is_refused() -> None:
    body = pod(annotations={"azure.workload.identity/inject-proxy-sidecar": "true",
                            "azure.workload.identity/proxy-sidecar-port": "http"})
    with pytest.raises(AdmissionDenied) as caught:
        admit(make_world(), CLUSTER, body, annotated_sa())
    assert caught.value.message == DENIED + (
        'failed to parse proxy sidecar port: strconv.ParseInt: parsing "http": invalid syntax')
