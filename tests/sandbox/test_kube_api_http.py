"""The cluster API's HTTP surface: authentication (kubeconfig tokens, Entra tokens for the AKS server app, 401
otherwise), discovery and OpenAPI for kubectl, content types (JSON without a Content-Type, YAML, protobuf, 415),
malformed bodies (400, never a 500), and Kubernetes paths at the root for `kubectl get --raw`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubernetes.client.exceptions import ApiException

from tests.conftest import Env
from tests.sandbox.kube_api_support import Raw, cluster_path, core_v1, https, make_namespace, record, unique
from wizard.sandbox import Sandbox
from wizard.sandbox.kube import protobuf
from wizard.sandbox.tokens import AKS_SERVER_APP

AGGREGATED = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;"
              "g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")


@pytest.fixture
def rec(sandbox: Sandbox) -> Any:
    return record(sandbox)


def get(box: Sandbox, rec: Any, path: str, token: str | None = "user", **kwargs: Any) -> Raw:
    bearer = rec[f"{token}_token"] if token in {"user", "admin"} else token
    return https(box, "GET", cluster_path(rec, path), token=bearer, **kwargs)


def test_missing_or_wrong_token_is_401_unauthorized_status(sandbox: Sandbox, rec: Any) -> None:
    for token in (None, "not-a-token", record(sandbox, "aks-wi-demo")["user_token"]):
        answer = get(sandbox, rec, "/api/v1/namespaces", token=token)
        assert answer.status == 401, token
        assert answer.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                 "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def test_python_client_with_a_bad_token_raises_unauthorized(sandbox: Sandbox) -> None:
    import yaml
    from kubernetes import client, config
    from kubernetes.client.exceptions import UnauthorizedException

    kubeconfig = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    for user in kubeconfig["users"]:
        user["user"]["token"] = "wrong"
    v1 = client.CoreV1Api(config.new_client_from_config_dict(kubeconfig, context="aks-platform"))
    with pytest.raises(UnauthorizedException) as exc:
        v1.list_namespace()
    assert json.loads(exc.value.body)["reason"] == "Unauthorized"


def test_admin_token_works_and_version_and_health_need_no_token(sandbox: Sandbox, rec: Any) -> None:
    assert get(sandbox, rec, "/api/v1/namespaces/default", token="admin").status == 200
    version = get(sandbox, rec, "/version", token=None).json()
    assert (version["major"], version["minor"], version["gitVersion"]) == ("1", "32", "v1.32.6")
    for path in ("/livez", "/readyz", "/healthz"):
        answer = get(sandbox, rec, path, token=None)
        assert (answer.status, answer.body) == (200, b"ok")


def test_entra_token_for_the_aks_server_app_in_the_cluster_tenant_is_accepted(
        sandbox: Sandbox, env: Env, rec: Any) -> None:
    scope = f"{AKS_SERVER_APP}/.default"
    contoso = env.sp_credential("contoso").get_token(scope).token
    answer = get(sandbox, rec, "/api/v1/namespaces/default", token=contoso)
    assert answer.status == 200 and answer.json()["metadata"]["name"] == "default"
    fabrikam = env.sp_credential("fabrikam").get_token(scope).token
    assert get(sandbox, rec, "/api/v1/namespaces/default", token=fabrikam).status == 401
    arm = env.sp_credential("contoso").get_token("https://management.azure.com/.default").token
    assert get(sandbox, rec, "/api/v1/namespaces/default", token=arm).status == 401


def test_unknown_cluster_and_unknown_resource_are_404_status(sandbox: Sandbox, rec: Any) -> None:
    answer = https(sandbox, "GET", "/k8s/000000000000/api/v1/namespaces", token=rec["user_token"])
    assert answer.status == 404 and answer.json()["reason"] == "NotFound"
    unknown = get(sandbox, rec, "/api/v1/namespaces/default/widgets")
    assert unknown.status == 404
    assert unknown.json()["message"] == "the server could not find the requested resource"


def test_legacy_discovery_answers_plain_json_even_to_aggregated_accept(sandbox: Sandbox, rec: Any) -> None:
    api = get(sandbox, rec, "/api", headers={"Accept": AGGREGATED})
    assert api.headers["Content-Type"] == "application/json"
    assert api.json()["kind"] == "APIVersions" and api.json()["versions"] == ["v1"]
    groups = get(sandbox, rec, "/apis", headers={"Accept": AGGREGATED}).json()
    assert groups["kind"] == "APIGroupList"
    assert [g["name"] for g in groups["groups"]] == ["authentication.k8s.io"]
    assert get(sandbox, rec, "/apis/authentication.k8s.io/v1").json()["groupVersion"] == "authentication.k8s.io/v1"


def test_core_resource_list_announces_kinds_verbs_short_names_and_subresources(sandbox: Sandbox, rec: Any) -> None:
    resources = {r["name"]: r for r in get(sandbox, rec, "/api/v1").json()["resources"]}
    assert set(resources) == {"namespaces", "namespaces/status", "serviceaccounts", "serviceaccounts/token", "pods",
                              "pods/log", "pods/status", "events", "configmaps", "secrets"}
    pods = resources["pods"]
    assert (pods["kind"], pods["namespaced"], pods["shortNames"], pods["categories"]) == \
        ("Pod", True, ["po"], ["all"])
    assert set(pods["verbs"]) == {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
    assert resources["namespaces"]["namespaced"] is False and resources["namespaces"]["shortNames"] == ["ns"]
    assert resources["serviceaccounts"]["shortNames"] == ["sa"] and resources["events"]["shortNames"] == ["ev"]
    token = resources["serviceaccounts/token"]
    assert (token["group"], token["version"], token["kind"], token["verbs"]) == \
        ("authentication.k8s.io", "v1", "TokenRequest", ["create"])


def test_openapi_v3_index_points_at_a_fetchable_document_with_field_validation(sandbox: Sandbox, rec: Any) -> None:
    index = get(sandbox, rec, "/openapi/v3").json()
    url = index["paths"]["api/v1"]["serverRelativeURL"]
    assert url.startswith(f"/k8s/{rec['key']}/openapi/v3/api/v1?hash=")
    document = https(sandbox, "GET", url, token=rec["user_token"]).json()
    patch = document["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert any(p["name"] == "fieldValidation" for p in patch["parameters"])
    assert get(sandbox, rec, "/openapi/v2").status == 404


def test_body_without_content_type_is_json_and_yaml_is_accepted(sandbox: Sandbox, rec: Any) -> None:
    ns = make_namespace(core_v1(sandbox), "http")
    path = cluster_path(rec, f"/api/v1/namespaces/{ns}/configmaps")
    no_type = https(sandbox, "POST", path, token=rec["user_token"], body=b'{"metadata":{"name":"a"}}',
                    headers={"Content-Type": ""})
    assert no_type.status == 201, no_type.body
    yaml_body = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  when: 2026-01-01\n"
    answer = https(sandbox, "POST", path, token=rec["user_token"], body=yaml_body,
                   headers={"Content-Type": "application/yaml"})
    assert answer.status == 201 and answer.json()["data"] == {"when": "2026-01-01"}


def test_bad_bodies_get_400_and_unknown_media_types_415(sandbox: Sandbox, rec: Any) -> None:
    ns = make_namespace(core_v1(sandbox), "http")
    path = cluster_path(rec, f"/api/v1/namespaces/{ns}/configmaps")
    cases: list[tuple[bytes, str, int]] = [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"kind": "Pod", "metadata": {"name": "x"}}', "application/json", 400),
        (b'{"apiVersion": "v2", "metadata": {"name": "x"}}', "application/json", 400),
        (b"a: [unclosed", "application/yaml", 400),
        (b"k8s\x00\x0a\x02garbage", "application/vnd.kubernetes.protobuf", 400),
        (b"plain", "text/plain", 415),
    ]
    for body, content_type, status in cases:
        answer = https(sandbox, "POST", path, token=rec["user_token"], body=body,
                       headers={"Content-Type": content_type})
        assert answer.status == status, (body, answer.body)
        assert answer.json()["kind"] == "Status"
    answer = https(sandbox, "POST", path, token=rec["user_token"], body=b"{not json",
                   headers={"Content-Type": "application/json"})
    assert answer.json()["message"] == ("couldn't get version/kind; json parse error: invalid character 'n' looking "
                                        "for beginning of object key string")
    pod = https(sandbox, "POST", cluster_path(rec, f"/api/v1/namespaces/{ns}/pods"), token=rec["user_token"],
                body=protobuf.MAGIC, headers={"Content-Type": "application/vnd.kubernetes.protobuf"})
    assert pod.status == 415


def test_patch_with_an_unknown_content_type_is_415(sandbox: Sandbox, rec: Any) -> None:
    answer = https(sandbox, "PATCH", cluster_path(rec, "/api/v1/namespaces/default/configmaps/kube-root-ca.crt"),
                   token=rec["user_token"], body=b"{}", headers={"Content-Type": "application/json"})
    assert answer.status == 415 and answer.json()["reason"] == "UnsupportedMediaType"


def test_kubectl_protobuf_creates_of_namespace_service_account_config_map_and_secret(
        sandbox: Sandbox, rec: Any) -> None:
    ns = unique("pb")
    bodies = [
        ("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        (f"/api/v1/namespaces/{ns}/serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {
            "name": "sa", "annotations": {"azure.workload.identity/client-id": "abc"}}}),
        (f"/api/v1/namespaces/{ns}/configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                                 "metadata": {"name": "cm"}, "data": {"k": "v"}}),
        (f"/api/v1/namespaces/{ns}/secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                                              "data": {"k": "dg=="}, "type": "Opaque"}),
    ]
    for path, obj in bodies:
        answer = https(sandbox, "POST", cluster_path(rec, path), token=rec["user_token"], body=protobuf.encode(obj),
                       headers={"Content-Type": "application/vnd.kubernetes.protobuf",
                                "Accept": "application/vnd.kubernetes.protobuf,application/json"})
        assert answer.status == 201, (path, answer.body)
        created = answer.json()
        assert created["metadata"]["name"] == obj["metadata"]["name"]
    v1 = core_v1(sandbox)
    assert v1.read_namespaced_service_account("sa", ns).metadata.annotations == {
        "azure.workload.identity/client-id": "abc"}
    assert v1.read_namespaced_secret("s", ns).data == {"k": "dg=="}


def test_kubernetes_paths_at_the_root_answer_for_the_cluster_of_the_token(sandbox: Sandbox, rec: Any) -> None:
    """`kubectl get --raw /x` drops the server URL's path; the token says which cluster is meant."""
    jwks = https(sandbox, "GET", "/openid/v1/jwks", token=rec["user_token"])
    assert jwks.status == 200 and jwks.json() == get(sandbox, rec, "/openid/v1/jwks").json()
    namespaces = https(sandbox, "GET", "/api/v1/namespaces", token=rec["user_token"]).json()
    assert namespaces["kind"] == "NamespaceList"
    assert https(sandbox, "GET", "/api/v1/namespaces").status == 401


def test_method_not_allowed_is_405(sandbox: Sandbox, rec: Any) -> None:
    answer = https(sandbox, "DELETE", cluster_path(rec, "/api/v1"), token=rec["user_token"])
    assert answer.status == 405 and answer.json()["reason"] == "MethodNotAllowed"


def test_self_subject_review_says_who_the_token_is(sandbox: Sandbox) -> None:
    from kubernetes import client

    review = client.AuthenticationV1Api(core_v1(sandbox).api_client).create_self_subject_review({})
    assert review.status.user_info.username == "masterclient"
    assert "system:masters" in review.status.user_info.groups


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12)
POD_KEYS = st.sampled_from(["metadata", "spec", "status", "kind", "apiVersion"])
SPEC_KEYS = st.sampled_from(["containers", "initContainers", "volumes", "serviceAccountName", "restartPolicy",
                             "nodeName", "tolerations", "terminationGracePeriodSeconds",
                             "automountServiceAccountToken"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(
    json_values,
    st.dictionaries(POD_KEYS, json_values, max_size=4),
    st.fixed_dictionaries({"metadata": st.fixed_dictionaries({"name": st.sampled_from(["fuzz", "Bad", ""])}),
                           "spec": st.dictionaries(SPEC_KEYS, json_values, max_size=4)})))
def test_arbitrary_pod_bodies_never_get_a_server_error(sandbox: Sandbox, rec: Any, body: Any) -> None:
    answer = https(sandbox, "POST", cluster_path(rec, "/api/v1/namespaces/default/pods?dryRun=All"),
                   token=rec["user_token"], body=json.dumps(body).encode())
    assert answer.status < 500, answer.body
    assert answer.json()["kind"] in {"Status", "Pod"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values, content_type=st.sampled_from([
    "application/strategic-merge-patch+json", "application/merge-patch+json", "application/json-patch+json"]))
def test_arbitrary_patches_never_get_a_server_error(sandbox: Sandbox, rec: Any, body: Any, content_type: str) -> None:
    answer = https(sandbox, "PATCH", cluster_path(rec, "/api/v1/namespaces/default/serviceaccounts/default"
                                                       "?dryRun=All"),
                   token=rec["user_token"], body=json.dumps(body).encode(), headers={"Content-Type": content_type})
    assert answer.status < 500, answer.body


def test_client_sees_conflict_exception_type_for_409(sandbox: Sandbox) -> None:
    from kubernetes.client.exceptions import ConflictException

    v1 = core_v1(sandbox)
    with pytest.raises(ConflictException):
        v1.create_namespaced_service_account("default", {"metadata": {"name": "default"}})
    with pytest.raises(ApiException):
        v1.read_namespace(unique("missing"))


def test_version_through_the_python_client_and_the_root_path_list(sandbox: Sandbox, rec: Any) -> None:
    from kubernetes import client

    info = client.VersionApi(core_v1(sandbox).api_client).get_code()
    assert (info.major, info.minor, info.git_version, info.platform) == ("1", "32", "v1.32.6", "linux/amd64")
    paths = get(sandbox, rec, "/").json()["paths"]
    assert {"/api", "/api/v1", "/apis", "/version", "/openapi/v3", "/openid/v1/jwks"} <= set(paths)
