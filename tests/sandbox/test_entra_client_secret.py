"""Service principals signing in with a client secret through azure-identity's ClientSecretCredential (MSAL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientAssertionCredential, ClientSecretCredential

from tests.conftest import Env
from tests.sandbox.entra_support import ARM_SCOPE, quiet_env, verified_claims
from wizard.sandbox import directory, tokens


@pytest.mark.parametrize("tenant", ["contoso", "fabrikam"])
def test_service_principal_gets_an_arm_token_in_its_home_tenant(env: Env, tenant: str) -> None:
    sp = env.tenants[tenant]["service_principal"]
    app = directory.app(env.box.world, sp["client_id"])
    assert app is not None

    token = env.sp_credential(tenant).get_token(ARM_SCOPE)

    claims = verified_claims(env.box, token.token, "https://management.azure.com")
    assert claims["tid"] == env.tenant_id(tenant)
    assert claims["oid"] == app["object_id"]
    assert claims["appid"] == sp["client_id"]
    assert claims["idtyp"] == "app"


def test_tenant_may_be_named_by_its_verified_domain(env: Env) -> None:
    sp = env.tenants["contoso"]["service_principal"]
    credential = ClientSecretCredential("contoso.onmicrosoft.com", sp["client_id"], sp["client_secret"],
                                        disable_instance_discovery=True, **env.common())

    token = credential.get_token(ARM_SCOPE)

    assert verified_claims(env.box, token.token, "https://management.azure.com")["tid"] == env.tenant_id("contoso")


@pytest.mark.parametrize(("scope", "audience"), [
    ("https://management.azure.com/.default", "https://management.azure.com"),
    ("https://management.core.windows.net//.default", "https://management.core.windows.net/"),
])
def test_both_arm_scope_spellings_give_tokens_arm_accepts(env: Env, scope: str, audience: str) -> None:
    token = env.sp_credential("contoso").get_token(scope)

    assert verified_claims(env.box, token.token, audience)["aud"] == audience
    assert tokens.verify(env.box.world, token.token, tokens.ARM_AUDIENCES)["aud"] == audience


def test_second_get_token_is_served_from_the_cache(tmp_path: Path) -> None:
    with quiet_env(tmp_path) as env:
        assert_served_from_cache(env)


def assert_served_from_cache(env: Env) -> None:
    credential = env.sp_credential("fabrikam")
    first = credential.get_token(ARM_SCOPE)
    calls = len(env.box.world.requests)

    second = credential.get_token(ARM_SCOPE)

    assert second.token == first.token
    assert len(env.box.world.requests) == calls


def test_wrong_secret_is_refused_with_invalid_client_secret(env: Env) -> None:
    sp = env.tenants["contoso"]["service_principal"]
    credential = ClientSecretCredential(env.tenant_id("contoso"), sp["client_id"], "not-the-secret",
                                        disable_instance_discovery=True, **env.common())

    with pytest.raises(ClientAuthenticationError) as caught:
        credential.get_token(ARM_SCOPE)

    assert "AADSTS7000215: Invalid client secret provided." in str(caught.value)
    assert sp["client_id"] in str(caught.value)


def test_service_principal_asked_for_in_the_other_tenant_is_not_found(env: Env) -> None:
    sp = env.tenants["contoso"]["service_principal"]
    credential = ClientSecretCredential(env.tenant_id("fabrikam"), sp["client_id"], sp["client_secret"],
                                        disable_instance_discovery=True, **env.common())

    with pytest.raises(ClientAuthenticationError) as caught:
        credential.get_token(ARM_SCOPE)

    assert (f"AADSTS700016: Application with identifier '{sp['client_id']}' was not found in the directory "
            "'Fabrikam'") in str(caught.value)


def _chain(error: BaseException | None) -> str:
    """The messages of an exception and everything it was raised from or while handling."""
    texts = []
    while error is not None:
        texts.append(str(error))
        error = error.__cause__ or error.__context__
    return " | ".join(texts)


def test_unknown_tenant_fails_discovery_with_tenant_not_found(env: Env) -> None:
    """MSAL reads the tenant's discovery document first; its 400 carries AADSTS90002 into the raised chain."""
    sp = env.tenants["contoso"]["service_principal"]
    unknown = "00000000-0000-4000-8000-000000000000"
    credential = ClientSecretCredential(unknown, sp["client_id"], sp["client_secret"],
                                        disable_instance_discovery=True, **env.common())

    with pytest.raises(ClientAuthenticationError) as caught:
        credential.get_token(ARM_SCOPE)

    assert "Unable to get authority configuration" in str(caught.value)
    assert f"AADSTS90002: Tenant '{unknown}' not found." in _chain(caught.value)


def test_unknown_tenant_at_the_token_endpoint_is_tenant_not_found(env: Env) -> None:
    """Credentials that skip discovery (client assertion) meet AADSTS90002 at the token endpoint."""
    credential = ClientAssertionCredential("nowhere.onmicrosoft.com", "c0ffee00-0000-4000-8000-000000000000",
                                           lambda: "not-even-a-jwt", **env.common())

    with pytest.raises(ClientAuthenticationError) as caught:
        credential.get_token(ARM_SCOPE)

    assert "AADSTS90002: Tenant 'nowhere.onmicrosoft.com' not found." in str(caught.value)
    assert caught.value.status_code == 400
