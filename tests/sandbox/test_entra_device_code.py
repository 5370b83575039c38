"""Operators signing in with a device code through azure-identity's DeviceCodeCredential (MSAL): the prompt, the
authentication record, MSAL's cache, refresh tokens across tenants, and the sandbox's approval page."""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import AuthenticationRequiredError, DeviceCodeCredential

from tests.conftest import Env
from tests.sandbox.entra_support import ARM_SCOPE, CLI_CLIENT_ID, GRAPH_SCOPE, quiet_env, verified_claims
from wizard.sandbox import Sandbox, directory
from wizard.sandbox.tokens import AKS_SERVER_APP

Prompt = tuple[str, str, dt.datetime]


def device_credential(env: Env, tenant: str | None, prompts: list[Prompt] | None = None,
                      on_prompt: Callable[[str, str, dt.datetime], None] | None = None,
                      **kwargs: Any) -> DeviceCodeCredential:
    def prompt(uri: str, code: str, expires_on: dt.datetime) -> None:
        if prompts is not None:
            prompts.append((uri, code, expires_on))
        if on_prompt is not None:
            on_prompt(uri, code, expires_on)

    if tenant is not None:
        kwargs["tenant_id"] = env.tenant_id(tenant)
    return DeviceCodeCredential(disable_instance_discovery=True, prompt_callback=prompt, **env.common(), **kwargs)


def user_object_id(box: Sandbox, username: str) -> str:
    found = directory.user_by_name(box.world, username)
    assert found is not None
    return str(found["object_id"])


def test_device_code_prompt_names_the_sandbox_page_and_the_record_names_the_user(env: Env) -> None:
    prompts: list[Prompt] = []
    credential = device_credential(env, "contoso", prompts)

    record = credential.authenticate(scopes=[ARM_SCOPE])

    [(uri, code, expires_on)] = prompts
    assert uri == f"{env.box.base_url}/devicelogin"
    assert len(code) == 9 and code.isalnum() and code.isupper()
    assert expires_on.tzinfo is not None and expires_on.utcoffset() == dt.timedelta(0)
    assert dt.timedelta(minutes=14) < expires_on - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=15)
    alex = user_object_id(env.box, "alex@contoso.onmicrosoft.com")
    assert record.authority == env.box.world.host
    assert record.client_id == CLI_CLIENT_ID
    assert record.tenant_id == env.tenant_id("contoso")
    assert record.username == "alex@contoso.onmicrosoft.com"
    assert record.home_account_id == f"{alex}.{env.tenant_id('contoso')}"


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """Tests that count requests use a sandbox nobody else talks to."""
    with quiet_env(tmp_path_factory.mktemp("quiet")) as private:
        yield private


def test_get_token_after_sign_in_comes_from_msals_cache(quiet: Env) -> None:
    env = quiet
    credential = device_credential(env, "fabrikam")
    credential.authenticate(scopes=[ARM_SCOPE])
    calls = len(env.box.world.requests)

    token = credential.get_token(ARM_SCOPE)

    assert len(env.box.world.requests) == calls
    claims = verified_claims(env.box, token.token, "https://management.azure.com")
    assert claims["upn"] == "megan@fabrikam.onmicrosoft.com"
    assert claims["tid"] == env.tenant_id("fabrikam")
    assert claims["oid"] == user_object_id(env.box, "megan@fabrikam.onmicrosoft.com")


def test_token_for_another_resource_is_redeemed_silently_with_the_refresh_token(quiet: Env) -> None:
    env = quiet
    credential = device_credential(env, "contoso")
    credential.authenticate(scopes=[ARM_SCOPE])
    before = len(env.box.world.requests)

    token = credential.get_token(GRAPH_SCOPE)

    new = list(env.box.world.requests)[before:]
    assert [(r.method, r.path.rsplit("/", 1)[-1], r.status) for r in new] == [("POST", "token", 200)]
    assert verified_claims(env.box, token.token, "https://graph.microsoft.com")["upn"] == \
        "alex@contoso.onmicrosoft.com"


@pytest.mark.parametrize(("scope", "audience"), [
    ("https://management.core.windows.net//.default", "https://management.core.windows.net/"),
    (f"{AKS_SERVER_APP}/.default", AKS_SERVER_APP),
])
def test_refresh_gives_tokens_for_every_resource_the_sandbox_knows(env: Env, scope: str, audience: str) -> None:
    credential = device_credential(env, "fabrikam")
    credential.authenticate(scopes=[ARM_SCOPE])

    token = credential.get_token(scope)

    assert verified_claims(env.box, token.token, audience)["upn"] == "megan@fabrikam.onmicrosoft.com"


def test_other_tenant_refresh_for_a_user_not_in_that_tenant_is_refused(quiet: Env) -> None:
    env = quiet
    credential = device_credential(env, "contoso", additionally_allowed_tenants=["*"],
                                   disable_automatic_authentication=True)
    credential.authenticate(scopes=[ARM_SCOPE])
    before = len(env.box.world.requests)

    with pytest.raises(AuthenticationRequiredError) as caught:
        credential.get_token(ARM_SCOPE, tenant_id=env.tenant_id("fabrikam"))

    refusal = caught.value.response.text()
    assert "AADSTS50020: User account 'alex@contoso.onmicrosoft.com' from identity provider " \
           f"'https://sts.windows.net/{env.tenant_id('contoso')}/' does not exist in tenant 'Fabrikam'" in refusal
    assert f"'{CLI_CLIENT_ID}'(Microsoft Azure CLI)" in refusal
    new = list(env.box.world.requests)[before:]
    assert [r.path for r in new if r.method == "POST"] == [f"/{env.tenant_id('fabrikam')}/oauth2/v2.0/token"]


def test_organizations_sign_in_lands_in_the_users_home_tenant(env: Env) -> None:
    credential = device_credential(env, None)  # azure-identity's default authority: organizations

    token = credential.get_token(ARM_SCOPE)
    again = credential.get_token(ARM_SCOPE, tenant_id=env.tenant_id("contoso"))

    assert verified_claims(env.box, token.token, "https://management.azure.com")["tid"] == env.tenant_id("contoso")
    assert verified_claims(env.box, again.token, "https://management.azure.com")["upn"] == \
        "alex@contoso.onmicrosoft.com"


# -- the approval page ----------------------------------------------------------------------------------------


def sign_in_in_background(env: Env, tenant: str) -> tuple[threading.Thread, queue.Queue[str], dict[str, Any]]:
    """Start authenticate() in a thread; the queue yields the user code, the dict the record or the error."""
    codes: queue.Queue[str] = queue.Queue()
    outcome: dict[str, Any] = {}
    credential = device_credential(env, tenant, on_prompt=lambda _uri, code, _exp: codes.put(code))

    def run() -> None:
        try:
            outcome["record"] = credential.authenticate(scopes=[ARM_SCOPE])
        except ClientAuthenticationError as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, codes, outcome


@pytest.fixture
def manual_env(make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> Env:
    """A sandbox whose device codes wait for a person on the approval page."""
    return make_env(make_sandbox(device_code_auto_approve=None))


def page(env: Env, code: str | None = None) -> requests.Response:
    params = {"code": code} if code is not None else None
    return requests.get(f"{env.box.base_url}/devicelogin", params=params, verify=env.ca, timeout=10)


def submit(env: Env, form: dict[str, str]) -> requests.Response:
    return requests.post(f"{env.box.base_url}/devicelogin", data=form, verify=env.ca, timeout=10)


def test_approval_page_asks_for_the_code_and_says_it_is_the_sandbox(env: Env) -> None:
    answer = page(env)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "wi-wizard sandbox" in answer.text
    assert '<label for="code">Code</label>' in answer.text
    assert "<script" not in answer.text


def test_unknown_code_on_the_page_is_not_recognized(env: Env) -> None:
    answer = page(env, "NOTACODE1")

    assert answer.status_code == 400
    assert "That code was not recognized." in answer.text


def test_person_approves_the_code_on_the_page_and_the_client_signs_in(manual_env: Env) -> None:
    thread, codes, outcome = sign_in_in_background(manual_env, "fabrikam")
    code = codes.get(timeout=10)
    time.sleep(1.2)  # at least one poll answered authorization_pending
    assert thread.is_alive()

    shown = page(manual_env, code.lower())
    assert shown.status_code == 200
    assert "megan@fabrikam.onmicrosoft.com" in shown.text and "Fabrikam" in shown.text
    assert "alex@contoso.onmicrosoft.com" not in shown.text
    approved = submit(manual_env, {"code": code, "username": "megan@fabrikam.onmicrosoft.com",
                                   "action": "approve"})
    thread.join(15)

    assert approved.status_code == 200 and "signed in" in approved.text
    assert outcome["record"].username == "megan@fabrikam.onmicrosoft.com"
    assert page(manual_env, code).status_code == 400  # a code is good for one sign-in


def test_page_refuses_an_account_from_another_tenant(manual_env: Env) -> None:
    thread, codes, _outcome = sign_in_in_background(manual_env, "fabrikam")
    code = codes.get(timeout=10)

    refused = submit(manual_env, {"code": code, "username": "alex@contoso.onmicrosoft.com", "action": "approve"})
    submit(manual_env, {"code": code, "action": "decline"})
    thread.join(15)

    assert refused.status_code == 400
    assert "Pick one of the accounts listed." in refused.text


def test_declined_code_fails_the_sign_in(manual_env: Env) -> None:
    thread, codes, outcome = sign_in_in_background(manual_env, "contoso")
    code = codes.get(timeout=10)

    declined = submit(manual_env, {"code": code, "username": "alex@contoso.onmicrosoft.com", "action": "decline"})
    thread.join(15)

    assert declined.status_code == 200 and "declined" in declined.text
    assert "AADSTS70000" in str(outcome["error"]) and "declined" in str(outcome["error"])


def test_expired_code_fails_the_sign_in_and_the_page_says_so(manual_env: Env) -> None:
    box = manual_env.box
    real_clock = box.world.clock
    codes: list[str] = []

    def expire(_uri: str, code: str, _expires_on: dt.datetime) -> None:
        codes.append(code)
        box.world.clock = lambda: real_clock() + 901  # the 15 minutes pass

    credential = device_credential(manual_env, "contoso", on_prompt=expire)
    with pytest.raises(ClientAuthenticationError) as caught:
        credential.get_token(ARM_SCOPE)

    assert "AADSTS70020" in str(caught.value) and "expired" in str(caught.value)
    shown = page(manual_env, codes[0])
    assert shown.status_code == 400 and "expired" in shown.text
