"""TokenRequest and the cluster's OIDC issuer: tokens verified with PyJWT against the JWKS fetched from the public
issuer over HTTPS without credentials, `iss` equal to the issuer URL ARM reports, the internal issuer before
OIDC is enabled, and the errors kube-apiserver gives for bad requests."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from kubernetes.client.exceptions import ApiException

from tests.conftest import Env
from tests.sandbox.kube_api_support import (
    DEMO,
    PLATFORM,
    cluster_path,
    core_v1,
    foreign_pod,
    https,
    record,
    status_of,
    temporary_namespace,
)
from wizard.sandbox import Sandbox, clusters
from wizard.sandbox.kube import protobuf

AUDIENCE = "api://AzureADTokenExchange"


@pytest.fixture
def ns(v1: Any) -> Iterator[str]:
    with temporary_namespace(v1, "tok") as name:
        v1.create_namespaced_service_account(name, {"metadata": {"name": "wi-demo-account"}})
        yield name


def arm_issuer(env: Env, resource_group: str, name: str) -> str | None:
    from azure.mgmt.containerservice import ContainerServiceClient

    aks = ContainerServiceClient(env.sp_credential("contoso"), env.subscription_id("contoso"), **env.client_kwargs())
    profile = aks.managed_clusters.get(resource_group, name).oidc_issuer_profile
    return profile.issuer_url if profile is not None and profile.enabled else None


def public_json(box: Sandbox, url: str) -> tuple[Any, str]:
    """GET an absolute sandbox URL with no credentials at all; (JSON, Content-Type)."""
    assert url.startswith(box.base_url + "/")
    answer = https(box, "GET", url.removeprefix(box.base_url))
    assert answer.status == 200, (url, answer.status, answer.body)
    return answer.json(), answer.headers["Content-Type"]


def verified(box: Sandbox, token: str, issuer: str, audience: str) -> dict[str, Any]:
    """Verify like a relying party (Entra): discovery → JWKS → kid → RS256 signature, issuer, audience."""
    config, _ = public_json(box, issuer + ".well-known/openid-configuration")
    jwks, content_type = public_json(box, config["jwks_uri"])
    assert content_type.startswith("application/jwk-set+json")
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == kid)
    claims: dict[str, Any] = jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=issuer)
    return claims


def test_token_request_is_signed_by_the_issuer_arm_reports(sandbox: Sandbox, env: Env, v1: Any, ns: str) -> None:
    issuer = arm_issuer(env, "rg-platform", PLATFORM)
    assert issuer is not None and issuer.endswith("/")
    assert issuer == clusters.issuer_url(sandbox.world, record(sandbox))

    answer = v1.create_namespaced_service_account_token("wi-demo-account", ns, {
        "spec": {"audiences": [AUDIENCE], "expirationSeconds": 3600}})
    claims = verified(sandbox, answer.status.token, issuer, AUDIENCE)
    assert claims["iss"] == issuer
    assert claims["sub"] == f"system:serviceaccount:{ns}:wi-demo-account"
    assert claims["aud"] == [AUDIENCE]
    assert claims["exp"] - claims["iat"] == 3600 and claims["nbf"] == claims["iat"]
    assert claims["jti"]
    sa = v1.read_namespaced_service_account("wi-demo-account", ns)
    assert claims["kubernetes.io"] == {"namespace": ns, "serviceaccount": {"name": "wi-demo-account",
                                                                           "uid": sa.metadata.uid}}
    assert answer.kind == "TokenRequest" and answer.api_version == "authentication.k8s.io/v1"
    assert answer.spec.audiences == [AUDIENCE] and answer.spec.expiration_seconds == 3600
    expires = answer.status.expiration_timestamp.timestamp()
    assert abs(expires - claims["exp"]) < 1


def test_issuer_discovery_is_public_and_points_at_an_absolute_jwks_uri(sandbox: Sandbox) -> None:
    issuer = clusters.issuer_url(sandbox.world, record(sandbox))
    assert issuer is not None
    config, content_type = public_json(sandbox, issuer + ".well-known/openid-configuration")
    assert content_type.startswith("application/json")
    assert config == {"issuer": issuer, "jwks_uri": issuer + "openid/v1/jwks",
                      "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
                      "id_token_signing_alg_values_supported": ["RS256"]}
    jwks, _ = public_json(sandbox, config["jwks_uri"])
    [key] = jwks["keys"]
    assert (key["kty"], key["alg"], key["use"], key["e"]) == ("RSA", "RS256", "sig", "AQAB")


def test_unknown_or_disabled_issuer_paths_are_404(sandbox: Sandbox) -> None:
    demo = record(sandbox, DEMO)
    for path in (f"/oic/{demo['location']}/{demo['tenant_id']}/00000000-0000-0000-0000-000000000000/"
                 ".well-known/openid-configuration", "/oic/nowhere/openid/v1/jwks"):
        assert https(sandbox, "GET", path).status == 404, path


def test_default_audience_is_the_issuer_and_bound_pod_tokens_name_pod_and_node(
        sandbox: Sandbox, v1: Any, ns: str) -> None:
    pod = v1.create_namespaced_pod(ns, foreign_pod("bound", serviceAccountName="wi-demo-account"))
    answer = v1.create_namespaced_service_account_token("wi-demo-account", ns, {"spec": {
        "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "bound", "uid": pod.metadata.uid}}})
    claims = jwt.decode(answer.status.token, options={"verify_signature": False})
    issuer = clusters.issuer_url(sandbox.world, record(sandbox))
    assert claims["aud"] == [issuer] and answer.spec.audiences == [issuer]
    assert claims["kubernetes.io"]["pod"] == {"name": "bound", "uid": pod.metadata.uid}
    assert "node" not in claims["kubernetes.io"], "the pod's node does not exist"

    scheduled = v1.create_namespaced_pod(ns, {"metadata": {"name": "scheduled"}, "spec": {
        "serviceAccountName": "wi-demo-account", "containers": [{"name": "app", "image": "busybox:1.36"}]}})
    node = v1.read_namespaced_pod("scheduled", ns).spec.node_name
    answer = v1.create_namespaced_service_account_token("wi-demo-account", ns, {"spec": {
        "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "scheduled", "uid": scheduled.metadata.uid}}})
    claims = jwt.decode(answer.status.token, options={"verify_signature": False})
    assert claims["kubernetes.io"]["node"]["name"] == node and claims["kubernetes.io"]["node"]["uid"]


def test_token_request_errors_match_kube_apiserver(v1: Any, ns: str) -> None:
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_service_account_token("nobody", ns, {"spec": {"audiences": [AUDIENCE]}})
    assert (exc.value.status, status_of(exc.value)["message"]) == (404, 'serviceaccounts "nobody" not found')

    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_service_account_token("wi-demo-account", ns, {"spec": {"audiences": [AUDIENCE],
                                                                                     "expirationSeconds": 599}})
    body = status_of(exc.value)
    assert (exc.value.status, body["reason"]) == (422, "Invalid")
    assert body["message"] == ('TokenRequest.authentication.k8s.io "wi-demo-account" is invalid: '
                               "spec.expirationSeconds: Invalid value: 599: may not specify a duration less than "
                               "10 minutes")

    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_service_account_token("wi-demo-account", ns, {"spec": {
            "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "ghost"}}})
    assert (exc.value.status, status_of(exc.value)["message"]) == (404, 'pods "ghost" not found')

    v1.create_namespaced_pod(ns, foreign_pod("recreated", serviceAccountName="wi-demo-account"))
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_service_account_token("wi-demo-account", ns, {"spec": {"boundObjectRef": {
            "kind": "Pod", "apiVersion": "v1", "name": "recreated", "uid": "00000000-0000-0000-0000-000000000000"}}})
    body = status_of(exc.value)
    assert (exc.value.status, body["reason"]) == (409, "Conflict")
    assert "The object might have been deleted and then recreated" in body["message"]


def test_expiration_beyond_48_hours_is_clamped(v1: Any, ns: str) -> None:
    answer = v1.create_namespaced_service_account_token("wi-demo-account", ns, {"spec": {
        "audiences": [AUDIENCE], "expirationSeconds": 7 * 24 * 3600}})
    claims = jwt.decode(answer.status.token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 48 * 3600
    assert answer.spec.expiration_seconds == 48 * 3600


def test_kubectl_style_protobuf_token_request_is_decoded(sandbox: Sandbox, ns: str) -> None:
    rec = record(sandbox)
    body = protobuf.encode({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                            "metadata": {"name": "wi-demo-account", "namespace": ns},
                            "spec": {"audiences": [AUDIENCE], "expirationSeconds": 3600}})
    answer = https(sandbox, "POST", cluster_path(rec, f"/api/v1/namespaces/{ns}/serviceaccounts/wi-demo-account/token"),
                   token=rec["user_token"], body=body,
                   headers={"Content-Type": "application/vnd.kubernetes.protobuf",
                            "Accept": "application/vnd.kubernetes.protobuf,application/json"})
    assert answer.status == 201, answer.body
    assert answer.headers["Content-Type"] == "application/json"
    token = answer.json()["status"]["token"]
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == [AUDIENCE]


def test_in_cluster_issuer_documents_through_the_python_client(sandbox: Sandbox, v1: Any) -> None:
    from kubernetes import client

    api = v1.api_client
    config = client.WellKnownApi(api).get_service_account_issuer_open_id_configuration(_preload_content=False)
    document = json.loads(config.data)
    assert document["issuer"] == clusters.issuer_url(sandbox.world, record(sandbox))
    assert document["jwks_uri"] == clusters.server_url(sandbox.world, record(sandbox)) + "/openid/v1/jwks"
    keys = client.OpenidApi(api).get_service_account_issuer_open_id_keyset(_preload_content=False)
    assert keys.headers["Content-Type"] == "application/jwk-set+json"
    public, _ = public_json(sandbox, document["issuer"] + "openid/v1/jwks")
    assert json.loads(keys.data) == public


def test_internal_issuer_before_oidc_then_public_issuer_with_the_same_key(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> None:
    box = make_sandbox()
    env = make_env(box)
    v1 = core_v1(box, DEMO)
    assert arm_issuer(env, "rg-wi-demo", DEMO) is None
    v1.create_namespaced_service_account("default", {"metadata": {"name": "wi-demo-account"}})
    before = v1.create_namespaced_service_account_token("wi-demo-account", "default", {
        "spec": {"audiences": [AUDIENCE]}}).status.token
    assert jwt.decode(before, options={"verify_signature": False})["iss"] == \
        "https://kubernetes.default.svc.cluster.local"
    rec = record(box, DEMO)
    internal = https(box, "GET", cluster_path(rec, "/.well-known/openid-configuration"), token=rec["user_token"])
    assert internal.json()["issuer"] == "https://kubernetes.default.svc.cluster.local"

    from azure.mgmt.containerservice import ContainerServiceClient
    from azure.mgmt.containerservice.models import ManagedClusterOIDCIssuerProfile

    aks = ContainerServiceClient(env.sp_credential("contoso"), env.subscription_id("contoso"), **env.client_kwargs())
    mc = aks.managed_clusters.get("rg-wi-demo", DEMO)
    mc.oidc_issuer_profile = ManagedClusterOIDCIssuerProfile(enabled=True)
    issuer = aks.managed_clusters.begin_create_or_update("rg-wi-demo", DEMO, mc).result().oidc_issuer_profile.issuer_url
    assert issuer == arm_issuer(env, "rg-wi-demo", DEMO)

    deadline = time.monotonic() + 10
    while True:
        after = v1.create_namespaced_service_account_token("wi-demo-account", "default", {
            "spec": {"audiences": [AUDIENCE]}}).status.token
        if jwt.decode(after, options={"verify_signature": False})["iss"] == issuer or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert verified(box, after, issuer, AUDIENCE)["iss"] == issuer
    assert jwt.get_unverified_header(after)["kid"] == jwt.get_unverified_header(before)["kid"]


def test_token_review_authenticates_the_clusters_own_tokens(sandbox: Sandbox, v1: Any, ns: str) -> None:
    from kubernetes import client

    token = v1.create_namespaced_service_account_token("wi-demo-account", ns, {"spec": {}}).status.token
    auth = client.AuthenticationV1Api(v1.api_client)
    review = auth.create_token_review({"spec": {"token": token}})
    assert review.status.authenticated is True
    assert review.status.user.username == f"system:serviceaccount:{ns}:wi-demo-account"
    assert f"system:serviceaccounts:{ns}" in review.status.user.groups
    forged = auth.create_token_review({"spec": {"token": token[:-4] + "AAAA"}})
    assert forged.status.authenticated is False


def test_service_account_tokens_are_api_credentials_only_for_the_api_audience(
        sandbox: Sandbox, v1: Any, ns: str) -> None:
    from kubernetes import client

    rec = record(sandbox)
    api_token = v1.create_namespaced_service_account_token("wi-demo-account", ns, {"spec": {}}).status.token
    answer = https(sandbox, "GET", cluster_path(rec, f"/api/v1/namespaces/{ns}/serviceaccounts"), token=api_token)
    assert answer.status == 200
    federated = v1.create_namespaced_service_account_token("wi-demo-account", ns, {
        "spec": {"audiences": [AUDIENCE]}}).status.token
    assert https(sandbox, "GET", cluster_path(rec, "/api/v1/namespaces"), token=federated).status == 401
    review = client.AuthenticationV1Api(v1.api_client).create_token_review(
        {"spec": {"token": federated, "audiences": [AUDIENCE]}})
    assert review.status.authenticated is True and review.status.audiences == [AUDIENCE]

    v1.delete_namespaced_service_account("wi-demo-account", ns)
    assert https(sandbox, "GET", cluster_path(rec, "/api/v1/namespaces"), token=api_token).status == 401, \
        "a deleted ServiceAccount's tokens stop working"
