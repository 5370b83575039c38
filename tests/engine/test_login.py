"""The login step against the sandbox's Entra ID, through the real azure-identity credentials."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Env
from tests.engine.support import make_context, seed_plan
from wizard import target
from wizard.azure import credentials
from wizard.sandbox import Sandbox
from wizard.session import Session
from wizard.steps.base import Context, LoginOptions, StepFailed
from wizard.steps.login import LoginStep


def _failure(ctx: Context) -> StepFailed:
    with pytest.raises(StepFailed) as caught:
        LoginStep().apply(ctx)
    return caught.value


def test_auto_login_on_a_sandbox_signs_in_each_tenant_as_its_service_principal(sandbox: Sandbox, env: Env) -> None:
    ctx, events = make_context(sandbox)

    result = LoginStep().apply(ctx)

    contoso, fabrikam = env.tenants["contoso"], env.tenants["fabrikam"]
    assert result.values == {
        "cluster_tenant_id": contoso["tenant_id"], "identity_tenant_id": fabrikam["tenant_id"],
        "cluster_account": contoso["service_principal"]["client_id"],
        "identity_account": fabrikam["service_principal"]["client_id"],
        "cluster_method": "sandbox", "identity_method": "sandbox", "same_tenant": "false",
    }
    assert ctx.credentials["cluster"] is not ctx.credentials["identity"]
    assert ctx.session.logins["identity"].tenant_id == fabrikam["tenant_id"]
    assert [e.message for e in events.events if e.kind == "info"] == [
        f"Signed in to the cluster's tenant as {contoso['service_principal']['client_id']}",
        f"Signed in to the identity's tenant as {fabrikam['service_principal']['client_id']}"]


def test_the_session_remembers_method_and_account_but_never_a_secret_or_token(sandbox: Sandbox, env: Env) -> None:
    ctx, _ = make_context(sandbox)
    LoginStep().apply(ctx)

    saved = ctx.session.to_json()

    assert env.tenants["contoso"]["service_principal"]["client_id"] in saved
    for tenant in env.tenants.values():
        assert tenant["service_principal"]["client_secret"] not in saved
    assert "eyJ" not in saved  # no JWT


def test_same_tenant_plan_signs_in_once_and_shares_the_credential(sandbox: Sandbox, env: Env) -> None:
    plan = seed_plan(identity={"tenant": env.tenant_id("contoso"), "subscription": "contoso-platform"})
    ctx, events = make_context(sandbox, plan)

    result = LoginStep().apply(ctx)

    assert ctx.credentials["identity"] is ctx.credentials["cluster"]
    assert result.values["same_tenant"] == "true"
    assert result.values["identity_account"] == result.values["cluster_account"]
    assert len(events.kinds("progress")) == 1  # one sign-in


def test_check_is_missing_before_login_done_after_and_drifted_when_another_method_is_asked(
        sandbox: Sandbox) -> None:
    ctx, _ = make_context(sandbox)
    step = LoginStep()
    assert step.check(ctx).state == "missing"

    values = step.apply(ctx).values
    after = step.check(ctx)
    assert (after.state, after.values) == ("done", values)

    ctx.logins = LoginOptions(identity="device-code")
    drifted = step.check(ctx)
    assert drifted.state == "drifted"
    assert drifted.details == ["signed in to the identity's tenant with sandbox, but device-code is asked for"]


def test_applying_again_in_the_same_run_reuses_the_credentials(sandbox: Sandbox) -> None:
    ctx, events = make_context(sandbox)
    step = LoginStep()
    step.apply(ctx)
    first = dict(ctx.credentials)

    step.apply(ctx)

    assert ctx.credentials == first
    assert len(events.kinds("progress")) == 2  # the second apply signed nobody in


def test_device_code_login_prompts_through_the_callback_once_per_tenant_and_prints_nothing(
        sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    prompts: list[tuple[str, str, Any]] = []
    options = LoginOptions(cluster="device-code", identity="device-code",
                           device_code_prompt=lambda uri, code, expires: prompts.append((uri, code, expires)))
    ctx, _ = make_context(sandbox, logins=options)

    result = LoginStep().apply(ctx)

    assert result.values["cluster_account"] == "alex@contoso.onmicrosoft.com"
    assert result.values["identity_account"] == "megan@fabrikam.onmicrosoft.com"
    assert result.values["cluster_method"] == result.values["identity_method"] == "device-code"
    assert len(prompts) == 2
    for uri, code, expires in prompts:
        assert uri == f"{sandbox.base_url}/devicelogin"
        assert code.isalnum()
        assert expires > dt.datetime.now(dt.UTC)
    assert capsys.readouterr().out == ""


def test_device_code_without_a_prompt_callback_fails_before_anything_is_printed(
        sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    ctx, _ = make_context(sandbox, logins=LoginOptions(cluster="device-code"))

    failure = _failure(ctx)

    assert failure.diagnosis.code == "NoDeviceCodePrompt"
    assert failure.diagnosis.step == "login"
    assert capsys.readouterr().out == ""


def test_service_principal_login_reads_the_environment_with_the_tenant_from_the_plan(
        sandbox: Sandbox, env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    sp = env.tenants["fabrikam"]["service_principal"]
    monkeypatch.setenv("AZURE_CLIENT_ID", sp["client_id"])
    monkeypatch.setenv("AZURE_CLIENT_SECRET", sp["client_secret"])
    monkeypatch.setenv("AZURE_TENANT_ID", env.tenant_id("contoso"))  # ignored: the plan names the tenant
    ctx, _ = make_context(sandbox, logins=LoginOptions(identity="service-principal"))

    result = LoginStep().apply(ctx)

    assert result.values["identity_method"] == "service-principal"
    assert result.values["identity_account"] == sp["client_id"]
    assert result.values["identity_tenant_id"] == env.tenant_id("fabrikam")


def test_service_principal_of_another_tenant_fails_with_a_login_diagnosis(
        sandbox: Sandbox, env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    sp = env.tenants["contoso"]["service_principal"]
    monkeypatch.setenv("AZURE_CLIENT_ID", sp["client_id"])
    monkeypatch.setenv("AZURE_CLIENT_SECRET", sp["client_secret"])
    ctx, _ = make_context(sandbox, logins=LoginOptions(identity="service-principal"))

    failure = _failure(ctx)

    assert failure.diagnosis.code == "AADSTS700016"
    assert failure.diagnosis.step == "login"
    assert sp["client_id"] in failure.diagnosis.detail
    assert "identity" not in ctx.credentials


def test_service_principal_without_environment_variables_names_what_is_missing(sandbox: Sandbox) -> None:
    ctx, _ = make_context(sandbox, logins=LoginOptions(cluster="service-principal"))

    failure = _failure(ctx)

    assert failure.diagnosis.code == "ServicePrincipalNotConfigured"
    assert "AZURE_CLIENT_ID" in failure.diagnosis.cause


def test_unknown_tenant_domain_fails_with_tenant_not_found_naming_the_plan_key(sandbox: Sandbox) -> None:
    ctx, _ = make_context(sandbox, seed_plan(identity={"tenant": "nowhere.onmicrosoft.com"}))

    failure = _failure(ctx)

    assert failure.diagnosis.code == "AADSTS90002"
    assert "identity.tenant" in failure.diagnosis.cause
    assert "nowhere.onmicrosoft.com" in failure.diagnosis.cause
    assert "AADSTS90002" in failure.diagnosis.detail


def test_tenant_domains_resolve_through_openid_metadata_and_guids_need_no_lookup(sandbox: Sandbox, env: Env) -> None:
    cloud = target.sandbox(Path(sandbox.state_dir) / "endpoints.json")

    assert credentials.resolve_tenant(cloud, "fabrikam.onmicrosoft.com") == env.tenant_id("fabrikam")
    assert credentials.resolve_tenant(cloud, "FABRIKAM.onmicrosoft.com") == env.tenant_id("fabrikam")
    guid = env.tenant_id("contoso").upper()
    # A GUID is taken as is: even a real cloud (unreachable here) needs no request for it.
    assert credentials.resolve_tenant(target.real(), guid) == guid.lower()


def test_unknown_guid_tenant_fails_at_sign_in_with_tenant_not_found(sandbox: Sandbox) -> None:
    ctx, _ = make_context(sandbox, seed_plan(cluster={"tenant": "00000000-0000-4000-8000-000000000001"}))

    failure = _failure(ctx)

    assert failure.diagnosis.code == "SandboxLoginUnavailable"  # the sandbox has no principal there
    ctx.logins = LoginOptions(cluster="device-code", device_code_prompt=lambda *a: None)
    failure = _failure(ctx)
    assert failure.diagnosis.code == "AADSTS90002"
    assert failure.diagnosis.step == "login"


def test_azure_cli_login_is_refused_on_the_sandbox(sandbox: Sandbox) -> None:
    ctx, _ = make_context(sandbox, logins=LoginOptions(cluster="azure-cli"))

    assert _failure(ctx).diagnosis.code == "AzureCliOnSandbox"


def test_browser_login_is_refused_on_the_sandbox_with_the_alternatives(sandbox: Sandbox) -> None:
    ctx, _ = make_context(sandbox, logins=LoginOptions(identity="browser"))

    failure = _failure(ctx)

    assert failure.diagnosis.code == "BrowserOnSandbox"
    assert "device-code" in failure.diagnosis.fix


def test_azure_cli_missing_from_path_is_a_clear_failure_on_real_azure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no `az`
    plan = seed_plan(cluster={"tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47"},
                     identity={"tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47"})
    ctx = Context(plan=plan, session=Session("t", plan), cloud=target.real())

    failure = _failure(ctx)

    assert failure.diagnosis.code == "AzureCliMissing"
    assert "az" in failure.diagnosis.cause
    assert "device-code" in failure.diagnosis.fix


def test_unknown_login_method_names_the_known_ones(sandbox: Sandbox) -> None:
    ctx, _ = make_context(sandbox, logins=LoginOptions(cluster="password"))

    failure = _failure(ctx)

    assert failure.diagnosis.code == "UnknownLoginMethod"
    assert "device-code" in failure.diagnosis.fix


def test_describe_shows_one_az_login_per_tenant_with_the_real_tenant_ids_once_known(sandbox: Sandbox,
                                                                                    env: Env) -> None:
    ctx, _ = make_context(sandbox, logins=LoginOptions(cluster="device-code", identity="azure-cli"))
    before = LoginStep().describe(ctx)
    assert before.commands == ["az login --tenant contoso.onmicrosoft.com --use-device-code",
                               "az login --tenant fabrikam.onmicrosoft.com"]

    ctx, _ = make_context(sandbox)
    LoginStep().apply(ctx)
    after = LoginStep().describe(ctx)
    sp = env.tenants["contoso"]["service_principal"]["client_id"]
    assert after.commands[0] == (f'az login --service-principal --username {sp} --password "$AZURE_CLIENT_SECRET" '
                                 f"--tenant {env.tenant_id('contoso')}")
    assert "secret" not in " ".join(after.commands).replace("SECRET", "")


def test_wrong_client_secret_is_diagnosed_as_a_login_problem(
        sandbox: Sandbox, env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_CLIENT_ID", env.tenants["fabrikam"]["service_principal"]["client_id"])
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "not-the-secret")
    ctx, _ = make_context(sandbox, logins=LoginOptions(identity="service-principal"))

    failure = _failure(ctx)

    assert (failure.diagnosis.code, failure.diagnosis.step) == ("AADSTS7000215", "login")
    assert "AZURE_CLIENT_SECRET" in failure.diagnosis.fix
    assert "not-the-secret" not in str(failure.diagnosis)
