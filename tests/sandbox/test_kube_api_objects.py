"""Namespaces, ServiceAccounts, ConfigMaps and Secrets through the real kubernetes client (v37): create, read,
list, every PATCH type, PUT with a stale resourceVersion, delete, and the Status errors a real API server gives.
Every answer is deserialised through the client's models, which validate required fields."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from tests.sandbox.kube_api_support import (
    cluster_path,
    https,
    make_namespace,
    record,
    status_of,
    temporary_namespace,
    unique,
)
from wizard.sandbox import Sandbox


@pytest.fixture
def ns(v1: Any) -> Iterator[str]:
    with temporary_namespace(v1) as name:
        yield name


def test_new_cluster_has_system_namespaces_each_with_default_service_account_and_root_ca(v1: Any) -> None:
    names = {n.metadata.name for n in v1.list_namespace().items}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names
    for namespace in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert v1.read_namespaced_service_account("default", namespace).metadata.uid
        ca = v1.read_namespaced_config_map("kube-root-ca.crt", namespace).data["ca.crt"]
        assert ca.startswith("-----BEGIN CERTIFICATE-----")


def test_created_namespace_is_active_labelled_and_gets_its_default_service_account(v1: Any) -> None:
    name = unique("ns")
    created = v1.create_namespace({"metadata": {"name": name}})
    assert created.status.phase == "Active"
    assert created.metadata.labels == {"kubernetes.io/metadata.name": name}
    assert created.spec.finalizers == ["kubernetes"]
    assert created.metadata.uid and created.metadata.resource_version and created.metadata.creation_timestamp
    assert v1.read_namespaced_service_account("default", name).metadata.namespace == name


def test_service_account_lifecycle_create_get_list_patch_delete(v1: Any, ns: str) -> None:
    sa = v1.create_namespaced_service_account(ns, {
        "metadata": {"name": "wi-demo-account",
                     "annotations": {"azure.workload.identity/client-id": "11111111-1111-1111-1111-111111111111"}}})
    assert sa.kind == "ServiceAccount" and sa.api_version == "v1"
    assert v1.read_namespaced_service_account("wi-demo-account", ns).metadata.uid == sa.metadata.uid
    listed = v1.list_namespaced_service_account(ns)
    assert {s.metadata.name for s in listed.items} == {"default", "wi-demo-account"}
    assert int(listed.metadata.resource_version) >= int(sa.metadata.resource_version)

    patched = v1.patch_namespaced_service_account("wi-demo-account", ns, {
        "metadata": {"annotations": {"azure.workload.identity/tenant-id": "22222222-2222-2222-2222-222222222222"}}})
    assert patched.metadata.annotations == {
        "azure.workload.identity/client-id": "11111111-1111-1111-1111-111111111111",
        "azure.workload.identity/tenant-id": "22222222-2222-2222-2222-222222222222"}
    assert int(patched.metadata.resource_version) > int(sa.metadata.resource_version)

    deleted = v1.delete_namespaced_service_account("wi-demo-account", ns)
    assert deleted.metadata.name == "wi-demo-account"  # a ServiceAccount DELETE answers with the object
    with pytest.raises(ApiException) as missing:
        v1.read_namespaced_service_account("wi-demo-account", ns)
    assert missing.value.status == 404


def test_missing_object_is_404_not_found_status_with_details(v1: Any, ns: str) -> None:
    with pytest.raises(ApiException) as exc:
        v1.read_namespaced_service_account("nope", ns)
    assert exc.value.status == 404
    assert status_of(exc.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'serviceaccounts "nope" not found', "reason": "NotFound", "code": 404,
        "details": {"name": "nope", "group": "", "kind": "serviceaccounts"}}


def test_creating_an_existing_name_is_409_already_exists(v1: Any, ns: str) -> None:
    v1.create_namespaced_config_map(ns, {"metadata": {"name": "settings"}, "data": {"a": "1"}})
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_config_map(ns, {"metadata": {"name": "settings"}, "data": {"a": "2"}})
    body = status_of(exc.value)
    assert (exc.value.status, body["reason"]) == (409, "AlreadyExists")
    assert body["message"] == 'configmaps "settings" already exists'


def test_put_with_stale_resource_version_is_409_conflict_and_current_one_succeeds(v1: Any, ns: str) -> None:
    first = v1.create_namespaced_config_map(ns, {"metadata": {"name": "cfg"}, "data": {"k": "v1"}})
    second = v1.replace_namespaced_config_map("cfg", ns, {
        "metadata": {"name": "cfg", "resourceVersion": first.metadata.resource_version}, "data": {"k": "v2"}})
    assert second.data == {"k": "v2"}
    with pytest.raises(ApiException) as exc:
        v1.replace_namespaced_config_map("cfg", ns, {
            "metadata": {"name": "cfg", "resourceVersion": first.metadata.resource_version}, "data": {"k": "v3"}})
    body = status_of(exc.value)
    assert (exc.value.status, body["reason"]) == (409, "Conflict")
    assert body["message"] == ('Operation cannot be fulfilled on configmaps "cfg": the object has been modified; '
                               "please apply your changes to the latest version and try again")
    assert v1.read_namespaced_config_map("cfg", ns).data == {"k": "v2"}


def test_unchanged_put_keeps_the_resource_version(v1: Any, ns: str) -> None:
    created = v1.create_namespaced_config_map(ns, {"metadata": {"name": "same"}, "data": {"k": "v"}})
    again = v1.replace_namespaced_config_map("same", ns, created)
    assert again.metadata.resource_version == created.metadata.resource_version


def test_strategic_merge_merge_and_json_patch_each_change_a_config_map(v1: Any, ns: str) -> None:
    v1.create_namespaced_config_map(ns, {"metadata": {"name": "p", "labels": {"a": "1"}}, "data": {"x": "1"}})
    smp = v1.patch_namespaced_config_map("p", ns, {"data": {"y": "2"}, "metadata": {"labels": {"b": "2"}}})
    assert smp.data == {"x": "1", "y": "2"} and smp.metadata.labels == {"a": "1", "b": "2"}

    merge = v1.patch_namespaced_config_map("p", ns, {"data": {"x": None}},
                                           _content_type="application/merge-patch+json")
    assert merge.data == {"y": "2"}

    jp = v1.patch_namespaced_config_map("p", ns, [{"op": "replace", "path": "/data/y", "value": "3"},
                                                  {"op": "add", "path": "/metadata/labels/c", "value": "3"}])
    assert jp.data == {"y": "3"} and jp.metadata.labels == {"a": "1", "b": "2", "c": "3"}


def test_failed_json_patch_test_operation_is_422(v1: Any, ns: str) -> None:
    v1.create_namespaced_config_map(ns, {"metadata": {"name": "t"}, "data": {"x": "1"}})
    with pytest.raises(ApiException) as exc:
        v1.patch_namespaced_config_map("t", ns, [{"op": "test", "path": "/data/x", "value": "2"}])
    assert exc.value.status == 422
    assert status_of(exc.value)["reason"] == "Invalid"


def test_patch_carrying_a_stale_resource_version_is_409_conflict(v1: Any, ns: str) -> None:
    created = v1.create_namespaced_config_map(ns, {"metadata": {"name": "rv"}, "data": {"x": "1"}})
    v1.patch_namespaced_config_map("rv", ns, {"data": {"x": "2"}})
    with pytest.raises(ApiException) as exc:
        v1.patch_namespaced_config_map("rv", ns, {"metadata": {"resourceVersion": created.metadata.resource_version},
                                                  "data": {"x": "3"}})
    assert status_of(exc.value)["reason"] == "Conflict"


def test_server_side_apply_creates_then_merges(v1: Any, ns: str) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied", "namespace": ns},
            "data": {"a": "1"}}
    created = v1.patch_namespaced_config_map("applied", ns, body, field_manager="tests",
                                             _content_type="application/apply-patch+yaml")
    assert created.data == {"a": "1"}
    body["data"] = {"b": "2"}
    merged = v1.patch_namespaced_config_map("applied", ns, body, field_manager="tests",
                                            _content_type="application/apply-patch+yaml")
    assert merged.data == {"a": "1", "b": "2"}
    assert merged.metadata.uid == created.metadata.uid


def test_patch_of_missing_object_is_404(v1: Any, ns: str) -> None:
    with pytest.raises(ApiException) as exc:
        v1.patch_namespaced_config_map("ghost", ns, {"data": {"a": "b"}})
    assert exc.value.status == 404


def test_config_map_delete_answers_status_success_with_uid(v1: Any, ns: str) -> None:
    created = v1.create_namespaced_config_map(ns, {"metadata": {"name": "gone"}, "data": {"a": "b"}})
    answer = v1.delete_namespaced_config_map("gone", ns)  # v37 returns the raw body for this call
    assert answer == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                      "details": {"name": "gone", "group": "", "kind": "configmaps", "uid": created.metadata.uid}}


def test_secret_string_data_is_folded_into_base64_data_and_type_defaults_to_opaque(v1: Any, ns: str) -> None:
    secret = v1.create_namespaced_secret(ns, {"metadata": {"name": "creds"}, "stringData": {"password": "s3cret"}})
    assert secret.type == "Opaque"
    assert secret.string_data is None
    assert base64.b64decode(secret.data["password"]) == b"s3cret"


def test_secret_with_invalid_base64_is_400_bad_request(v1: Any, ns: str) -> None:
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_secret(ns, {"metadata": {"name": "bad"}, "data": {"k": "not base64!"}})
    body = status_of(exc.value)
    assert (exc.value.status, body["reason"]) == (400, "BadRequest")
    assert "illegal base64 data" in body["message"]


def test_immutable_config_map_refuses_data_changes_with_422(v1: Any, ns: str) -> None:
    v1.create_namespaced_config_map(ns, {"metadata": {"name": "frozen"}, "data": {"a": "1"}, "immutable": True})
    with pytest.raises(ApiException) as exc:
        v1.patch_namespaced_config_map("frozen", ns, {"data": {"a": "2"}})
    body = status_of(exc.value)
    assert exc.value.status == 422
    assert body["details"]["causes"] == [{"reason": "FieldValueForbidden", "field": "data",
                                          "message": "Forbidden: field is immutable when `immutable` is set"}]


def test_invalid_name_is_422_with_field_causes(v1: Any, ns: str) -> None:
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_service_account(ns, {"metadata": {"name": "Bad_Name"}})
    body = status_of(exc.value)
    assert (exc.value.status, body["reason"]) == (422, "Invalid")
    assert body["message"].startswith('ServiceAccount "Bad_Name" is invalid: metadata.name: Invalid value: '
                                      '"Bad_Name": a lowercase RFC 1123 subdomain must consist of')
    assert body["details"]["causes"][0]["field"] == "metadata.name"
    assert body["details"]["causes"][0]["reason"] == "FieldValueInvalid"


def test_label_given_as_a_bool_is_400_like_go_json_decoding(sandbox: Sandbox, ns: str) -> None:
    # The typed client refuses this body itself, so it goes raw: what an unquoted YAML `true` becomes.
    rec = record(sandbox)
    answer = https(sandbox, "POST", cluster_path(rec, f"/api/v1/namespaces/{ns}/configmaps"),
                   token=rec["user_token"], body=json.dumps({"metadata": {
                       "name": "x", "labels": {"azure.workload.identity/use": True}}}).encode())
    body = answer.json()
    assert answer.status == 400 and body["reason"] == "BadRequest"
    assert body["message"] == ('ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal '
                               'bool into Go struct field ObjectMeta.metadata.labels of type string')


def test_namespace_of_body_must_match_the_url(v1: Any, ns: str) -> None:
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_config_map(ns, {"metadata": {"name": "x", "namespace": "default"}})
    assert status_of(exc.value)["message"] == ("the namespace of the provided object does not match the namespace "
                                               "sent on the request")


def test_creating_in_a_missing_namespace_is_404_for_the_namespace(v1: Any) -> None:
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_config_map("no-such-ns", {"metadata": {"name": "x"}})
    assert status_of(exc.value)["message"] == 'namespaces "no-such-ns" not found'


def test_generate_name_gets_a_five_character_suffix(v1: Any, ns: str) -> None:
    created = v1.create_namespaced_config_map(ns, {"metadata": {"generateName": "cfg-"}})
    assert created.metadata.name.startswith("cfg-") and len(created.metadata.name) == len("cfg-") + 5


def test_label_and_field_selectors_filter_lists(v1: Any, ns: str) -> None:
    for name, labels in (("a", {"app": "web", "tier": "front"}), ("b", {"app": "web"}), ("c", {"app": "db"})):
        v1.create_namespaced_config_map(ns, {"metadata": {"name": name, "labels": labels}})

    def names(**kwargs: Any) -> set[str]:
        return {c.metadata.name for c in v1.list_namespaced_config_map(ns, **kwargs).items} - {"kube-root-ca.crt"}

    assert names(label_selector="app=web") == {"a", "b"}
    assert names(label_selector="app==web,tier") == {"a"}
    assert names(label_selector="app!=web") == {"c"}
    assert names(label_selector="app in (db, cache)") == {"c"}
    assert names(label_selector="app notin (db)") == {"a", "b"}
    assert names(label_selector="!tier") == {"b", "c"}
    assert names(field_selector="metadata.name=b") == {"b"}
    assert names(field_selector="metadata.name!=b", label_selector="app") == {"a", "c"}


def test_malformed_selectors_are_400(v1: Any, ns: str) -> None:
    for kwargs in ({"label_selector": "app in (web"}, {"field_selector": "spec.nothing=x"},
                   {"label_selector": "Bad Key=1"}):
        with pytest.raises(ApiException) as exc:
            v1.list_namespaced_config_map(ns, **kwargs)
        assert exc.value.status == 400, kwargs


def test_limit_and_continue_page_through_a_list(v1: Any, ns: str) -> None:
    for i in range(5):
        v1.create_namespaced_config_map(ns, {"metadata": {"name": f"page-{i}"}})
    seen: list[str] = []
    token = None
    while True:
        page = v1.list_namespaced_config_map(ns, limit=2, _continue=token)
        seen += [c.metadata.name for c in page.items]
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count > 0
    assert seen == ["kube-root-ca.crt", "page-0", "page-1", "page-2", "page-3", "page-4"]


def test_list_across_namespaces_returns_each_namespace_items(v1: Any, ns: str) -> None:
    v1.create_namespaced_config_map(ns, {"metadata": {"name": "everywhere"}})
    found = v1.list_config_map_for_all_namespaces(field_selector="metadata.name=everywhere")
    assert [(c.metadata.namespace, c.metadata.name) for c in found.items] == [(ns, "everywhere")]


def test_dry_run_create_validates_but_stores_nothing(v1: Any, ns: str) -> None:
    answer = v1.create_namespaced_config_map(ns, {"metadata": {"name": "dry"}}, dry_run="All")
    assert answer.metadata.name == "dry"
    with pytest.raises(ApiException):
        v1.read_namespaced_config_map("dry", ns)


def _wait_gone(read: Callable[[], Any], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            read()
        except ApiException as exc:
            assert exc.status == 404
            return
        time.sleep(0.05)
    raise AssertionError("the object was not removed")


def test_deleting_a_namespace_marks_it_terminating_then_removes_it_and_its_contents(v1: Any) -> None:
    name = make_namespace(v1)
    v1.create_namespaced_config_map(name, {"metadata": {"name": "inside"}})
    answer = v1.delete_namespace(name)  # the Namespace, now terminating (v37 returns the raw body)
    assert answer["kind"] == "Namespace" and answer["status"] == {"phase": "Terminating"}
    assert answer["metadata"]["deletionTimestamp"]
    _wait_gone(lambda: v1.read_namespace(name))
    with pytest.raises(ApiException):
        v1.read_namespaced_config_map("inside", name)


def test_system_namespace_may_not_be_deleted(v1: Any) -> None:
    with pytest.raises(ApiException) as exc:
        v1.delete_namespace("kube-system")
    body = status_of(exc.value)
    assert (exc.value.status, body["reason"]) == (403, "Forbidden")
    assert body["message"] == 'namespaces "kube-system" is forbidden: this namespace may not be deleted'


def test_finalizer_keeps_a_terminating_namespace_which_refuses_new_content(v1: Any, ns: str) -> None:
    v1.create_namespaced_config_map(ns, {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    v1.delete_namespace(ns)
    time.sleep(0.3)
    held = v1.read_namespaced_config_map("held", ns)
    assert held.metadata.deletion_timestamp is not None
    assert v1.read_namespace(ns).status.phase == "Terminating"
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_config_map(ns, {"metadata": {"name": "late"}})
    body = status_of(exc.value)
    assert (exc.value.status, body["reason"]) == (403, "Forbidden")
    assert body["message"] == (f"configmaps is forbidden: unable to create new content in namespace {ns} because it "
                               "is being terminated")

    v1.patch_namespaced_config_map("held", ns, {"metadata": {"finalizers": None}},
                                   _content_type="application/merge-patch+json")
    _wait_gone(lambda: v1.read_namespace(ns))


def test_strategic_merge_directives_delete_and_replace_list_items_by_merge_key(v1: Any, ns: str) -> None:
    v1.create_namespaced_service_account(ns, {"metadata": {"name": "pull"},
                                              "imagePullSecrets": [{"name": "a"}, {"name": "b"}]})
    merged = v1.patch_namespaced_service_account("pull", ns, {"imagePullSecrets": [{"name": "c"}]})
    assert [s.name for s in merged.image_pull_secrets] == ["a", "b", "c"]
    deleted = v1.patch_namespaced_service_account("pull", ns, {"imagePullSecrets": [{"name": "a", "$patch": "delete"}]})
    assert [s.name for s in deleted.image_pull_secrets] == ["b", "c"]
    replaced = v1.patch_namespaced_service_account("pull", ns, {"imagePullSecrets": [{"$patch": "replace"},
                                                                                    {"name": "z"}]})
    assert [s.name for s in replaced.image_pull_secrets] == ["z"]
    ordered = v1.patch_namespaced_service_account("pull", ns, {
        "$setElementOrder/imagePullSecrets": [{"name": "y"}, {"name": "z"}], "imagePullSecrets": [{"name": "y"}]})
    assert [s.name for s in ordered.image_pull_secrets] == ["y", "z"]


def test_delete_collection_removes_only_the_selected_objects(v1: Any, ns: str) -> None:
    for name, labels in (("keep", {"role": "keep"}), ("drop-1", {"role": "drop"}), ("drop-2", {"role": "drop"})):
        v1.create_namespaced_config_map(ns, {"metadata": {"name": name, "labels": labels}})
    v1.delete_collection_namespaced_config_map(ns, label_selector="role=drop")
    assert {c.metadata.name for c in v1.list_namespaced_config_map(ns).items} == {"keep", "kube-root-ca.crt"}
