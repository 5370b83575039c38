"""Generic ARM behaviour every call gets: api-version, bearer-token checks (missing, expired, forged, wrong
audience, wrong tenant), subscription checks, case-insensitive paths, malformed input, unknown types,
provider registration, and paging — seen through the real SDKs and azure-core's pipeline."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import jwt
import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import Env
from tests.sandbox.arm_support import StaticToken, anonymous, arm, error_code, wait_until
from wizard.sandbox import Sandbox, directory, tokens
from wizard.sandbox.keys import SigningKey


def _token(env: Env, **overrides: object) -> str:
    """An ARM token for contoso's service principal as Entra would sign it, with some claims changed."""
    world = env.box.world
    assert world is not None
    app = next(a for a in world.store.values("apps") if a["tenant_id"] == env.tenant_id("contoso"))
    principal = directory.principal(world, app["object_id"])
    assert principal is not None
    token, _ = tokens.issue(world, principal, "https://management.azure.com")
    claims = {**jwt.decode(token, options={"verify_signature": False}), **overrides}
    return world.key(tokens.ENTRA_KEY).sign(claims)


def test_request_without_api_version_is_refused_with_missing_api_version_parameter(env: Env) -> None:
    contoso = arm(env, "contoso")
    response = contoso.raw("GET", f"{contoso.sub_scope}/resourcegroups", api_version=None)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "MissingApiVersionParameter",
        "message": "The api-version query parameter (?api-version=) is required for all requests."}


@pytest.mark.parametrize("api_version", ["2016-06-01", "2025-05-31-preview", "1999-12-31"])
def test_any_api_version_is_accepted(env: Env, api_version: str) -> None:
    contoso = arm(env, "contoso")
    response = contoso.raw("GET", f"{contoso.sub_scope}/resourcegroups/rg-wi-demo", api_version=api_version)
    assert response.status_code == 200
    assert response.json()["name"] == "rg-wi-demo"


def test_paths_match_case_insensitively_and_names_keep_their_casing(env: Env) -> None:
    contoso = arm(env, "contoso")
    response = contoso.raw("GET", f"/SUBSCRIPTIONS/{contoso.subscription_id}/ResourceGroups/RG-WI-DEMO")
    assert response.status_code == 200
    assert response.json()["name"] == "rg-wi-demo"


def test_missing_authorization_header_names_the_subscription_tenant_in_www_authenticate(env: Env) -> None:
    sid = env.subscription_id("fabrikam")
    response = anonymous(env.box)("GET", f"/subscriptions/{sid}/resourcegroups", **{"api-version": "2025-04-01"})
    assert response.status_code == 401
    assert response.json()["error"] == {"code": "AuthenticationFailed",
                                        "message": "Authentication failed. The 'Authorization' header is missing."}
    challenge = response.headers["WWW-Authenticate"]
    assert f'authorization_uri="https://login.windows.net/{env.tenant_id("fabrikam")}"' in challenge
    assert 'error="invalid_token"' in challenge


def test_expired_token_is_refused_with_expired_authentication_token(env: Env) -> None:
    past = int(time.time()) - 7200
    client = arm(env, "contoso", StaticToken(_token(env, iat=past, nbf=past, exp=past + 3600))).resources()
    with pytest.raises(ClientAuthenticationError) as caught:
        client.resource_groups.get("rg-wi-demo")
    assert error_code(caught.value) == "ExpiredAuthenticationToken"
    assert "is earlier than current UTC time" in caught.value.error.message


def test_token_for_another_resource_is_refused_with_invalid_audience(env: Env) -> None:
    graph_token = env.sp_credential("contoso").get_token("https://graph.microsoft.com/.default").token
    client = arm(env, "contoso", StaticToken(graph_token)).resources()
    with pytest.raises(ClientAuthenticationError) as caught:
        client.resource_groups.get("rg-wi-demo")
    assert error_code(caught.value) == "InvalidAuthenticationTokenAudience"


@pytest.mark.parametrize("kind", ["foreign-key", "garbage"])
def test_forged_or_garbage_token_is_refused_with_invalid_authentication_token(env: Env, kind: str) -> None:
    if kind == "garbage":
        token = "not.a.token"
    else:
        claims = jwt.decode(_token(env), options={"verify_signature": False})
        token = SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=2048)).sign(claims)
    client = arm(env, "contoso", StaticToken(token)).resources()
    with pytest.raises(ClientAuthenticationError) as caught:
        client.resource_groups.get("rg-wi-demo")
    assert error_code(caught.value) == "InvalidAuthenticationToken"


def test_wrong_tenant_token_is_refused_with_invalid_authentication_token_tenant(env: Env) -> None:
    contoso_on_fabrikam = arm(env, "fabrikam", env.sp_credential("contoso"))
    with pytest.raises(ClientAuthenticationError) as caught:
        list(contoso_on_fabrikam.resources().resource_groups.list())
    assert error_code(caught.value) == "InvalidAuthenticationTokenTenant"
    owner = env.tenant_id("fabrikam")
    assert (f"It must match the tenant 'https://sts.windows.net/{owner}/' associated with this subscription"
            in caught.value.error.message)
    raw = contoso_on_fabrikam.raw("GET", f"{contoso_on_fabrikam.sub_scope}/resourcegroups")
    assert raw.headers["WWW-Authenticate"] == (
        f'Bearer authorization_uri="https://login.windows.net/{owner}", error="invalid_token", '
        'error_description="The access token is from the wrong issuer."')


def test_unknown_subscription_is_subscription_not_found(env: Env) -> None:
    missing = str(uuid.uuid4())
    client = arm(env, "contoso")
    client.subscription_id = missing
    with pytest.raises(ResourceNotFoundError) as caught:
        client.resources().resource_groups.get("rg-wi-demo")
    assert error_code(caught.value) == "SubscriptionNotFound"
    assert caught.value.error.message == f"The subscription '{missing}' could not be found."


def test_malformed_subscription_id_is_invalid_subscription_id(env: Env) -> None:
    response = arm(env, "contoso").raw("GET", "/subscriptions/not-a-guid/resourcegroups")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidSubscriptionId"


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_malformed_json_is_invalid_request_content(env: Env, content: bytes) -> None:
    contoso = arm(env, "contoso")
    response = contoso.raw("PUT", f"{contoso.sub_scope}/resourcegroups/rg-malformed", content=content,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidRequestContent"


def test_unknown_namespace_is_no_registered_provider_found(env: Env) -> None:
    contoso = arm(env, "contoso")
    response = contoso.raw("GET", f"{contoso.sub_scope}/providers/Microsoft.Nonexistent/widgets")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "NoRegisteredProviderFound"


@pytest.mark.parametrize(("method", "status"), [("GET", 404), ("PUT", 400)])
def test_unknown_type_of_a_known_namespace_is_invalid_resource_type(env: Env, method: str, status: int) -> None:
    contoso = arm(env, "contoso")
    response = contoso.raw(method, f"{contoso.sub_scope}/resourceGroups/rg-wi-demo/providers/"
                                   "Microsoft.ContainerService/widgets/w1", json={} if method == "PUT" else None)
    assert response.status_code == status
    assert response.json()["error"]["code"] == "InvalidResourceType"
    assert "could not be found in the namespace 'Microsoft.ContainerService'" in response.json()["error"]["message"]


def test_unregistered_namespace_is_missing_subscription_registration(env: Env) -> None:
    contoso = arm(env, "contoso")
    response = contoso.raw("GET", f"{contoso.sub_scope}/resourceGroups/rg-wi-demo/providers/"
                                  "Microsoft.KubernetesConfiguration/extensions")
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "MissingSubscriptionRegistration",
        "message": "The subscription is not registered to use namespace 'Microsoft.KubernetesConfiguration'. "
                   "See https://aka.ms/rps-not-found for how to register subscriptions."}


def test_unsupported_method_is_refused_with_405(env: Env) -> None:
    contoso = arm(env, "contoso")
    response = contoso.raw("PATCH", contoso.sub_scope, json={})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "MethodNotAllowed"


def test_lists_come_in_pages_linked_by_absolute_next_links(env: Env) -> None:
    contoso = arm(env, "contoso")
    first = contoso.raw("GET", f"{contoso.sub_scope}/providers/Microsoft.Authorization/roleDefinitions",
                        api_version="2022-04-01").json()
    assert len(first["value"]) == 2
    assert first["nextLink"].startswith(env.box.base_url + f"{contoso.sub_scope}/providers/")
    assert "$skiptoken=2" in first["nextLink"]
    names = [d.role_name for d in contoso.authorization().role_definitions.list(contoso.sub_scope)]
    assert len(names) == len(set(names)) > 10
    assert {"Owner", "Contributor", "Reader"} <= set(names)


def test_bad_skip_token_is_refused_not_crashed(env: Env) -> None:
    contoso = arm(env, "contoso")
    response = contoso.raw("GET", f"{contoso.sub_scope}/resourcegroups?$skiptoken=abc")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidSkipToken"


def test_provider_registration_goes_from_registering_to_registered(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> None:
    box_env = make_env(make_sandbox(lro_seconds=0.3))
    providers = arm(box_env, "contoso").resources().providers
    assert providers.get("Microsoft.KubernetesConfiguration").registration_state == "NotRegistered"
    assert providers.register("Microsoft.KubernetesConfiguration").registration_state == "Registering"
    assert wait_until(lambda: providers.get("Microsoft.KubernetesConfiguration").registration_state == "Registered")
    contoso = arm(box_env, "contoso")
    response = contoso.raw("GET", f"{contoso.sub_scope}/resourceGroups/rg-wi-demo/providers/"
                                  "Microsoft.KubernetesConfiguration/extensions")
    assert response.json()["error"]["code"] == "InvalidResourceType"  # registered now: the type is what's missing
    assert providers.unregister("Microsoft.KubernetesConfiguration").registration_state == "Unregistering"
    assert wait_until(lambda: providers.get("Microsoft.KubernetesConfiguration").registration_state
                      == "NotRegistered")


def test_providers_list_and_get_describe_namespaces(env: Env) -> None:
    providers = arm(env, "contoso").resources().providers
    listed = {p.namespace: p.registration_state for p in providers.list()}
    assert listed["Microsoft.ContainerService"] == "Registered"
    assert listed["Microsoft.KubernetesConfiguration"] == "NotRegistered"
    aks = providers.get("Microsoft.ContainerService")
    types = {t.resource_type: t for t in aks.resource_types}
    assert "East US" in types["managedClusters"].locations
    with pytest.raises(HttpResponseError) as caught:
        providers.get("Microsoft.Nonexistent")
    assert error_code(caught.value) == "InvalidResourceNamespace"
