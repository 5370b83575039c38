"""Signing in, one tenant at a time: which azure-identity credential each login method builds, how a tenant
reference (an ID or a domain) becomes a tenant ID, and who a credential turned out to be.

The same code serves real Azure and the sandbox: everything cloud-specific (authority, CA) comes from `Cloud`.
Credentials live only in memory; what may be remembered (method, tenant, account name) is in `Account`.
Nothing here prints: the device-code prompt goes to the caller's callback (a `print` would tear a TUI apart).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from wizard import names
from wizard.diagnose import Diagnosis
from wizard.target import ARM_SCOPE, Cloud
from wizard.web import FetchError, get_json

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.identity import AuthenticationRecord

# auto: the sandbox's own service principal on a sandbox, the Azure CLI's login on real Azure.
METHODS = ("auto", "sandbox", "service-principal", "azure-cli", "device-code", "browser")
# The logins a person signs in to interactively: only these keep tokens across runs (in the OS's encrypted store)
# and leave an authentication record. The Azure CLI has its own cache; service principals never prompt.
INTERACTIVE = ("device-code", "browser")
# The persistent cache's name in the OS store (keyring / Keychain / DPAPI file): ours alone, not the shared
# cache of Microsoft's developer tools.
CACHE_NAME = "wi-wizard"
# The authentication record's keys (azure-identity's AuthenticationRecord.serialize): who and where, no secret.
RECORD_KEYS = ("authority", "clientId", "homeAccountId", "tenantId", "username", "version")
DevicePrompt = Callable[[str, str, Any], None]


class LoginError(Exception):
    """A login that cannot happen as asked; carries the diagnosis (cause and fix) to show."""

    def __init__(self, code: str, title: str, cause: str, fix: str, detail: str = "") -> None:
        super().__init__(f"{title}: {cause} {fix}")
        self.diagnosis = Diagnosis(code, title, cause, fix, "login", detail)


def method_for(cloud: Cloud, requested: str) -> str:
    """The concrete method behind a requested one (`auto` depends on the cloud)."""
    if requested not in METHODS:
        raise LoginError("UnknownLoginMethod", "Unknown login method",
                         f"{requested!r} is not a way to sign in.", f"Use one of: {', '.join(METHODS)}.")
    if requested == "auto":
        return "sandbox" if cloud.is_sandbox else "azure-cli"
    return requested


def discovery_url(cloud: Cloud, tenant: str) -> str:
    """Where MSAL reads a tenant's OpenID configuration (its tenant discovery) before signing in to it."""
    return f"{cloud.authority}/{tenant}/v2.0/.well-known/openid-configuration"


def resolve_tenant(cloud: Cloud, ref: str, key: str = "tenant", documents: dict[str, bytes] | None = None) -> str:
    """A tenant ID from a tenant ID or a verified domain. Domains are looked up in the tenant's OpenID metadata
    (`{authority}/{domain}/v2.0/.well-known/openid-configuration`, whose issuer names the tenant ID), which needs
    no sign-in and works for real Entra ID and the sandbox alike. `key` names the plan key in messages.

    `documents`: when given, the document read is kept there under the tenant ID's own discovery URL, so the
    sign-in that follows does not read it again (see `build_credential`) — only when the document is that tenant
    ID's (its token endpoint lies under `{authority}/{tenant ID}/`, as Entra's documents for a domain do)."""
    if names.is_guid(ref):
        return ref.lower()
    url = discovery_url(cloud, ref)
    try:
        document = get_json(url, cloud.ca_bundle)
    except FetchError as exc:
        described = exc.body.get("error_description") if isinstance(exc.body, dict) else None
        if exc.status in (400, 404):
            raise LoginError("AADSTS90002", "Tenant not found",
                             f"{cloud.authority} knows no tenant {ref!r} ({key}).",
                             f"Check {key}: give the tenant ID (a GUID) or a verified domain of the tenant, such as "
                             "contoso.onmicrosoft.com.", str(described or exc)) from None
        raise LoginError("TenantLookupFailed", "Tenant lookup failed",
                         f"Could not look up tenant {ref!r} ({key}) at {cloud.authority}.",
                         "Check the network connection (and the proxy), or give the tenant ID instead of the "
                         "domain.", str(exc)) from None
    issuer = document.get("issuer") if isinstance(document, dict) else None
    found = next((part for part in str(issuer or "").split("/") if names.is_guid(part)), None)
    if found is None:
        raise LoginError("TenantLookupFailed", "Tenant lookup failed",
                         f"The OpenID metadata of {ref!r} ({key}) names no tenant ID.",
                         "Give the tenant ID (a GUID) instead of the domain.", f"issuer: {issuer!r}")
    token_endpoint = str(document.get("token_endpoint") or "") if isinstance(document, dict) else ""
    if documents is not None and token_endpoint.lower().startswith(f"{cloud.authority}/{found}/".lower()):
        documents[discovery_url(cloud, found.lower()).lower()] = json.dumps(document).encode()
    return found.lower()


def _known_documents(cloud: Cloud, documents: Mapping[str, bytes]) -> Any:
    """An azure-core transport (TLS verified against the cloud's CA, as every other) that answers MSAL's tenant
    discovery GET from a document `resolve_tenant` read a moment ago in this run; every other request goes out."""
    import requests
    from azure.core.pipeline.transport import RequestsTransport
    from azure.core.rest import HttpRequest
    from azure.core.rest._requests_basic import RestRequestsTransportResponse

    class KnownDocuments(RequestsTransport):  # type: ignore[misc]
        def send(self, request: Any, **kwargs: Any) -> Any:
            wanted = request.method == "GET" and isinstance(request, HttpRequest)  # MSAL's: azure.core.rest's
            body = documents.get(str(request.url).lower()) if wanted else None
            if body is None:
                return super().send(request, **kwargs)
            raw = requests.Response()
            raw.status_code, raw.reason, raw.url = 200, "OK", str(request.url)
            raw.headers["Content-Type"] = "application/json"
            raw._content, raw._content_consumed = body, True  # no connection behind it to read or close
            response = RestRequestsTransportResponse(request=request, internal_response=raw)  # type: ignore[no-untyped-call]
            response.read()
            return response

    return KnownDocuments(connection_verify=cloud.ca_bundle) if cloud.ca_bundle else KnownDocuments()


def build_credential(cloud: Cloud, method: str, tenant_id: str, *, prompt: DevicePrompt | None = None,
                     environ: Mapping[str, str] | None = None, persist: bool = False,
                     record: AuthenticationRecord | None = None, silent_only: bool = False,
                     documents: Mapping[str, bytes] | None = None) -> TokenCredential:
    """The credential for one tenant (`auto` is resolved with `method_for`). Building one does not sign in: the
    first `get_token` does (and for device-code, calls `prompt` with the code to show).

    For the interactive methods only: `persist` keeps tokens in the OS's encrypted store under CACHE_NAME (never
    unencrypted: `allow_unencrypted_storage` stays False, so a machine without a keyring fails on first use and
    `login` falls back to memory); `record` names the account signed in before, so its cached tokens are found
    without a prompt; `silent_only` makes a missing or expired cached token an AuthenticationRequiredError instead
    of a prompt. `documents`: OpenID configurations `resolve_tenant` read this run, which MSAL then need not read
    again."""
    method = method_for(cloud, method)
    env = os.environ if environ is None else environ
    common = cloud.credential_kwargs()
    if documents and discovery_url(cloud, tenant_id).lower() in documents and method != "azure-cli":
        common["transport"] = _known_documents(cloud, documents)
    if method in INTERACTIVE:
        if persist:
            from azure.identity import TokenCachePersistenceOptions

            common["cache_persistence_options"] = TokenCachePersistenceOptions(name=CACHE_NAME)
        if record is not None:
            common["authentication_record"] = record
            common.pop("authority")  # the record names it (the same host: `saved_record` checks)
        if silent_only:
            common["disable_automatic_authentication"] = True
    if method == "sandbox":
        principal = cloud.sandbox_principal(tenant_id) if cloud.is_sandbox else None
        if principal is None:
            where = "real Azure has no sandbox login" if not cloud.is_sandbox else \
                f"the sandbox has no service principal in tenant {tenant_id}"
            raise LoginError("SandboxLoginUnavailable", "No sandbox login",
                             f"The 'sandbox' login was asked for, but {where}.",
                             "Use another login method (device-code, azure-cli, service-principal).")
        from azure.identity import ClientSecretCredential

        return ClientSecretCredential(tenant_id, principal["client_id"], principal["client_secret"],
                                      disable_instance_discovery=True, **common)
    if method == "service-principal":
        return _service_principal(tenant_id, env, common)
    if method == "azure-cli":
        if cloud.is_sandbox:
            raise LoginError("AzureCliOnSandbox", "Azure CLI login on the sandbox",
                             "The Azure CLI signs in to real Azure; its tokens mean nothing to the sandbox.",
                             "On the sandbox use the 'sandbox' login (its service principal) or device-code.")
        if shutil.which("az", path=env.get("PATH")) is None:
            raise LoginError("AzureCliMissing", "Azure CLI not found",
                             "The azure-cli login uses the `az` command, which is not on PATH.",
                             "Install the Azure CLI and run `az login`, or choose device-code (no install needed) "
                             "or service-principal (AZURE_CLIENT_ID and AZURE_CLIENT_SECRET).")
        from azure.identity import AzureCliCredential

        return AzureCliCredential(tenant_id=tenant_id, process_timeout=30)
    if method == "device-code":
        if prompt is None:
            raise LoginError("NoDeviceCodePrompt", "Nowhere to show the sign-in code",
                             "A device-code login shows a code the person types into a browser, but this run has "
                             "no place to show it.", "Run interactively, or use another login method.")
        from azure.identity import DeviceCodeCredential

        return DeviceCodeCredential(tenant_id=tenant_id, prompt_callback=prompt, disable_instance_discovery=True,
                                    **common)
    if method == "browser":
        if cloud.is_sandbox:
            raise LoginError("BrowserOnSandbox", "Browser login on the sandbox",
                             "The sandbox signs people in with device codes only.",
                             "Use device-code (the sandbox approves it on its /devicelogin page) or 'sandbox'.")
        from azure.identity import InteractiveBrowserCredential

        return InteractiveBrowserCredential(tenant_id=tenant_id, disable_instance_discovery=True, **common)
    raise AssertionError(f"method_for returned {method!r}")


def _service_principal(tenant_id: str, env: Mapping[str, str], common: dict[str, Any]) -> TokenCredential:
    """EnvironmentCredential's variables, with the tenant from the plan (AZURE_TENANT_ID is not consulted: each
    side of the plan names its own tenant)."""
    client_id = env.get("AZURE_CLIENT_ID", "")
    secret = env.get("AZURE_CLIENT_SECRET", "")
    certificate = env.get("AZURE_CLIENT_CERTIFICATE_PATH", "")
    if client_id and secret:
        from azure.identity import ClientSecretCredential

        return ClientSecretCredential(tenant_id, client_id, secret, disable_instance_discovery=True, **common)
    if client_id and certificate:
        from azure.identity import CertificateCredential

        return CertificateCredential(tenant_id, client_id, certificate,
                                     password=env.get("AZURE_CLIENT_CERTIFICATE_PASSWORD") or None,
                                     disable_instance_discovery=True, **common)
    missing = "AZURE_CLIENT_ID" if not client_id else "AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH)"
    raise LoginError("ServicePrincipalNotConfigured", "Service principal not configured",
                     f"The service-principal login reads the app's credentials from the environment; {missing} "
                     "is not set.",
                     "Export AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH) for an app "
                     "registered in the tenant, or choose another login method.")


@dataclass(frozen=True)
class Account:
    """Who a credential signed in as: a user name (users) or a client ID (apps). Never a secret."""

    name: str
    tenant_id: str
    object_id: str
    kind: str  # "user" | "app"


def account_of_token(token: str) -> Account:
    """The account behind an Entra access token, from its claims (read, not verified: the token came straight
    from Entra over TLS, and this is only for display and the tenant check)."""
    import jwt

    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return Account("(unknown account)", "", "", "user")
    user = claims.get("upn") or claims.get("unique_name") or claims.get("preferred_username") \
        or claims.get("email")
    if claims.get("idtyp") == "app" or not user:
        app = claims.get("appid") or claims.get("azp") or claims.get("oid") or "(unknown app)"
        return Account(str(app), str(claims.get("tid", "")), str(claims.get("oid", "")), "app")
    return Account(str(user), str(claims.get("tid", "")), str(claims.get("oid", "")), "user")


def sign_in(credential: TokenCredential, tenant_id: str, method: str) -> Account:
    """Get an ARM token (this is the moment a person is prompted) and say who signed in. A token of another
    tenant than asked is refused: every later call would be answered InvalidAuthenticationTokenTenant."""
    from azure.identity import CredentialUnavailableError

    try:
        token = credential.get_token(ARM_SCOPE)
    except CredentialUnavailableError as exc:
        if method == "azure-cli":
            raise LoginError("AzureCliNotSignedIn", "Azure CLI not signed in",
                             f"The Azure CLI has no usable login for tenant {tenant_id}.",
                             f"Run `az login --tenant {tenant_id}` and try again.", str(exc).split("\n")[0]) \
                from None
        raise
    account = account_of_token(token.token)
    if account.tenant_id and account.tenant_id.lower() != tenant_id.lower():
        raise LoginError("WrongTenant", "Signed in to another tenant",
                         f"The login returned a token of tenant {account.tenant_id}, not {tenant_id}.",
                         f"Sign in to tenant {tenant_id} (e.g. `az login --tenant {tenant_id}`).")
    return account


@dataclass
class SignedIn:
    """A finished interactive-capable login: the credential (memory only), who it is, the authentication record to
    remember (RECORD_KEYS, no secret; empty for non-interactive methods), and why tokens will not outlive this run
    when the OS store could not be used ("" when they will, or when the method keeps none)."""

    credential: TokenCredential
    account: Account
    record: dict[str, str] = field(default_factory=dict)
    cache_problem: str = ""
    prompted: bool = True


def login(cloud: Cloud, method: str, tenant_id: str, *, prompt: DevicePrompt | None = None,
          environ: Mapping[str, str] | None = None, saved: Mapping[str, str] | None = None,
          documents: Mapping[str, bytes] | None = None) -> SignedIn:
    """Sign in to one tenant. Interactive methods first try the account of `saved` (the session's authentication
    record) from the OS's encrypted token cache without a prompt, then sign in with the persistent cache, and when
    this machine has no usable OS store, again with tokens in memory only (`cache_problem` says why).
    `documents`: the OpenID configurations `resolve_tenant` read (see `build_credential`)."""
    method = method_for(cloud, method)
    if method not in INTERACTIVE:
        credential = build_credential(cloud, method, tenant_id, prompt=prompt, environ=environ, documents=documents)
        return SignedIn(credential, sign_in(credential, tenant_id, method))
    from azure.identity import AuthenticationRequiredError

    problem = ""
    record = saved_record(cloud, tenant_id, saved or {})
    if record is not None:
        quiet = build_credential(cloud, method, tenant_id, prompt=prompt, environ=environ, documents=documents,
                                 persist=True, record=record, silent_only=True)
        try:
            account = sign_in(quiet, tenant_id, method)
            # The same account and cache, but allowed to prompt should its refresh token lapse later in the run.
            again = build_credential(cloud, method, tenant_id, prompt=prompt, environ=environ, documents=documents,
                                     persist=True, record=record)
            return SignedIn(again, account, dict(saved or {}), prompted=False)
        except AuthenticationRequiredError:
            pass  # nothing usable cached for that account: sign in again
        except Exception as exc:
            problem = cache_unusable(exc) or ""
            if not problem:
                raise
    if not problem:
        credential = build_credential(cloud, method, tenant_id, prompt=prompt, environ=environ, documents=documents,
                                      persist=True)
        try:
            return _interactive(credential, tenant_id, method)
        except Exception as exc:
            problem = cache_unusable(exc) or ""
            if not problem:
                raise
    credential = build_credential(cloud, method, tenant_id, prompt=prompt, environ=environ, documents=documents)
    found = _interactive(credential, tenant_id, method)
    found.cache_problem = problem
    return found


def _interactive(credential: TokenCredential, tenant_id: str, method: str) -> SignedIn:
    """`authenticate` (the prompt) for the record, then the ARM token from the credential's cache (no prompt)."""
    record = credential.authenticate(scopes=[ARM_SCOPE])  # type: ignore[attr-defined]
    account = sign_in(credential, tenant_id, method)
    return SignedIn(credential, account, record_dict(record))


def record_dict(record: AuthenticationRecord) -> dict[str, str]:
    """The record as the session keeps it: its serialized fields (RECORD_KEYS), all plain text and none secret
    (the authority host, the public client ID, `<object ID>.<tenant ID>`, the tenant ID, the user name)."""
    import json

    data = json.loads(record.serialize())
    return {key: str(data[key]) for key in RECORD_KEYS if key in data}


def saved_record(cloud: Cloud, tenant_id: str, saved: Mapping[str, str]) -> AuthenticationRecord | None:
    """The session's record as azure-identity's AuthenticationRecord, when it can stand for this login: same
    authority host (a record redirects the credential to its own authority, and a sandbox restarted on another
    port has moved) and same tenant. Anything else is ignored: the person is simply asked to sign in."""
    if not saved or any(not isinstance(saved.get(key), str) or not saved.get(key) for key in RECORD_KEYS[:5]):
        return None
    if saved["authority"].lower() != urlsplit(cloud.authority).netloc.lower():
        return None
    if saved["tenantId"].lower() != tenant_id.lower():
        return None
    from azure.identity import AuthenticationRecord

    return AuthenticationRecord(saved["tenantId"], saved["clientId"], saved["authority"], saved["homeAccountId"],
                                saved["username"])


_NO_STORE = ("Cache encryption is impossible", "persistent cache is not available")


def cache_unusable(error: BaseException) -> str | None:
    """Why the OS's encrypted token store failed, when that is what `error` is (azure-identity raises it on the
    first use of a persistent cache, wrapped in ClientAuthenticationError or bare: a ValueError on Linux without
    libsecret/D-Bus, NotImplementedError elsewhere, msal-extensions' PersistenceError or KeychainError (OSError)
    when the store refuses); None for any other error."""
    seen: BaseException | None = error
    while seen is not None:
        text = str(seen)
        if any(marker in text for marker in _NO_STORE) or type(seen).__module__.startswith("msal_extensions"):
            root = seen
            while root.__cause__ is not None:
                root = root.__cause__
            return _first_line(root) or _first_line(seen)
        seen = seen.__cause__ or seen.__context__
    return None


def keyring_problem() -> str | None:
    """Why this machine cannot keep an encrypted token cache, or None when it can: the same store azure-identity
    picks (DPAPI on Windows, the Keychain on macOS, libsecret over D-Bus on Linux, probed the way msal-extensions
    probes it: a test secret written and removed). Used by `doctor`, which must not sign anyone in to find out."""
    if sys.platform.startswith("win"):
        return None if os.environ.get("LOCALAPPDATA") else "LOCALAPPDATA is not set, so DPAPI storage has no place"
    if sys.platform.startswith("darwin"):
        return None
    if not sys.platform.startswith("linux"):
        return f"azure-identity has no encrypted token store on {sys.platform}"
    try:
        from msal_extensions.libsecret import trial_run  # type: ignore[import-untyped]

        trial_run()
    except Exception as exc:  # ImportError (no PyGObject / libsecret), RuntimeError or GLib.Error (no D-Bus/keyring)
        return f"libsecret is not usable here ({_first_line(exc)})"
    return None


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
