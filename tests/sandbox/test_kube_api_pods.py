"""Pods through the real kubernetes client: admission (defaults, ServiceAccount plugin, the workload-identity
webhook, 403/400/422 refusals), scheduling, spec immutability, deletion, events and the kubectl Table view."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from tests.sandbox.kube_api_support import (
    FOREIGN_NODE,
    cluster_path,
    foreign_pod,
    https,
    on_loop,
    pod_api,
    record,
    status_of,
    temporary_namespace,
)
from wizard.sandbox import Sandbox

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
TENANT_B = "22222222-3333-4444-5555-666666666666"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io," \
        "application/json"


@pytest.fixture
def ns(v1: Any) -> Iterator[str]:
    with temporary_namespace(v1, "pods") as name:
        yield name


def wi_pod(name: str = "wi-demo-app", image: str = "busybox:1.36", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"azure.workload.identity/use": "true"}},
            "spec": {"serviceAccountName": "wi-demo-account", "containers": [{
                "name": "app", "image": image, "env": [{"name": "AZURE_TENANT_ID", "value": TENANT_B}]}], **spec}}


def make_wi_account(v1: Any, ns: str) -> None:
    v1.create_namespaced_service_account(ns, {"metadata": {
        "name": "wi-demo-account", "annotations": {"azure.workload.identity/client-id": CLIENT_ID}}})


def test_created_pod_carries_defaults_token_volume_and_the_webhook_mutation_in_the_201_body(
        v1: Any, ns: str) -> None:
    make_wi_account(v1, ns)
    pod = v1.create_namespaced_pod(ns, wi_pod())

    spec, container = pod.spec, pod.spec.containers[0]
    assert (spec.restart_policy, spec.dns_policy, spec.termination_grace_period_seconds, spec.scheduler_name) == \
        ("Always", "ClusterFirst", 30, "default-scheduler")
    assert (spec.service_account_name, spec.priority, spec.enable_service_links) == ("wi-demo-account", 0, True)
    assert (container.termination_message_path, container.termination_message_policy,
            container.image_pull_policy) == ("/dev/termination-log", "File", "IfNotPresent")
    assert {(t.key, t.effect, t.toleration_seconds) for t in spec.tolerations} == {
        ("node.kubernetes.io/not-ready", "NoExecute", 300), ("node.kubernetes.io/unreachable", "NoExecute", 300)}
    assert pod.status.phase == "Pending" and pod.status.qos_class == "BestEffort"
    assert pod.spec.node_name is None, "the 201 body is the pod before the scheduler binds it"

    env = {e.name: e.value for e in container.env}
    assert env["AZURE_TENANT_ID"] == TENANT_B, "the pod's own env entry wins over the webhook's tenant"
    assert env["AZURE_CLIENT_ID"] == CLIENT_ID
    token_file = env["AZURE_FEDERATED_TOKEN_FILE"]
    volumes = {v.name: v for v in spec.volumes}
    access = next(name for name in volumes if name.startswith("kube-api-access-"))
    assert re.fullmatch(r"kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}", access)
    sources = volumes[access].projected.sources
    assert sources[0].service_account_token.path == "token"
    assert sources[1].config_map.name == "kube-root-ca.crt"
    assert sources[2].downward_api.items[0].field_ref.field_path == "metadata.namespace"
    mounts = {m.mount_path: m for m in container.volume_mounts}
    assert mounts["/var/run/secrets/kubernetes.io/serviceaccount"].name == access
    wi_volume = next(v for v in spec.volumes if v.name != access)
    wi_mount = next(m for m in container.volume_mounts if m.name == wi_volume.name)
    assert token_file.startswith(wi_mount.mount_path + "/")
    projection = wi_volume.projected.sources[0].service_account_token
    assert (projection.audience, projection.expiration_seconds) == ("api://AzureADTokenExchange", 3600)
    assert token_file.endswith("/" + projection.path)


def test_unlabelled_pod_is_not_mutated_by_the_webhook(v1: Any, ns: str) -> None:
    make_wi_account(v1, ns)
    body = wi_pod()
    body["metadata"]["labels"] = {}
    pod = v1.create_namespaced_pod(ns, body)
    assert [e.name for e in pod.spec.containers[0].env] == ["AZURE_TENANT_ID"]
    assert [v.name.startswith("kube-api-access-") for v in pod.spec.volumes] == [True]


def test_pod_naming_a_missing_service_account_is_403_forbidden(v1: Any, ns: str) -> None:
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_pod(ns, wi_pod())
    body = status_of(exc.value)
    assert (exc.value.status, body["reason"]) == (403, "Forbidden")
    assert body["message"] == (f'pods "wi-demo-app" is forbidden: error looking up service account '
                               f'{ns}/wi-demo-account: serviceaccount "wi-demo-account" not found')


def test_webhook_refusal_is_a_400_status_naming_the_webhook(v1: Any, ns: str) -> None:
    make_wi_account(v1, ns)
    body = wi_pod()
    body["metadata"]["annotations"] = {"azure.workload.identity/service-account-token-expiration": "100"}
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_pod(ns, body)
    status = status_of(exc.value)
    assert (exc.value.status, status["reason"]) == (400, "BadRequest")
    assert status["message"] == ('admission webhook "mutation.azure-workload-identity.io" denied the request: '
                                 "token expiration 100 not valid. Expected value to be between 3600 and 86400")


def test_invalid_pod_is_422_listing_every_cause(v1: Any, ns: str) -> None:
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_pod(ns, {"metadata": {"name": "Bad_Name"}, "spec": {
            "restartPolicy": "Sometimes", "containers": [{"name": "app", "image": ""}]}})
    body = status_of(exc.value)
    assert (exc.value.status, body["reason"]) == (422, "Invalid")
    fields = [c["field"] for c in body["details"]["causes"]]
    assert fields == ["metadata.name", "spec.containers[0].image", "spec.restartPolicy"]
    assert body["message"].startswith('Pod "Bad_Name" is invalid: [metadata.name: Invalid value: "Bad_Name": ')
    assert 'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"' \
        in body["message"]
    assert body["details"]["causes"][1] == {"reason": "FieldValueRequired", "message": "Required value",
                                            "field": "spec.containers[0].image"}


def test_pod_without_containers_is_invalid(v1: Any, ns: str) -> None:
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_pod(ns, {"metadata": {"name": "empty"}, "spec": {"containers": []}})
    assert status_of(exc.value)["message"] == 'Pod "empty" is invalid: spec.containers: Required value'


def test_scheduler_binds_the_pod_and_records_a_scheduled_event(v1: Any, ns: str) -> None:
    v1.create_namespaced_pod(ns, {"metadata": {"name": "sched"}, "spec": {
        "containers": [{"name": "app", "image": "busybox:1.36"}]}})
    pod = v1.read_namespaced_pod("sched", ns)
    assert pod.spec.node_name and pod.spec.node_name.startswith("aks-nodepool1-")
    assert any(c.type == "PodScheduled" and c.status == "True" for c in pod.status.conditions)
    events = v1.list_namespaced_event(ns, field_selector=f"involvedObject.name=sched,involvedObject.uid="
                                                         f"{pod.metadata.uid}").items
    scheduled = next(e for e in events if e.reason == "Scheduled")
    assert scheduled.message == f"Successfully assigned {ns}/sched to {pod.spec.node_name}"
    assert scheduled.source.component == "default-scheduler" and scheduled.type == "Normal"
    assert scheduled.involved_object.kind == "Pod" and scheduled.involved_object.namespace == ns
    assert re.fullmatch(r"sched\.[0-9a-f]+", scheduled.metadata.name)


def test_pod_spec_is_immutable_except_images(v1: Any, ns: str) -> None:
    v1.create_namespaced_pod(ns, foreign_pod("frozen"))
    updated = v1.patch_namespaced_pod("frozen", ns, {"spec": {"containers": [{"name": "app", "image": "busybox:2"}]}})
    assert updated.spec.containers[0].image == "busybox:2"
    with pytest.raises(ApiException) as exc:
        v1.patch_namespaced_pod("frozen", ns, {"spec": {"restartPolicy": "Never"}})
    body = status_of(exc.value)
    assert exc.value.status == 422
    assert body["message"].startswith('Pod "frozen" is invalid: spec: Forbidden: pod updates may not change fields '
                                      "other than `spec.containers[*].image`")


def test_pod_labels_patch_with_merge_json_and_strategic_patches(v1: Any, ns: str) -> None:
    v1.create_namespaced_pod(ns, foreign_pod("labels"))
    v1.patch_namespaced_pod("labels", ns, {"metadata": {"labels": {"a": "1"}}})
    v1.patch_namespaced_pod("labels", ns, {"metadata": {"labels": {"b": "2"}}},
                            _content_type="application/merge-patch+json")
    pod = v1.patch_namespaced_pod("labels", ns, [{"op": "remove", "path": "/metadata/labels/a"}])
    assert pod.metadata.labels == {"b": "2"}


def test_strategic_merge_patch_merges_containers_and_env_by_name(v1: Any, ns: str) -> None:
    body = foreign_pod("smp", containers=("app", "side"))
    body["spec"]["containers"][0]["env"] = [{"name": "A", "value": "1"}]
    v1.create_namespaced_pod(ns, body)
    pod = v1.patch_namespaced_pod("smp", ns, {"spec": {"containers": [{"name": "side", "image": "busybox:2"}]}})
    assert [(c.name, c.image) for c in pod.spec.containers] == [("app", "busybox"), ("side", "busybox:2")]
    assert pod.spec.containers[0].env[0].name == "A"


def test_pod_put_with_stale_resource_version_is_conflict(v1: Any, ns: str) -> None:
    first = v1.create_namespaced_pod(ns, foreign_pod("stale"))
    v1.patch_namespaced_pod("stale", ns, {"metadata": {"labels": {"x": "y"}}})
    first.metadata.labels = {"z": "w"}
    with pytest.raises(ApiException) as exc:
        v1.replace_namespaced_pod("stale", ns, first)
    assert (exc.value.status, status_of(exc.value)["reason"]) == (409, "Conflict")


def test_status_subresource_replaces_only_the_status(v1: Any, ns: str) -> None:
    v1.create_namespaced_pod(ns, foreign_pod("st"))
    pod = v1.patch_namespaced_pod_status("st", ns, {"status": {"phase": "Running"},
                                                    "metadata": {"labels": {"ignored": "yes"}}})
    assert pod.status.phase == "Running"
    assert not pod.metadata.labels


def test_qos_classes_follow_requests_and_limits(v1: Any, ns: str) -> None:
    def qos(resources: dict[str, Any]) -> str:
        name = f"qos-{len(resources)}-{int(time.monotonic() * 1000) % 100000}"
        body = foreign_pod(name)
        body["spec"]["containers"][0]["resources"] = resources
        return str(v1.create_namespaced_pod(ns, body).status.qos_class)

    assert qos({}) == "BestEffort"
    assert qos({"requests": {"cpu": "100m"}}) == "Burstable"
    assert qos({"limits": {"cpu": "1", "memory": "1Gi"}}) == "Guaranteed"


def test_automount_off_on_the_service_account_skips_the_token_volume(v1: Any, ns: str) -> None:
    v1.create_namespaced_service_account(ns, {"metadata": {"name": "quiet"}, "automountServiceAccountToken": False})
    pod = v1.create_namespaced_pod(ns, foreign_pod("quiet", serviceAccountName="quiet"))
    assert not pod.spec.volumes
    assert not pod.spec.containers[0].volume_mounts


def test_delete_with_zero_grace_removes_the_pod_at_once_and_returns_it(v1: Any, ns: str) -> None:
    created = v1.create_namespaced_pod(ns, {"metadata": {"name": "now"}, "spec": {
        "containers": [{"name": "app", "image": "busybox:1.36"}]}})
    gone = v1.delete_namespaced_pod("now", ns, grace_period_seconds=0)
    assert gone.metadata.uid == created.metadata.uid
    with pytest.raises(ApiException) as exc:
        v1.read_namespaced_pod("now", ns)
    assert exc.value.status == 404


def test_graceful_delete_marks_the_pod_then_the_runtime_removes_it(sandbox: Sandbox, v1: Any, ns: str) -> None:
    pytest.importorskip("wizard.sandbox.kube.kubelet", reason="graceful deletion needs the pod runtime")
    v1.create_namespaced_pod(ns, {"metadata": {"name": "graceful"}, "spec": {
        "containers": [{"name": "app", "image": "busybox:1.36"}]}})
    pod = v1.delete_namespaced_pod("graceful", ns)
    assert pod.metadata.deletion_timestamp is not None and pod.metadata.deletion_grace_period_seconds == 30
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            v1.read_namespaced_pod("graceful", ns)
        except ApiException as exc:
            assert exc.status == 404
            return
        time.sleep(0.1)
    raise AssertionError("the runtime never finished the deletion")


def test_pod_with_a_finalizer_stays_until_the_finalizer_is_removed(v1: Any, ns: str) -> None:
    body = foreign_pod("held")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    v1.create_namespaced_pod(ns, body)
    v1.delete_namespaced_pod("held", ns)
    held = v1.read_namespaced_pod("held", ns)
    assert held.metadata.deletion_timestamp is not None
    v1.patch_namespaced_pod("held", ns, [{"op": "remove", "path": "/metadata/finalizers"}])
    with pytest.raises(ApiException) as exc:
        v1.read_namespaced_pod("held", ns)
    assert exc.value.status == 404


def test_runtime_events_are_listed_and_repeats_bump_the_count(sandbox: Sandbox, v1: Any, ns: str) -> None:
    pod = v1.create_namespaced_pod(ns, foreign_pod("ev"))
    api = pod_api(sandbox, record(sandbox))
    raw = v1.read_namespaced_pod("ev", ns).to_dict()
    involved = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "ev", "namespace": ns,
                                                                "uid": pod.metadata.uid}}
    for _ in range(3):
        on_loop(sandbox, lambda: api.record_event(involved, "BackOff", "Back-off restarting failed container",
                                                  "Warning", field_path="spec.containers{app}"))
    assert raw["metadata"]["uid"] == pod.metadata.uid
    events = [e for e in v1.list_namespaced_event(ns, field_selector="reason=BackOff").items]
    assert len(events) == 1
    event = events[0]
    assert (event.count, event.type, event.involved_object.field_path) == (3, "Warning", "spec.containers{app}")
    assert event.source.component == "kubelet"
    assert event.first_timestamp <= event.last_timestamp


def test_status_updates_for_another_uid_are_ignored(sandbox: Sandbox, v1: Any, ns: str) -> None:
    v1.create_namespaced_pod(ns, foreign_pod("uid"))
    api = pod_api(sandbox, record(sandbox))
    on_loop(sandbox, lambda: api.update_pod_status(ns, "uid", "00000000-0000-0000-0000-000000000000",
                                                   {"phase": "Failed"}))
    assert v1.read_namespaced_pod("uid", ns).status.phase == "Pending"


def _table(sandbox: Sandbox, path: str) -> dict[str, Any]:
    rec = record(sandbox)
    answer = https(sandbox, "GET", cluster_path(rec, path), token=rec["user_token"], headers={"Accept": TABLE})
    assert answer.status == 200, answer.body
    table: dict[str, Any] = answer.json()
    return table


STATUSES: list[tuple[str, dict[str, Any], str, str]] = [
    ("waiting", {"phase": "Pending", "containerStatuses": [
        {"name": "app", "ready": False, "restartCount": 0, "image": "b", "imageID": "",
         "state": {"waiting": {"reason": "ContainerCreating"}}}]}, "ContainerCreating", "0/1"),
    ("running", {"phase": "Running", "containerStatuses": [
        {"name": "app", "ready": True, "restartCount": 0, "image": "b", "imageID": "",
         "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]}, "Running", "1/1"),
    ("done", {"phase": "Succeeded", "containerStatuses": [
        {"name": "app", "ready": False, "restartCount": 0, "image": "b", "imageID": "",
         "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}, "Completed", "0/1"),
    ("failed", {"phase": "Failed", "containerStatuses": [
        {"name": "app", "ready": False, "restartCount": 0, "image": "b", "imageID": "",
         "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}, "Error", "0/1"),
    ("crash", {"phase": "Running", "containerStatuses": [
        {"name": "app", "ready": False, "restartCount": 4, "image": "b", "imageID": "",
         "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2026-01-01T00:00:00Z"}},
         "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}, "CrashLoopBackOff", "0/1"),
    ("pull", {"phase": "Pending", "containerStatuses": [
        {"name": "app", "ready": False, "restartCount": 0, "image": "b", "imageID": "",
         "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}, "ImagePullBackOff", "0/1"),
]


def test_table_shows_kubectl_columns_and_status_texts(sandbox: Sandbox, v1: Any, ns: str) -> None:
    api = pod_api(sandbox, record(sandbox))
    for name, status, _, _ in STATUSES:
        pod = v1.create_namespaced_pod(ns, foreign_pod(name))
        on_loop(sandbox, lambda n=name, s=status, u=pod.metadata.uid: api.update_pod_status(ns, n, u, s))
    table = _table(sandbox, f"/api/v1/namespaces/{ns}/pods")
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert [(c["name"], c["priority"]) for c in table["columnDefinitions"]] == [
        ("Name", 0), ("Ready", 0), ("Status", 0), ("Restarts", 0), ("Age", 0), ("IP", 1), ("Node", 1),
        ("Nominated Node", 1), ("Readiness Gates", 1)]
    rows = {r["cells"][0]: r for r in table["rows"]}
    for name, _, text, ready in STATUSES:
        assert rows[name]["cells"][1:3] == [ready, text], name
        assert rows[name]["object"]["kind"] == "PartialObjectMetadata"
    assert re.fullmatch(r"4 \(\d+d ago\)", rows["crash"]["cells"][3])
    assert rows["running"]["cells"][6] == FOREIGN_NODE
    assert re.fullmatch(r"\d+s", rows["running"]["cells"][4])


def test_table_of_a_terminating_pod_says_terminating(sandbox: Sandbox, v1: Any, ns: str) -> None:
    body = foreign_pod("ending")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    v1.create_namespaced_pod(ns, body)
    v1.delete_namespaced_pod("ending", ns)
    table = _table(sandbox, f"/api/v1/namespaces/{ns}/pods/ending")
    assert table["rows"][0]["cells"][2] == "Terminating"
    v1.patch_namespaced_pod("ending", ns, {"metadata": {"finalizers": None}},
                            _content_type="application/merge-patch+json")


def test_tables_for_the_other_kinds_have_kubectl_columns(sandbox: Sandbox, v1: Any, ns: str) -> None:
    v1.create_namespaced_secret(ns, {"metadata": {"name": "s"}, "stringData": {"a": "b"}})
    expected = {
        f"/api/v1/namespaces/{ns}/serviceaccounts": ["Name", "Secrets", "Age"],
        f"/api/v1/namespaces/{ns}/configmaps": ["Name", "Data", "Age"],
        f"/api/v1/namespaces/{ns}/secrets": ["Name", "Type", "Data", "Age"],
        "/api/v1/namespaces": ["Name", "Status", "Age"],
        f"/api/v1/namespaces/{ns}/events": ["Last Seen", "Type", "Reason", "Object", "Subobject", "Source",
                                           "Message", "First Seen", "Count", "Name"],
    }
    for path, columns in expected.items():
        assert [c["name"] for c in _table(sandbox, path)["columnDefinitions"]] == columns, path
    secrets = _table(sandbox, f"/api/v1/namespaces/{ns}/secrets")
    assert secrets["rows"][0]["cells"][:3] == ["s", "Opaque", 1]


def test_pod_list_and_events_deserialise_through_the_client_models(v1: Any, ns: str) -> None:
    v1.create_namespaced_pod(ns, {"metadata": {"name": "model"}, "spec": {
        "containers": [{"name": "app", "image": "busybox:1.36"}]}})
    pods = v1.list_namespaced_pod(ns)
    assert [p.metadata.name for p in pods.items] == ["model"]
    assert v1.list_pod_for_all_namespaces(field_selector=f"metadata.namespace={ns}").items[0].metadata.name == \
        "model"
    assert all(e.involved_object.name == "model" for e in v1.list_namespaced_event(ns).items)
    raw = json.dumps(v1.api_client.sanitize_for_serialization(pods))
    assert '"kind": "PodList"' in raw
