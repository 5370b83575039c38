"""Workload identity federation through the real azure-identity credentials: a test-served OIDC issuer signs
service-account-like assertions; the sandbox's Entra matches them against the identity's federated credentials
and verifies them with the issuer's keys, fetched over HTTPS with verification on."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientAssertionCredential, WorkloadIdentityCredential

from tests.conftest import Env
from tests.sandbox.entra_support import (
    ARM_SCOPE,
    OidcIssuer,
    closed_port,
    create_fic,
    create_identity,
    oidc_issuer,
    verified_claims,
)
from wizard.sandbox import Sandbox
from wizard.sandbox.tls import ensure_tls

SUBJECT = "system:serviceaccount:demo:workload"


@pytest.fixture(scope="module")
def issuer(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcIssuer]:
    with oidc_issuer(sandbox.state_dir, tmp_path_factory.mktemp("issuer")) as served:
        yield served


@pytest.fixture
def identity(env: Env) -> dict[str, Any]:
    """A fresh identity in fabrikam (tenant B), with no federated credential yet."""
    return create_identity(env, f"id-fed-{uuid.uuid4().hex[:8]}")


def aadsts(error: BaseException) -> int:
    found = re.search(r"AADSTS(\d+)", str(error))
    assert found, f"no AADSTS code in {error}"
    return int(found.group(1))


def assertion_credential(env: Env, tenant: str, client_id: str, assertion: str) -> ClientAssertionCredential:
    return ClientAssertionCredential(env.tenant_id(tenant), client_id, lambda: assertion, **env.common())


def exchange_error(env: Env, client_id: str, assertion: str, tenant: str = "fabrikam") -> ClientAuthenticationError:
    with pytest.raises(ClientAuthenticationError) as caught:
        assertion_credential(env, tenant, client_id, assertion).get_token(ARM_SCOPE)
    return caught.value


def test_workload_identity_credential_gets_a_tenant_b_token_for_the_identity(
        env: Env, issuer: OidcIssuer, identity: dict[str, Any], tmp_path: Path) -> None:
    create_fic(env, identity, "fic-workload", issuer.url, SUBJECT)
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(issuer.assertion(SUBJECT))
    props = identity["properties"]
    credential = WorkloadIdentityCredential(tenant_id=env.tenant_id("fabrikam"), client_id=props["clientId"],
                                            token_file_path=str(token_file), **env.common())

    token = credential.get_token(ARM_SCOPE)

    claims = verified_claims(env.box, token.token, "https://management.azure.com")
    assert claims["oid"] == props["principalId"]
    assert claims["tid"] == env.tenant_id("fabrikam")
    assert claims["appid"] == props["clientId"]
    assert claims["idtyp"] == "app"
    assert token.expires_on > time.time() + 3000


def test_client_assertion_credential_exchanges_a_callback_assertion(
        env: Env, issuer: OidcIssuer, identity: dict[str, Any]) -> None:
    create_fic(env, identity, "fic-callback", issuer.url, SUBJECT)
    calls: list[int] = []

    def assertion() -> str:
        calls.append(1)
        return issuer.assertion(SUBJECT)

    credential = ClientAssertionCredential(env.tenant_id("fabrikam"), identity["properties"]["clientId"], assertion,
                                           **env.common())
    token = credential.get_token(ARM_SCOPE)

    assert verified_claims(env.box, token.token, "https://management.azure.com")["oid"] == \
        identity["properties"]["principalId"]
    assert calls == [1]


def test_issuer_without_the_trailing_slash_does_not_match_a_credential_with_it(
        env: Env, issuer: OidcIssuer, identity: dict[str, Any]) -> None:
    create_fic(env, identity, "fic-slash", issuer.url, SUBJECT)
    presented = issuer.url.rstrip("/")

    error = exchange_error(env, identity["properties"]["clientId"], issuer.assertion(SUBJECT, issuer=presented))

    assert aadsts(error) == 700211
    assert f"presented assertion issuer '{presented}'" in str(error)
    assert "case-sensitive comparison" in str(error)


def test_issuer_with_a_trailing_slash_does_not_match_a_credential_without_it(
        env: Env, issuer: OidcIssuer, identity: dict[str, Any]) -> None:
    create_fic(env, identity, "fic-noslash", issuer.url.rstrip("/"), SUBJECT)

    error = exchange_error(env, identity["properties"]["clientId"], issuer.assertion(SUBJECT))

    assert aadsts(error) == 700211


def test_issuer_without_trailing_slash_matches_and_verifies_when_the_credential_agrees(
        env: Env, issuer: OidcIssuer, identity: dict[str, Any]) -> None:
    """Entra finds the keys of a slash-less issuer at `{iss}/.well-known/openid-configuration`."""
    bare = issuer.url.rstrip("/")
    create_fic(env, identity, "fic-bare", bare, SUBJECT)

    token = assertion_credential(env, "fabrikam", identity["properties"]["clientId"],
                                 issuer.assertion(SUBJECT, issuer=bare)).get_token(ARM_SCOPE)

    assert verified_claims(env.box, token.token, "https://management.azure.com")["tid"] == env.tenant_id("fabrikam")


def test_subject_is_matched_case_sensitively(env: Env, issuer: OidcIssuer, identity: dict[str, Any]) -> None:
    create_fic(env, identity, "fic-subject", issuer.url, SUBJECT)
    presented = SUBJECT.replace("workload", "Workload")

    error = exchange_error(env, identity["properties"]["clientId"], issuer.assertion(presented))

    assert aadsts(error) == 700213
    assert f"presented assertion subject '{presented}'" in str(error)


def test_audience_other_than_the_credentials_is_refused(env: Env, issuer: OidcIssuer,
                                                        identity: dict[str, Any]) -> None:
    create_fic(env, identity, "fic-audience", issuer.url, SUBJECT)

    error = exchange_error(env, identity["properties"]["clientId"],
                           issuer.assertion(SUBJECT, audience="api://AKSIdentityBinding"))

    assert aadsts(error) == 700212
    assert "'api://AKSIdentityBinding'" in str(error)


def test_identity_without_federated_credentials_names_issuer_subject_and_audience(
        env: Env, issuer: OidcIssuer, identity: dict[str, Any]) -> None:
    error = exchange_error(env, identity["properties"]["clientId"], issuer.assertion(SUBJECT))

    assert aadsts(error) == 70021
    assert (f"Assertion Issuer: '{issuer.url}'. Assertion Subject: '{SUBJECT}'. "
            "Assertion Audience: 'api://AzureADTokenExchange'.") in str(error)
    assert error.status_code == 400


def test_expired_assertion_is_outside_its_valid_time_range(env: Env, issuer: OidcIssuer,
                                                           identity: dict[str, Any]) -> None:
    create_fic(env, identity, "fic-expired", issuer.url, SUBJECT)

    error = exchange_error(env, identity["properties"]["clientId"],
                           issuer.assertion(SUBJECT, issued_at=time.time() - 7200, lifetime=3600))

    assert aadsts(error) == 700024
    assert "not within its valid time range" in str(error)


def test_asking_the_clusters_tenant_for_tenant_bs_identity_is_app_not_found(
        env: Env, issuer: OidcIssuer, identity: dict[str, Any]) -> None:
    """The classic cross-tenant mistake: AZURE_TENANT_ID still names tenant A."""
    create_fic(env, identity, "fic-tenant", issuer.url, SUBJECT)
    client_id = identity["properties"]["clientId"]

    error = exchange_error(env, client_id, issuer.assertion(SUBJECT), tenant="contoso")

    assert aadsts(error) == 700016
    assert f"Application with identifier '{client_id}' was not found in the directory 'Contoso'" in str(error)


def test_forged_signature_with_the_issuers_kid_is_refused(env: Env, issuer: OidcIssuer,
                                                          identity: dict[str, Any]) -> None:
    create_fic(env, identity, "fic-forged", issuer.url, SUBJECT)

    error = exchange_error(env, identity["properties"]["clientId"],
                           issuer.assertion(SUBJECT, key=issuer.forged_key()))

    assert aadsts(error) == 700027
    assert "invalid signature" in str(error)


def test_assertion_signed_by_a_key_the_issuer_does_not_publish_is_refused(
        env: Env, issuer: OidcIssuer, identity: dict[str, Any], tmp_path: Path) -> None:
    create_fic(env, identity, "fic-unknown-kid", issuer.url, SUBJECT)
    with oidc_issuer(env.box.state_dir, tmp_path) as stranger:
        stranger_key = stranger.key

    error = exchange_error(env, identity["properties"]["clientId"], issuer.assertion(SUBJECT, key=stranger_key))

    assert aadsts(error) == 700027


def test_unreachable_issuer_is_an_external_oidc_failure(env: Env, issuer: OidcIssuer,
                                                        identity: dict[str, Any]) -> None:
    nowhere = f"https://127.0.0.1:{closed_port()}/issuer/"
    create_fic(env, identity, "fic-nowhere", nowhere, SUBJECT)

    error = exchange_error(env, identity["properties"]["clientId"], issuer.assertion(SUBJECT, issuer=nowhere))

    assert aadsts(error) == 90061
    assert "Request to External OIDC endpoint failed." in str(error)


def test_issuer_with_an_untrusted_certificate_is_not_fetched(env: Env, identity: dict[str, Any],
                                                             tmp_path: Path) -> None:
    """TLS verification stays on: an issuer whose certificate another CA signed cannot vouch for its keys."""
    other_ca = tmp_path / "other-ca"
    other_ca.mkdir()
    ensure_tls(other_ca)
    with oidc_issuer(other_ca, tmp_path) as untrusted:
        create_fic(env, identity, "fic-untrusted", untrusted.url, SUBJECT)
        error = exchange_error(env, identity["properties"]["clientId"], untrusted.assertion(SUBJECT))
        assert untrusted.fetches == 0

    assert aadsts(error) == 90061


def test_entra_issued_token_cannot_be_a_federated_assertion(env: Env, identity: dict[str, Any]) -> None:
    entra_token = env.sp_credential("fabrikam").get_token(ARM_SCOPE).token
    create_fic(env, identity, "fic-entra", f"https://sts.windows.net/{env.tenant_id('fabrikam')}/", SUBJECT)

    error = exchange_error(env, identity["properties"]["clientId"], entra_token)

    assert aadsts(error) == 700222


def test_issuer_metadata_is_fetched_once_for_repeated_exchanges(env: Env, identity: dict[str, Any],
                                                                tmp_path: Path) -> None:
    with oidc_issuer(env.box.state_dir, tmp_path) as fresh:
        create_fic(env, identity, "fic-cache", fresh.url, SUBJECT)
        client_id = identity["properties"]["clientId"]
        for _ in range(3):
            assertion_credential(env, "fabrikam", client_id, fresh.assertion(SUBJECT)).get_token(ARM_SCOPE)
        assert fresh.fetches == 1


def test_new_federated_credential_is_invisible_until_propagated(make_sandbox: Any, make_env: Any,
                                                                tmp_path: Path) -> None:
    box = make_sandbox(faults="fic-propagation=1.5")
    env = make_env(box)
    ident = create_identity(env, "id-propagation")
    with oidc_issuer(box.state_dir, tmp_path) as served:
        create_fic(env, ident, "fic-propagation", served.url, SUBJECT)
        created = time.monotonic()
        credential = assertion_credential(env, "fabrikam", ident["properties"]["clientId"],
                                          served.assertion(SUBJECT))
        codes = []
        while True:
            try:
                token = credential.get_token(ARM_SCOPE)
                break
            except ClientAuthenticationError as error:
                codes.append(aadsts(error))
                assert time.monotonic() - created < 10, codes
                time.sleep(0.25)

    assert codes and set(codes) == {70021}
    assert time.monotonic() - created >= 1.4
    assert verified_claims(box, token.token, "https://management.azure.com")["oid"] == \
        ident["properties"]["principalId"]
