"""The diagnosis table: every rule is reached by the error text people really get (Entra's AADSTS messages as the
sandbox and real Entra word them, ARM error bodies, webhook and API-server denials, pod reasons), and gives the
right code and step; tokens never survive into a diagnosis; anything unknown is still a diagnosis."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Env
from wizard.diagnose import RULES, Diagnosis, diagnose, diagnose_text, redact
from wizard.sandbox import Sandbox
from wizard.sandbox.entra import errors as entra

ISSUER = "https://eastus.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/1c0d2b5e-5d0c-4e6a-9f1e-1d2b/"
SUBJECT = "system:serviceaccount:default:wi-demo-account"
AUDIENCE = "api://AzureADTokenExchange"
TRACE = ("Trace ID: 0b7c3c4e-1d2f-4a80-9c55-2f9d3c1a5e00 Correlation ID: 5c7f1e2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b "
         "Timestamp: 2026-01-15 10:21:43Z")
MI_CLIENT = "408a650f-b26b-42f9-a9e7-9b2b07b01f3a"


def as_sdk(description: str, credential: str = "WorkloadIdentityCredential") -> str:
    """An Entra refusal as azure-identity raises it (and a workload prints it)."""
    return f"{credential}.get_token failed: Authentication failed: {description} {TRACE}"


# (what it is, the text, the code, the step that fixes it)
REALISTIC: list[tuple[str, str, str, str]] = [
    # -- Entra, as the sandbox words it (its texts are the real service's) --
    ("sandbox issuer mismatch", as_sdk(str(entra.issuer_mismatch(ISSUER.rstrip("/")))), "AADSTS700211", "federation"),
    ("sandbox audience mismatch", as_sdk(str(entra.audience_mismatch("api://Other"))), "AADSTS700212", "federation"),
    ("sandbox subject mismatch", as_sdk(str(entra.subject_mismatch(SUBJECT))), "AADSTS700213", "federation"),
    ("sandbox no record", as_sdk(str(entra.no_federated_record(ISSUER, SUBJECT, AUDIENCE))), "AADSTS70021",
     "federation"),
    ("sandbox wrong tenant", as_sdk(str(entra.app_not_found(MI_CLIENT, "Contoso"))), "AADSTS700016", "deploy"),
    ("sandbox stale token", as_sdk(str(entra.assertion_out_of_time(1_700_000_000, 1_699_990_000, 1_699_993_600))),
     "AADSTS700024", "deploy"),
    ("sandbox bad secret", as_sdk(str(entra.invalid_client_secret(MI_CLIENT)), "ClientSecretCredential"),
     "AADSTS7000215", "deploy"),
    ("sandbox unknown tenant", str(entra.tenant_not_found("contoso.onmicrosoft.co")), "AADSTS90002", "login"),
    ("sandbox issuer unreachable", as_sdk(str(entra.external_oidc_failed())), "AADSTS90061", "cluster"),
    ("sandbox guest missing", as_sdk(str(entra.user_not_in_tenant(
        "alex@contoso.onmicrosoft.com", "a28bdc64-6578-4235-9d03-5754ade8d8b7", "Fabrikam",
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "Microsoft Azure CLI")), "DeviceCodeCredential"),
     "AADSTS50020", "login"),
    # -- Entra, as the real service words it --
    ("issuer mismatch", "AADSTS700211: No matching federated identity record found for presented assertion issuer "
     f"'{ISSUER}'. Please check your federated identity credential Subject, Audience and Issuer against the "
     "presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
     "AADSTS700211", "federation"),
    ("audience mismatch", "AADSTS700212: No matching federated identity record found for presented assertion "
     "audience 'api://AzureADTokenExchange'.", "AADSTS700212", "federation"),
    ("subject mismatch", f"wi-probe: ERROR AADSTS700213: No matching federated identity record found for presented "
     f"assertion subject '{SUBJECT}'. Please check your federated identity credential Subject, Audience and Issuer "
     "against the presented assertion.", "AADSTS700213", "federation"),
    ("no record", f"AADSTS70021: No matching federated identity record found for presented assertion. Assertion "
     f"Issuer: '{ISSUER}'. Assertion Subject: '{SUBJECT}'. Assertion Audience: '{AUDIENCE}'. {TRACE}",
     "AADSTS70021", "federation"),
    ("no record, code lost", "ERROR: No matching federated identity record found for presented assertion.",
     "AADSTS70021", "federation"),
    ("identity in another tenant", "error: DefaultAzureCredential failed to retrieve a token from the included "
     f"credentials. WorkloadIdentityCredential: AADSTS700016: Application with identifier '{MI_CLIENT}' was not "
     "found in the directory 'Contoso'. This can happen if the application has not been installed by the "
     "administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication "
     "request to the wrong tenant.", "AADSTS700016", "deploy"),
    ("expired projected token", "AADSTS700024: Client assertion is not within its valid time range. Current time: "
     "2023-06-07T18:09:12.3344925Z, assertion valid from 2023-06-07T16:58:37.0000000Z, expiry time of assertion "
     "2023-06-07T17:58:37.0000000Z.", "AADSTS700024", "deploy"),
    ("signing keys rotated", "Microsoft Entra ID error '(invalid_client) AADSTS700027: Client assertion contains an "
     "invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '…']'",
     "AADSTS700027", "cluster"),
    ("entra token as assertion", "(invalid_client) AADSTS700222: AAD-issued tokens may not be used for federated "
     "identity flows.", "AADSTS700222", "deploy"),
    ("client secret in the pod", "(invalid_client) AADSTS7000215: Invalid client secret provided. Ensure the secret "
     "being sent in the request is the client secret value, not the client secret ID, for a secret added to app "
     f"'{MI_CLIENT}'.", "AADSTS7000215", "deploy"),
    ("unknown tenant", "AADSTS90002: Tenant 'b61ff71d-b1d1-4b23-aa1e-52a18e70d50f' not found. Check to make sure you "
     "have the correct tenant ID and are signing into the correct cloud.", "AADSTS90002", "login"),
    ("unknown tenant, MSAL", "DeviceCodeCredential.get_token failed: Unable to get authority configuration for "
     "https://login.microsoftonline.com/contoso.onmicrosoft.co. Authority would typically be in a format of "
     "https://login.microsoftonline.com/your_tenant", "AADSTS90002", "login"),
    ("issuer unreachable", "AADSTS90061: Request to External OIDC endpoint failed.", "AADSTS90061", "cluster"),
    ("not a guest", "AADSTS50020: User account 'alex@contoso.com' from identity provider 'live.com' does not exist "
     "in tenant 'Fabrikam' and cannot access the application '04b07795-8ddb-461a-bbee-02f9e1bf7b46'(Microsoft Azure "
     "CLI) in that tenant.", "AADSTS50020", "login"),
    ("MFA required", "AADSTS50076: Due to a configuration change made by your administrator, or because you moved to "
     "a new location, you must use multi-factor authentication to access '797f4846-ba00-4fd7-ba43-dac1f8f63013'.",
     "AADSTS-ConditionalAccess", "login"),
    ("blocked by policy", "AADSTS53003: Access has been blocked by Conditional Access policies. The access policy "
     "does not allow token issuance.", "AADSTS-ConditionalAccess", "login"),
    ("unsupported platform", "AADSTS50005: User tried to log in to a device from a platform (Unknown) that's "
     "currently not supported through Conditional Access policy.", "AADSTS-ConditionalAccess", "login"),
    ("consent", "AADSTS65001: The user or administrator has not consented to use the application with ID "
     "'04b07795-8ddb-461a-bbee-02f9e1bf7b46' named 'Microsoft Azure CLI'. Send an interactive authorization request "
     "for this user and resource.", "AADSTS65001", "login"),
    # -- ARM error bodies, as the azure-mgmt SDKs raise them --
    ("token of the other tenant", "(InvalidAuthenticationTokenTenant) The access token is from the wrong issuer "
     "'https://sts.windows.net/a28bdc64-6578-4235-9d03-5754ade8d8b7/'. It must match the tenant "
     "'https://sts.windows.net/b61ff71d-b1d1-4b23-aa1e-52a18e70d50e/' associated with this subscription.\n"
     "Code: InvalidAuthenticationTokenTenant", "InvalidAuthenticationTokenTenant", "login"),
    ("no role", "(AuthorizationFailed) The client '408a650f-b26b-42f9-a9e7-9b2b07b01f3a' with object id "
     "'36b5c00c-3a9f-41e0-9905-846e7d44a863' does not have authorization to perform action "
     "'Microsoft.Resources/subscriptions/read' over scope '/subscriptions/635cd26e-7ec3-41f4-80bd-176459f11e99' or "
     "the scope is invalid. If access was recently granted, please refresh your credentials.",
     "AuthorizationFailed", "role"),
    ("no role, az CLI in the probe", "wi-probe: ERROR Forbidden({\"error\":{\"code\":\"AuthorizationFailed\","
     "\"message\":\"The client 'x' with object id 'y' does not have authorization\"}})", "AuthorizationFailed",
     "role"),
    ("fresh identity", "(PrincipalNotFound) Principal 36b5c00c3a9f41e09905846e7d44a863 does not exist in the "
     "directory b61ff71d-b1d1-4b23-aa1e-52a18e70d50e. Check that you have the correct principal ID. If you are "
     "creating this principal and then immediately assigning a role, this error might be related to a replication "
     "delay.", "PrincipalNotFound", "role"),
    ("provider not registered", "(MissingSubscriptionRegistration) The subscription is not registered to use "
     "namespace 'Microsoft.ManagedIdentity'. See https://aka.ms/rps-not-found for how to register subscriptions.",
     "MissingSubscriptionRegistration", "identity"),
    ("assignment exists", "(RoleAssignmentExists) The role assignment already exists.\nCode: RoleAssignmentExists",
     "RoleAssignmentExists", ""),
    # -- Kubernetes: webhook and API-server denials, pod reasons and events --
    ("webhook: no service account", 'admission webhook "mutation.azure-workload-identity.io" denied the request: '
     'serviceaccounts "wi-demo-account" not found', "ServiceAccountMissing", "deploy"),
    ("API server: no service account", 'Error from server (Forbidden): error when creating "pod.yaml": pods '
     '"wi-demo-app" is forbidden: error looking up service account default/wi-demo-account: serviceaccount '
     '"wi-demo-account" not found', "ServiceAccountMissing", "deploy"),
    ("token lifetime", 'admission webhook "mutation.azure-workload-identity.io" denied the request: token expiration '
     "600 not valid. Expected value to be between 3600 and 86400", "TokenExpirationInvalid", "deploy"),
    ("image pull, waiting reason", 'ErrImagePull: failed to pull and unpack image "ttl.sh/wi-demo-app:1h": failed '
     'to resolve reference "ttl.sh/wi-demo-app:1h": ttl.sh/wi-demo-app:1h: not found', "ImagePullBackOff", "deploy"),
    ("image pull, back-off reason", 'ImagePullBackOff: Back-off pulling image "ttl.sh/wi-demo-app:1h"',
     "ImagePullBackOff", "deploy"),
    ("image pull, event", 'Back-off pulling image "registry.example.com/team/app:1.2"', "ImagePullBackOff", "deploy"),
    ("crash loop, waiting reason", "CrashLoopBackOff: back-off 40s restarting failed container=workload "
     "pod=wi-demo-app_default(1a497bef-2e73-45bd-b076-f9c0bedbbdf6)", "CrashLoopBackOff", "logs"),
    ("crash loop, event", "Back-off restarting failed container workload in pod wi-demo-app_default(1a497bef)",
     "CrashLoopBackOff", "logs"),
    ("not injected, deploy step", "pod default/wi-demo-app: AZURE_CLIENT_ID not injected as the pod was admitted",
     "EnvNotInjected", "deploy"),
    ("not injected, azure-identity", "WorkloadIdentityCredential authentication unavailable. The workload options are "
     "not fully configured. See the troubleshooting guide for more information: "
     "https://aka.ms/azsdk/python/identity/workloadidentitycredential/troubleshoot. Missing required arguments: "
     "'tenant_id', 'client_id', 'token_file_path'.", "EnvNotInjected", "deploy"),
]


@pytest.mark.parametrize("what, text, code, step", REALISTIC, ids=[r[0] for r in REALISTIC])
def test_a_realistic_error_text_gets_its_rule_and_step(what: str, text: str, code: str, step: str) -> None:
    found = diagnose(text, "elsewhere")

    assert (found.code, found.step) == (code, step), what
    assert found.title and found.cause and found.fix
    flat = " ".join(text.split())
    assert found.detail == (flat if len(flat) <= 600 else flat[:597] + "..."), "the original text, on one line"


def test_every_rule_is_reached_by_some_realistic_text() -> None:
    assert {code for _, _, code, _ in REALISTIC} == {rule.code for rule in RULES}


def test_rule_codes_are_unique_so_each_row_can_be_told_apart() -> None:
    codes = [rule.code for rule in RULES]
    assert len(codes) == len(set(codes))


def test_diagnose_text_matches_the_first_rule_only_and_none_for_unknown_text() -> None:
    both = ("AADSTS700213: No matching federated identity record found for presented assertion subject 'x'. "
            "(after AADSTS70021 was retried)")
    first = diagnose_text(both)
    assert first is not None and first.code == "AADSTS700213"
    assert diagnose_text("everything is fine") is None


def test_a_diagnosis_reads_as_title_code_cause_fix_and_step() -> None:
    found = diagnose("(RoleAssignmentExists) The role assignment already exists.")
    assert str(found) == ("Role already assigned [RoleAssignmentExists]: The same role is already assigned to the "
                          "identity at this scope (under another name). Fix: Nothing to do: the assignment exists.")
    assert set(found.to_dict()) == {"code", "title", "cause", "fix", "step", "detail"}


# -- errors raised by the real clients against the sandbox -----------------------------------------------------

@pytest.fixture
def quiet_identity() -> Iterator[None]:
    """azure-identity logs each failed get_token at WARNING; the failures are the point here."""
    logger = logging.getLogger("azure.identity")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


@pytest.mark.usefixtures("quiet_identity")
def test_the_sdks_own_exceptions_are_diagnosed(env: Env) -> None:
    from azure.identity import ClientSecretCredential, WorkloadIdentityCredential
    from azure.mgmt.resource.resources import ResourceManagementClient

    contoso = env.tenants["contoso"]["service_principal"]

    def failure(call: object) -> Diagnosis:
        assert callable(call)
        with pytest.raises(Exception) as raised:
            call()
        return diagnose(raised.value, "login")

    def token(tenant_id: str, secret: str) -> object:
        return lambda: ClientSecretCredential(tenant_id, contoso["client_id"], secret, disable_instance_discovery=True,
                                              **env.common()).get_token("https://management.azure.com/.default")

    wrong_secret = failure(token(env.tenant_id("contoso"), "not-the-secret"))
    assert wrong_secret.code == "AADSTS7000215"
    assert "ClientAuthenticationError" in wrong_secret.detail and "not-the-secret" not in wrong_secret.detail

    assert failure(token(env.tenant_id("fabrikam"), contoso["client_secret"])).code == "AADSTS700016"
    assert failure(token("00000000-0000-0000-0000-0000000000ff", "x")).code == "AADSTS90002"

    arm = ResourceManagementClient(env.sp_credential("contoso"), env.subscription_id("fabrikam"),
                                   **env.client_kwargs())
    other_tenant = failure(lambda: list(arm.resource_groups.list()))
    assert (other_tenant.code, other_tenant.step) == ("InvalidAuthenticationTokenTenant", "login")

    not_injected = failure(WorkloadIdentityCredential)  # the pod's env without the webhook's variables
    assert (not_injected.code, not_injected.step) == ("EnvNotInjected", "deploy")


def test_kubernetes_api_exceptions_are_diagnosed_from_their_status_message(sandbox: Sandbox) -> None:
    """ApiException's own text is headers plus escaped JSON; the Status message inside is what is matched."""
    import kubernetes

    config: Any = kubernetes.config  # the client's own types are partial; these tests read its exceptions
    core: Any = kubernetes.client.CoreV1Api(config.new_client_from_config(str(sandbox.kubeconfig)))

    def refused(name: str, service_account: str, annotations: dict[str, str]) -> Diagnosis:
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "labels": {"azure.workload.identity/use": "true"},
                            "annotations": annotations},
               "spec": {"serviceAccountName": service_account, "containers": [{"name": "c", "image": "busybox"}]}}
        with pytest.raises(kubernetes.client.ApiException) as raised:
            core.create_namespaced_pod("default", pod)
        return diagnose(raised.value, "deploy")

    missing = refused("diag-no-sa", "diag-ghost", {})
    assert missing.code == "ServiceAccountMissing"
    assert missing.detail == ('ForbiddenException (403 Forbidden): pods "diag-no-sa" is forbidden: error looking up '
                              'service account default/diag-ghost: serviceaccount "diag-ghost" not found')

    too_short = refused("diag-expiry", "default",
                        {"azure.workload.identity/service-account-token-expiration": "100"})
    assert too_short.code == "TokenExpirationInvalid"
    assert too_short.detail.startswith("BadRequestException (400 Bad Request): admission webhook")


# -- tokens are never kept ---------------------------------------------------------------------------------------

def test_a_jwt_in_error_text_is_redacted_from_the_diagnosis(env: Env) -> None:
    token = env.sp_credential("contoso").get_token("https://management.azure.com/.default").token
    text = (f"(AuthorizationFailed) request with Authorization: Bearer {token} was refused; "
            f"the assertion was {token}.")

    found = diagnose(text)

    assert found.code == "AuthorizationFailed"
    for kept in (found.detail, str(found), *found.to_dict().values()):
        assert token not in kept
        assert token.split(".")[2] not in kept, "not even the signature"
        assert "eyJ" not in kept
    assert found.detail.count("<redacted token>") == 2


def test_a_jwt_in_an_exceptions_body_is_redacted_too() -> None:
    token = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImFiYyJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJlLXBhcnQ"

    class ApiLikeError(Exception):
        body = f'{{"kind":"Status","message":"token {token} rejected: Unauthorized"}}'.encode()
        status, reason = 401, "Unauthorized"

    found = diagnose(ApiLikeError("(401)"), "trust")

    assert found.code == "Unexpected" and found.step == "trust"
    assert found.detail == "ApiLikeError (401 Unauthorized): token <redacted token> rejected: Unauthorized"


def test_redact_leaves_text_that_is_not_a_token_alone() -> None:
    plain = "eyJ is how JSON starts in base64; a.b.c is not a token; api://AzureADTokenExchange"
    assert redact(plain) == plain


# -- unknown errors ---------------------------------------------------------------------------------------------

def test_an_unknown_error_is_still_a_diagnosis_pointing_at_the_step() -> None:
    found = diagnose(RuntimeError("the disk is on fire"), "identity")

    assert (found.code, found.title, found.step) == ("Unexpected", "Unexpected error", "identity")
    assert found.detail == "RuntimeError the disk is on fire"
    assert "retry the step" in found.fix


def test_an_unknown_error_text_is_kept_on_one_line_and_bounded() -> None:
    found = diagnose("first line\nsecond\tline  " + "x" * 2000, "logs")

    assert found.code == "Unexpected" and found.step == "logs"
    assert "\n" not in found.detail and "\t" not in found.detail
    assert found.detail.startswith("first line second line x")
    assert len(found.detail) == 600 and found.detail.endswith("...")


def test_an_empty_error_is_still_a_diagnosis() -> None:
    assert diagnose("", "cluster").code == "Unexpected"
    assert diagnose(Exception(), "cluster").detail == "Exception"
