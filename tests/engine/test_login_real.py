"""Real-Azure logins on the sandbox: the device-code prompt, the encrypted token cache and its fallback on a machine
without an OS keyring, the authentication record a session keeps for `resume`, and the sign-in diagnoses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Env
from tests.engine.support import make_context, sandbox_cloud
from wizard import paths, target
from wizard.azure import credentials
from wizard.sandbox import Sandbox
from wizard.session import SessionStore
from wizard.steps.base import LoginOptions
from wizard.steps.login import LoginStep, sign_in_diagnosis
from wizard.target import ARM_SCOPE

KEYRING = credentials.keyring_problem()  # None where an OS keyring works; on this CI image: no libsecret


def _device_code(prompts: list[str]) -> LoginOptions:
    return LoginOptions(cluster="device-code", identity="device-code",
                        device_code_prompt=lambda uri, code, expires: prompts.append(code))


def _files_holding_tokens(*roots: Path) -> list[str]:
    """Every file under the roots whose bytes contain a JWT (`eyJ…`) or an MSAL cache's token sections."""
    found = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                if b"eyJ" in data or b"AccessToken" in data or b"RefreshToken" in data:
                    found.append(str(path))
    return found


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME: azure-identity's cache files (~/.IdentityService) would land here."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def test_device_code_login_keeps_an_authentication_record_with_no_secret_and_writes_no_token(
        sandbox: Sandbox, env: Env, home: Path) -> None:
    prompts: list[str] = []
    ctx, _ = make_context(sandbox, logins=_device_code(prompts))

    LoginStep().apply(ctx)
    SessionStore().save(ctx.session)

    assert len(prompts) == 2
    for side, user, tenant in (("cluster", "alex@contoso.onmicrosoft.com", "contoso"),
                               ("identity", "megan@fabrikam.onmicrosoft.com", "fabrikam")):
        record = ctx.session.logins[side].authentication_record
        assert set(record) == set(credentials.RECORD_KEYS)
        assert record["username"] == user
        assert record["tenantId"] == env.tenant_id(tenant)
        assert record["homeAccountId"].endswith(f".{env.tenant_id(tenant)}")
        assert record["clientId"] == "04b07795-8ddb-461a-bbee-02f9e1bf7b46"  # the public Azure CLI client
    saved = SessionStore().path("test").read_text()
    assert "eyJ" not in saved and "refresh" not in saved.lower() and "secret" not in saved.lower()
    assert _files_holding_tokens(home, paths.home()) == []
    assert not (home / ".IdentityService").exists() or KEYRING is None


def test_without_an_os_keyring_the_login_says_resume_will_ask_again_once_and_still_signs_in(
        sandbox: Sandbox, home: Path) -> None:
    prompts: list[str] = []
    ctx, events = make_context(sandbox, logins=_device_code(prompts))

    result = LoginStep().apply(ctx)

    warnings = [e.message for e in events.kinds("info") if e.message.startswith("No OS keyring")]
    assert result.values["identity_account"] == "megan@fabrikam.onmicrosoft.com"
    if KEYRING is None:  # a machine with a working keyring: tokens persist, nothing to warn about
        assert warnings == []
    else:
        assert len(warnings) == 1  # once per run, not once per tenant
        assert warnings[0].startswith("No OS keyring here: you will be asked to sign in again on resume")
        assert "never written to disk unencrypted" in warnings[0]
        assert len(prompts) == 2  # the failed encrypted cache cost no extra prompt


@pytest.mark.skipif(KEYRING is None, reason="an OS keyring works here, so the cache cannot fail this way "
                                            "(test_login_real_keyring.py covers the keyring case)")
def test_the_encrypted_cache_failure_is_recognised_before_any_prompt(sandbox: Sandbox, env: Env, home: Path) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    prompts: list[str] = []
    credential: Any = credentials.build_credential(
        sandbox_cloud(sandbox), "device-code", env.tenant_id("contoso"),
        prompt=lambda uri, code, expires: prompts.append(code), persist=True)

    with pytest.raises(ClientAuthenticationError) as caught:
        credential.authenticate(scopes=[ARM_SCOPE])

    problem = credentials.cache_unusable(caught.value)
    assert problem  # the root cause, e.g. "Unable to import module 'gi'"
    assert "allow_unencrypted_storage" not in problem
    assert prompts == []
    assert credentials.cache_unusable(ValueError("some other failure")) is None
    assert _files_holding_tokens(home) == []


def test_the_authentication_record_round_trips_through_the_session_file_and_resume_signs_in_the_same_people(
        sandbox: Sandbox, env: Env, home: Path) -> None:
    prompts: list[str] = []
    ctx, _ = make_context(sandbox, logins=_device_code(prompts))
    LoginStep().apply(ctx)
    SessionStore().save(ctx.session)
    before = {side: dict(login.authentication_record) for side, login in ctx.session.logins.items()}

    loaded = SessionStore().load("test")
    assert {side: login.authentication_record for side, login in loaded.logins.items()} == before
    record = credentials.saved_record(ctx.cloud, env.tenant_id("fabrikam"),
                                      loaded.logins["identity"].authentication_record)
    assert record is not None
    assert (record.username, record.home_account_id) == ("megan@fabrikam.onmicrosoft.com",
                                                         before["identity"]["homeAccountId"])

    resumed, events = make_context(sandbox, logins=_device_code(prompts))
    resumed.session.logins = loaded.logins
    result = LoginStep().apply(resumed)

    assert result.values["cluster_account"] == "alex@contoso.onmicrosoft.com"
    assert result.values["identity_account"] == "megan@fabrikam.onmicrosoft.com"
    assert resumed.session.logins["identity"].authentication_record["homeAccountId"] == \
        before["identity"]["homeAccountId"]
    # Without a keyring the cached tokens died with the first run, so resume asked again (and said so).
    assert len(prompts) == (2 if KEYRING is None else 4)
    assert len([e for e in events.kinds("info") if e.message.startswith("No OS keyring")]) == \
        (0 if KEYRING is None else 1)


def test_a_record_of_another_authority_or_tenant_is_ignored(sandbox: Sandbox, env: Env) -> None:
    cloud = sandbox_cloud(sandbox)
    record = {"authority": cloud.authority.split("://", 1)[1], "clientId": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
              "homeAccountId": f"a74d4e82-299d-4e0f-9565-c25c519e44f6.{env.tenant_id('contoso')}",
              "tenantId": env.tenant_id("contoso"), "username": "alex@contoso.onmicrosoft.com", "version": "1.0"}

    assert credentials.saved_record(cloud, env.tenant_id("contoso"), record) is not None
    assert credentials.saved_record(cloud, env.tenant_id("fabrikam"), record) is None
    assert credentials.saved_record(cloud, env.tenant_id("contoso"),
                                    {**record, "authority": "127.0.0.1:1"}) is None  # a restarted sandbox's old port
    assert credentials.saved_record(cloud, env.tenant_id("contoso"), {**record, "username": ""}) is None
    assert credentials.saved_record(cloud, env.tenant_id("contoso"), {}) is None


def test_a_user_of_one_tenant_refused_by_the_other_is_explained_as_not_a_guest_there(quiet_box: Sandbox,
                                                                                     home: Path) -> None:
    from azure.identity import AuthenticationRequiredError, DeviceCodeCredential

    env = Env(quiet_box)
    cloud = sandbox_cloud(quiet_box)
    credential = DeviceCodeCredential(tenant_id=env.tenant_id("contoso"), prompt_callback=lambda *a: None,
                                      additionally_allowed_tenants=["*"], disable_automatic_authentication=True,
                                      disable_instance_discovery=True, **cloud.credential_kwargs())
    credential.authenticate(scopes=[ARM_SCOPE])
    with pytest.raises(AuthenticationRequiredError) as caught:
        credential.get_token(ARM_SCOPE, tenant_id=env.tenant_id("fabrikam"))
    refusal = caught.value.response.text()  # the sandbox's real AADSTS50020 answer

    found = sign_in_diagnosis(refusal)

    assert (found.code, found.step) == ("AADSTS50020", "login")
    assert "neither a member nor a guest" in found.cause
    assert "invite" in found.fix and "account of this tenant" in found.fix


@pytest.fixture
def quiet_box(make_sandbox: Any) -> Sandbox:
    box: Sandbox = make_sandbox()
    return box


@pytest.mark.parametrize(("text", "code", "cause", "fix"), [
    ("DeviceCodeCredential.get_token failed: Authentication failed: AADSTS50076: Due to a configuration change made "
     "by your administrator, or because you moved to a new location, you must use multi-factor authentication to "
     "access '797f4846-ba00-4fd7-ba43-dac1f8f63013'.", "AADSTS50076", "requires MFA", "device-code or browser"),
    ("AzureCliCredential.get_token failed: AADSTS65001: The user or administrator has not consented to use the "
     "application with ID '04b07795-8ddb-461a-bbee-02f9e1bf7b46' named 'Microsoft Azure CLI'. Send an interactive "
     "authorization request for this user and resource.", "AADSTS65001", "not been consented",
     "administrator of the tenant to grant consent"),
    ("Authentication failed: AADSTS50020: User account 'alex@contoso.com' from identity provider 'live.com' does "
     "not exist in tenant 'Fabrikam' and cannot access the application '04b07795-8ddb-461a-bbee-02f9e1bf7b46'"
     "(Microsoft Azure CLI) in that tenant.", "AADSTS50020", "neither a member nor a guest", "invite"),
    ("AADSTS53003: Access has been blocked by Conditional Access policies.", "AADSTS-ConditionalAccess",
     "policy", "compliant device"),
])
def test_sign_in_failures_are_explained_with_a_plain_fix(text: str, code: str, cause: str, fix: str) -> None:
    found = sign_in_diagnosis(text)

    assert (found.code, found.step) == (code, "login")
    assert cause in found.cause
    assert fix in found.fix
    assert found.detail.startswith(text.split(":", maxsplit=1)[0])


def test_the_login_step_turns_an_sdk_sign_in_error_into_the_sign_in_diagnosis(
        sandbox: Sandbox, env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_CLIENT_ID", env.tenants["contoso"]["service_principal"]["client_id"])
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "not-the-secret-q7Zx")
    ctx, _ = make_context(sandbox, logins=LoginOptions(cluster="service-principal"))

    from wizard.steps.base import StepFailed

    with pytest.raises(StepFailed) as caught:
        LoginStep().apply(ctx)

    assert caught.value.diagnosis == sign_in_diagnosis(caught.value.diagnosis.detail)
    assert caught.value.diagnosis.code == "AADSTS7000215"
    assert "not-the-secret-q7Zx" not in json.dumps(caught.value.diagnosis.to_dict())


def test_azure_cli_login_without_az_on_path_names_the_install_and_the_alternatives(tmp_path: Path) -> None:
    tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

    with pytest.raises(credentials.LoginError) as caught:
        credentials.login(target.real(), "azure-cli", tenant, environ={"PATH": str(tmp_path)})

    found = caught.value.diagnosis
    assert (found.code, found.step) == ("AzureCliMissing", "login")
    assert "`az`" in found.cause and "not on PATH" in found.cause
    assert "Install the Azure CLI" in found.fix and "device-code" in found.fix
