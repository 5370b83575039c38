"""Entra's HTTP surface on the wire: discovery documents, signing keys, and the token endpoint's refusals for
malformed or wrong requests (the real status, `error` and AADSTS code; never a 500)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Env
from tests.sandbox.entra_support import ARM_SCOPE, ASSERTION_TYPE, CLI_CLIENT_ID, post_token, verified_claims
from wizard.sandbox import Sandbox

UNKNOWN_TENANT = "00000000-0000-4000-8000-000000000000"


def get(box: Sandbox, path: str) -> requests.Response:
    return requests.get(box.base_url + path, verify=box.ca_bundle, timeout=10)


def refusal(answer: requests.Response, status: int, error: str, code: int) -> str:
    """Check Entra's error body shape; returns the description."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == error, body
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert {"timestamp", "trace_id", "correlation_id"} <= set(body)
    return str(body["error_description"])


# -- discovery --------------------------------------------------------------------------------------------------

def test_v2_discovery_names_absolute_endpoints_of_the_tenant(env: Env) -> None:
    tid = env.tenant_id("contoso")
    for ref in (tid, "contoso.onmicrosoft.com"):
        doc = get(env.box, f"/{ref}/v2.0/.well-known/openid-configuration").json()
        base = f"{env.box.base_url}/{tid}"
        assert doc["issuer"] == f"{base}/v2.0"
        assert doc["token_endpoint"] == f"{base}/oauth2/v2.0/token"
        assert doc["authorization_endpoint"] == f"{base}/oauth2/v2.0/authorize"
        assert doc["device_authorization_endpoint"] == f"{base}/oauth2/v2.0/devicecode"
        assert doc["end_session_endpoint"] == f"{base}/oauth2/v2.0/logout"
        assert doc["jwks_uri"] == f"{base}/discovery/v2.0/keys"
        assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
        assert "private_key_jwt" in doc["token_endpoint_auth_methods_supported"]
        assert doc["subject_types_supported"] == ["pairwise"]
        assert "code" in doc["response_types_supported"]


@pytest.mark.parametrize("alias", ["organizations", "common"])
def test_multi_tenant_discovery_keeps_the_alias_and_templates_the_issuer(env: Env, alias: str) -> None:
    doc = get(env.box, f"/{alias}/v2.0/.well-known/openid-configuration").json()

    assert doc["token_endpoint"] == f"{env.box.base_url}/{alias}/oauth2/v2.0/token"
    assert doc["issuer"] == f"{env.box.base_url}/{{tenantid}}/v2.0"


def test_v1_discovery_uses_the_sts_issuer(env: Env) -> None:
    tid = env.tenant_id("fabrikam")
    doc = get(env.box, f"/{tid}/.well-known/openid-configuration").json()

    assert doc["issuer"] == f"https://sts.windows.net/{tid}/"
    assert doc["token_endpoint"] == f"{env.box.base_url}/{tid}/oauth2/token"
    assert doc["jwks_uri"] == f"{env.box.base_url}/common/discovery/keys"


@pytest.mark.parametrize("path", ["/{tid}/discovery/v2.0/keys", "/{tid}/discovery/keys", "/common/discovery/keys"])
def test_published_keys_verify_issued_tokens(env: Env, path: str) -> None:
    token = env.sp_credential("contoso").get_token(ARM_SCOPE).token
    keys = get(env.box, path.format(tid=env.tenant_id("contoso"))).json()["keys"]

    assert all(k["kty"] == "RSA" and k["alg"] == "RS256" and k["use"] == "sig" for k in keys)
    assert verified_claims(env.box, token, "https://management.azure.com")["tid"] == env.tenant_id("contoso")


@pytest.mark.parametrize("path", ["/{t}/v2.0/.well-known/openid-configuration", "/{t}/discovery/v2.0/keys"])
def test_unknown_tenant_metadata_is_tenant_not_found(env: Env, path: str) -> None:
    description = refusal(get(env.box, path.format(t=UNKNOWN_TENANT)), 400, "invalid_tenant", 90002)

    assert description.startswith(
        f"AADSTS90002: Tenant '{UNKNOWN_TENANT}' not found. Check to make sure you have the correct tenant ID and "
        "are signing into the correct cloud. Check with your subscription administrator, this may happen if there "
        "are no active subscriptions for the tenant.")


def test_short_tenant_names_are_not_tenants(env: Env) -> None:
    refusal(get(env.box, "/contoso/v2.0/.well-known/openid-configuration"), 400, "invalid_tenant", 90002)


def test_unknown_path_is_not_found(env: Env) -> None:
    assert get(env.box, "/nothing/here/at/all").status_code == 404


# -- the token endpoint: request checks -------------------------------------------------------------------------

def sp_form(env: Env, tenant: str = "contoso", **overrides: str) -> dict[str, str]:
    sp = env.tenants[tenant]["service_principal"]
    form = {"grant_type": "client_credentials", "client_id": sp["client_id"], "client_secret": sp["client_secret"],
            "scope": ARM_SCOPE}
    form.update(overrides)
    return {k: v for k, v in form.items() if v != "<omit>"}


def test_get_on_the_token_endpoint_is_post_only(env: Env) -> None:
    refusal(get(env.box, f"/{env.tenant_id('contoso')}/oauth2/v2.0/token"), 400, "invalid_request", 900561)


def test_unknown_tenant_at_the_token_endpoint_is_invalid_request(env: Env) -> None:
    refusal(post_token(env.box, UNKNOWN_TENANT, sp_form(env)), 400, "invalid_request", 90002)


def test_json_body_carries_no_form_parameters(env: Env) -> None:
    answer = requests.post(f"{env.box.base_url}/{env.tenant_id('contoso')}/oauth2/v2.0/token",
                           json=sp_form(env), verify=env.ca, timeout=10)

    assert "'grant_type'" in refusal(answer, 400, "invalid_request", 900144)


@pytest.mark.parametrize("missing", ["grant_type", "client_id", "scope"])
def test_missing_parameter_is_named(env: Env, missing: str) -> None:
    answer = post_token(env.box, env.tenant_id("contoso"), sp_form(env, **{missing: "<omit>"}))

    description = refusal(answer, 400, "invalid_request", 900144)
    assert f"The request body must contain the following parameter: '{missing}'." in description


def test_repeated_parameter_is_refused(env: Env) -> None:
    body = "grant_type=client_credentials&client_id=a&client_id=b&scope=x"
    answer = requests.post(f"{env.box.base_url}/{env.tenant_id('contoso')}/oauth2/v2.0/token", data=body,
                           headers={"Content-Type": "application/x-www-form-urlencoded"}, verify=env.ca, timeout=10)

    assert "'client_id' is duplicated" in refusal(answer, 400, "invalid_request", 9000411)


def test_unknown_grant_type_is_unsupported(env: Env) -> None:
    answer = post_token(env.box, env.tenant_id("contoso"), sp_form(env, grant_type="password"))

    refusal(answer, 400, "unsupported_grant_type", 70003)


def test_client_credentials_need_a_tenant_not_an_alias(env: Env) -> None:
    refusal(post_token(env.box, "organizations", sp_form(env)), 400, "invalid_request", 50059)


@pytest.mark.parametrize(("scope", "error", "code"), [
    ("https://management.azure.com/user_impersonation", "invalid_scope", 1002012),
    ("https://vault.azure.net/.default", "invalid_resource", 500011),
    ("https://management.azure.com/.default https://graph.microsoft.com/.default", "invalid_scope", 28000),
    ("https://management.azure.com", "invalid_scope", 70011),
])
def test_scopes_entra_would_not_grant_are_refused(env: Env, scope: str, error: str, code: int) -> None:
    refusal(post_token(env.box, env.tenant_id("contoso"), sp_form(env, scope=scope)), 400, error, code)


def test_client_secret_may_come_in_http_basic_authentication(env: Env) -> None:
    form = sp_form(env, "fabrikam")
    client_id, secret = form.pop("client_id"), form.pop("client_secret")

    answer = requests.post(f"{env.box.base_url}/{env.tenant_id('fabrikam')}/oauth2/v2.0/token", data=form,
                           auth=(client_id, secret), verify=env.ca, timeout=10)

    assert answer.status_code == 200, answer.text
    assert verified_claims(env.box, answer.json()["access_token"], "https://management.azure.com")["appid"] == \
        client_id


def test_client_credentials_without_a_credential_are_refused(env: Env) -> None:
    refusal(post_token(env.box, env.tenant_id("contoso"), sp_form(env, client_secret="<omit>")),
            401, "invalid_client", 7000218)


def test_malformed_client_assertion_is_refused(env: Env) -> None:
    identity_tenant = env.tenant_id("contoso")
    sp = env.tenants["contoso"]["service_principal"]
    form = {"grant_type": "client_credentials", "client_id": sp["client_id"], "scope": ARM_SCOPE,
            "client_assertion_type": ASSERTION_TYPE, "client_assertion": "definitely.not.a-jwt"}

    refusal(post_token(env.box, identity_tenant, form), 400, "invalid_request", 50027)
    refusal(post_token(env.box, identity_tenant, {**form, "client_assertion_type": "urn:other"}),
            400, "invalid_request", 50012)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300))
def test_arbitrary_bodies_never_make_the_token_endpoint_fail(env: Env, body: bytes) -> None:
    answer = requests.post(f"{env.box.base_url}/{env.tenant_id('contoso')}/oauth2/v2.0/token", data=body,
                           headers={"Content-Type": "application/x-www-form-urlencoded"}, verify=env.ca, timeout=10)

    assert answer.status_code in {400, 401}
    assert answer.json()["error_description"].startswith("AADSTS")


# -- device code and refresh token on the wire -------------------------------------------------------------------

def start_device_code(env: Env, tenant: str, **form: str) -> requests.Response:
    return post_token(env.box, env.tenant_id(tenant),
                      {"client_id": CLI_CLIENT_ID, "scope": f"{ARM_SCOPE} offline_access openid profile", **form},
                      route="devicecode")


def test_devicecode_answer_points_at_the_sandbox_page(env: Env) -> None:
    answer = start_device_code(env, "contoso").json()

    uri = f"{env.box.base_url}/devicelogin"
    assert answer["verification_uri"] == uri
    assert answer["expires_in"] == 900
    assert answer["interval"] == env.box.world.settings.device_code_interval
    assert answer["message"] == (f"To sign in, use a web browser to open the page {uri} and enter the code "
                                 f"{answer['user_code']} to authenticate.")


def test_devicecode_for_unknown_or_confidential_clients_is_refused(env: Env) -> None:
    refusal(start_device_code(env, "contoso", client_id="c0ffee00-0000-4000-8000-000000000000"),
            400, "unauthorized_client", 700016)
    sp = env.tenants["contoso"]["service_principal"]
    refusal(start_device_code(env, "contoso", client_id=sp["client_id"]), 401, "invalid_client", 7000218)


def test_unknown_device_code_and_refresh_token_are_invalid_grants(env: Env) -> None:
    tid = env.tenant_id("contoso")
    refusal(post_token(env.box, tid, {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                                      "client_id": CLI_CLIENT_ID, "device_code": "made-up"}),
            400, "invalid_grant", 9002313)
    refusal(post_token(env.box, tid, {"grant_type": "refresh_token", "client_id": CLI_CLIENT_ID,
                                      "refresh_token": "made-up", "scope": ARM_SCOPE}),
            400, "invalid_grant", 9002313)


def poll_until_signed_in(env: Env, device_code: str) -> dict[str, Any]:
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": CLI_CLIENT_ID,
            "device_code": device_code}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        answer = post_token(env.box, env.tenant_id("contoso"), form)
        if answer.status_code == 200:
            return dict(answer.json())
        refusal(answer, 400, "authorization_pending", 70016)
        time.sleep(0.2)
    raise AssertionError("the device code was never approved")


def test_user_token_answer_has_what_msal_needs_and_refresh_tokens_rotate(env: Env) -> None:
    started = start_device_code(env, "contoso").json()
    signed_in = poll_until_signed_in(env, started["device_code"])

    assert signed_in["scope"] == f"{ARM_SCOPE} openid profile offline_access"
    assert signed_in["token_type"] == "Bearer" and signed_in["expires_in"] == signed_in["ext_expires_in"]
    id_claims = verified_claims(env.box, signed_in["id_token"], CLI_CLIENT_ID)
    assert id_claims["iss"] == f"{env.box.base_url}/{env.tenant_id('contoso')}/v2.0"
    assert id_claims["preferred_username"] == "alex@contoso.onmicrosoft.com"
    assert {"sub", "oid", "tid", "name", "exp", "iat", "nbf"} <= set(id_claims)
    padded = signed_in["client_info"] + "=" * (-len(signed_in["client_info"]) % 4)
    info = json.loads(base64.urlsafe_b64decode(padded))
    assert info == {"uid": id_claims["oid"], "utid": env.tenant_id("contoso")}

    refreshed = post_token(env.box, env.tenant_id("contoso"), {
        "grant_type": "refresh_token", "client_id": CLI_CLIENT_ID, "refresh_token": signed_in["refresh_token"],
        "scope": "https://management.core.windows.net//.default offline_access openid profile"}).json()
    assert refreshed["refresh_token"] != signed_in["refresh_token"]
    assert verified_claims(env.box, refreshed["access_token"], "https://management.core.windows.net/")["upn"] == \
        "alex@contoso.onmicrosoft.com"
    # The polls after approval: the code is spent.
    spent = post_token(env.box, env.tenant_id("contoso"), {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": CLI_CLIENT_ID,
        "device_code": started["device_code"]})
    refusal(spent, 400, "invalid_grant", 70000)


def test_refresh_tokens_and_device_codes_are_stored_hashed_and_never_logged(env: Env) -> None:
    started = start_device_code(env, "contoso").json()
    signed_in = poll_until_signed_in(env, started["device_code"])
    world = env.box.world

    stored = json.dumps({c: world.store.items(c) for c in ("refresh_tokens", "device_codes")})
    assert signed_in["refresh_token"] not in stored and started["device_code"] not in stored
    assert hashlib.sha256(signed_in["refresh_token"].encode()).hexdigest() in world.store.keys("refresh_tokens")
    log = (env.box.state_dir / "sandbox.log").read_text()
    for secret in (signed_in["refresh_token"], signed_in["access_token"], started["device_code"]):
        assert secret not in log
