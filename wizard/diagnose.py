"""Diagnosis: one table from error signatures to a plain-language cause, the fix, and the step to revisit.

Used by the trust check, the logs step and the command line. Signatures are matched on the error's text
(AADSTS codes, ARM error codes, Kubernetes reasons, webhook messages), so the same table reads SDK exceptions,
API error bodies and a workload's log lines.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Diagnosis:
    code: str  # the signature that matched, e.g. "AADSTS700016" or "AuthorizationFailed"
    title: str  # what happened, in a few words
    cause: str  # why, in plain words
    fix: str  # what to do
    step: str  # the step that fixes it (a step name), or "" when none does
    detail: str = ""  # the original error text (one line, never a token)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        where = f" (step: {self.step})" if self.step else ""
        return f"{self.title} [{self.code}]: {self.cause} Fix: {self.fix}{where}"


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    code: str
    title: str
    cause: str
    fix: str
    step: str


def _rule(pattern: str, code: str, title: str, cause: str, fix: str, step: str) -> _Rule:
    return _Rule(re.compile(pattern, re.IGNORECASE), code, title, cause, fix, step)


# Most specific first: the first match wins.
RULES: tuple[_Rule, ...] = (
    _rule(r"AADSTS700211\b", "AADSTS700211", "Issuer mismatch",
          "No federated credential on the identity trusts the issuer the token came from. Most often the issuer "
          "was typed without its trailing '/', or the cluster's issuer changed (OIDC enabled later, cluster "
          "re-created).",
          "Set the federated credential's issuer to the cluster's issuer URL exactly as ARM reports it.",
          "federation"),
    _rule(r"AADSTS700212\b", "AADSTS700212", "Audience mismatch",
          "The federated credential expects another audience than the token carries.",
          "Use the audience api://AzureADTokenExchange on both the credential and the projected token.",
          "federation"),
    _rule(r"AADSTS700213\b", "AADSTS700213", "Subject mismatch",
          "No federated credential matches the pod's ServiceAccount (subject system:serviceaccount:<ns>:<sa>; "
          "matching is case-sensitive).",
          "Make the credential's subject name the namespace and ServiceAccount the pod really uses.",
          "federation"),
    _rule(r"AADSTS70021\b|No matching federated identity record", "AADSTS70021",
          "No matching federated credential",
          "Entra found no federated credential for the presented token. Right after a credential is created "
          "this is propagation (it can take a few minutes); otherwise issuer, subject or audience differ.",
          "Wait a minute and retry; if it persists, compare issuer, subject and audience byte for byte.",
          "federation"),
    _rule(r"AADSTS700016\b", "AADSTS700016", "Identity not found in that tenant",
          "The workload asked the wrong tenant for its token: the managed identity lives in another tenant "
          "(the classic cross-tenant failure: AZURE_TENANT_ID still names the cluster's tenant), or the client "
          "ID is wrong.",
          "Set AZURE_TENANT_ID on the pod to the identity's tenant as an explicit env entry (never via envFrom), "
          "and check the ServiceAccount's client-id annotation.",
          "deploy"),
    _rule(r"AADSTS700024\b", "AADSTS700024", "Expired service-account token",
          "The projected token presented was outside its validity window: the app cached it, or its SDK never "
          "re-reads the token file.",
          "Use a current azure-identity (it re-reads the token file) and recreate the pod.", "deploy"),
    _rule(r"AADSTS700027\b", "AADSTS700027", "Token signature not accepted",
          "Entra could not verify the service-account token with the keys the cluster's issuer publishes: the "
          "signing keys were rotated (or the issuer serves stale keys).",
          "Recreate the pod so it gets a fresh token; on AKS, after `az aks oidc-issuer rotate-signing-keys`, "
          "wait for the new keys to be published.", "cluster"),
    _rule(r"AADSTS700222\b", "AADSTS700222", "Entra token used as the assertion",
          "An Entra-issued token was presented where the cluster's service-account token belongs.",
          "Present the projected service-account token (AZURE_FEDERATED_TOKEN_FILE), not an Entra token.",
          "deploy"),
    _rule(r"AADSTS7000215\b", "AADSTS7000215", "Invalid client secret",
          "A client secret was used instead of the federated token: usually AZURE_CLIENT_SECRET is set in the pod, "
          "so EnvironmentCredential runs before workload identity.",
          "Remove AZURE_CLIENT_SECRET from the pod (or the login's secret is wrong).", "deploy"),
    # MSAL reports an unknown tenant of a user login as "Unable to get authority configuration" (no AADSTS code).
    _rule(r"AADSTS90002\b|Unable to get authority configuration", "AADSTS90002", "Tenant not found",
          "The tenant ID or domain is wrong, or it belongs to another cloud.",
          "Check the tenant ID (and AZURE_AUTHORITY_HOST for sovereign clouds).", "login"),
    _rule(r"AADSTS90061\b", "AADSTS90061", "Issuer unreachable",
          "Entra could not fetch the cluster's OIDC discovery document or keys.",
          "Check that the issuer URL is public and correct; on AKS run `az aks update` to reconcile the issuer.",
          "cluster"),
    _rule(r"AADSTS50020\b", "AADSTS50020", "Account not in that tenant",
          "The signed-in user is neither a member nor a guest of the tenant.",
          "Sign in to that tenant with an account of it, or have an admin invite yours as a guest.", "login"),
    _rule(r"AADSTS(50076|50005|53003)\b", "AADSTS-ConditionalAccess", "Blocked by Conditional Access",
          "A tenant policy (MFA, device compliance) blocked this sign-in.",
          "Sign in on a compliant device, use the browser login, or use a service principal.", "login"),
    _rule(r"AADSTS65001\b", "AADSTS65001", "Consent required",
          "The application has not been consented to in this tenant.",
          "Ask a tenant administrator to consent, or sign in with the Azure CLI.", "login"),
    _rule(r"InvalidAuthenticationTokenTenant", "InvalidAuthenticationTokenTenant", "Token from the wrong tenant",
          "A token of one tenant was used on a subscription of another.",
          "Sign in to the tenant that owns the subscription (each side has its own login).", "login"),
    _rule(r"AuthorizationFailed|does not have authorization to perform action", "AuthorizationFailed",
          "Not authorized",
          "The identity is signed in but has no role allowing this action at this scope, or a new role "
          "assignment has not taken effect yet (up to 10 minutes).",
          "Grant a role that allows the action at that scope (or wait for a fresh assignment to propagate).",
          "role"),
    _rule(r"PrincipalNotFound", "PrincipalNotFound", "Identity not replicated yet",
          "The new identity's service principal is not visible to role assignments yet.",
          "Retry in a few seconds; the wizard sends principalType=ServicePrincipal to shorten this.", "role"),
    _rule(r"MissingSubscriptionRegistration", "MissingSubscriptionRegistration", "Resource provider not registered",
          "The subscription is not registered for a resource provider the step needs.",
          "Register the provider (`az provider register --namespace …`); the wizard does it when allowed.",
          "identity"),
    _rule(r"RoleAssignmentExists", "RoleAssignmentExists", "Role already assigned",
          "The same role is already assigned to the identity at this scope (under another name).",
          "Nothing to do: the assignment exists.", ""),
    _rule(r'denied the request: serviceaccounts? "?[^"]*"? not found|serviceaccount "[^"]*" not found',
          "ServiceAccountMissing", "ServiceAccount missing",
          "The pod names a ServiceAccount that does not exist, so the workload identity webhook refused it.",
          "Create the ServiceAccount before the pod.", "deploy"),
    _rule(r"token expiration \S+ not valid", "TokenExpirationInvalid", "Token lifetime out of range",
          "The service-account-token-expiration annotation is outside 3600–86400 seconds.",
          "Remove the annotation or set it between 3600 and 86400.", "deploy"),
    _rule(r"ImagePullBackOff|ErrImagePull|Back-off pulling image", "ImagePullBackOff", "Image cannot be pulled",
          "The cluster cannot pull the workload's image (name, tag or registry access).",
          "Check the image reference, and give the cluster pull access to its registry.", "deploy"),
    _rule(r"CrashLoopBackOff|Back-off restarting failed container", "CrashLoopBackOff", "Workload keeps crashing",
          "The container starts and exits with an error, again and again.",
          "Read the workload's logs for the error above this line.", "logs"),
    # The last alternative is azure-identity's WorkloadIdentityCredential when the webhook injected nothing.
    _rule(r"AZURE_CLIENT_ID.*(missing|not (set|injected))|not injected|"
          r"WorkloadIdentityCredential authentication unavailable", "EnvNotInjected",
          "Workload identity not injected",
          "The webhook did not add AZURE_CLIENT_ID/AZURE_FEDERATED_TOKEN_FILE: the pod lacks the label "
          "azure.workload.identity/use: \"true\", workload identity is off on the cluster, or the ServiceAccount "
          "has no client-id annotation.",
          "Label the pod (not the Deployment), enable workload identity, annotate the ServiceAccount, and "
          "recreate the pod.", "deploy"),
)


def diagnose_text(text: str) -> Diagnosis | None:
    """The first rule that matches the text, or None."""
    for rule in RULES:
        if rule.pattern.search(text):
            return Diagnosis(rule.code, rule.title, rule.cause, rule.fix, rule.step, _one_line(text))
    return None


def diagnose(error: BaseException | str, step: str = "") -> Diagnosis:
    """A diagnosis for any error; unknown errors still get a plain description and point at `step`."""
    text = error if isinstance(error, str) else _error_text(error)
    found = diagnose_text(text)
    if found is not None:
        return found
    return Diagnosis("Unexpected", "Unexpected error", "The step failed with an error the wizard does not know.",
                     "Read the error below; retry the step once the cause is fixed.", step, _one_line(text))


def _error_text(error: BaseException) -> str:
    body = getattr(error, "body", None)  # kubernetes ApiException
    message = _status_message(body.decode(errors="replace") if isinstance(body, bytes) else body)
    if message is not None:
        # A Kubernetes Status: its message is the error. The exception's own text is response headers and the
        # body as escaped JSON (`serviceaccount \"x\" not found`), which the signatures would not match.
        status = " ".join(str(part) for part in (getattr(error, "status", ""), getattr(error, "reason", "")) if part)
        return f"{type(error).__name__} ({status}): {message}" if status else f"{type(error).__name__}: {message}"
    return f"{type(error).__name__} {error}"


def _status_message(body: object) -> str | None:
    """The `message` of a Kubernetes Status body, or None when the body is not one."""
    if not isinstance(body, str) or not body.lstrip().startswith("{"):
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    message = data.get("message") if isinstance(data, dict) else None
    return message if isinstance(message, str) and message else None


_BEARER = re.compile(r"(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)")


# A credential quoted by name, as verbose HTTP errors and form bodies carry them: `client_secret=…`,
# `"refresh_token": "…"`, `Authorization: Bearer …`, `password=…`: the name is kept, the value goes.
_NAMED_SECRET = re.compile(
    r"""((?:client_secret|client_assertion|assertion|refresh_token|access_token|id_token|device_code|password|"""
    r"""secret|code_verifier)["']?\s*[=:]\s*["']?|\bBearer\s+)(?!<redacted)[^\s&"',;]+""", re.IGNORECASE)


def redact(text: str) -> str:
    """The text with anything that looks like a JWT, and any value quoted as a credential, replaced (for log lines
    kept as evidence and every error shown or saved)."""
    return _NAMED_SECRET.sub(r"\1<redacted>", _BEARER.sub("<redacted token>", text))


def _one_line(text: str) -> str:
    """One line, at most 600 characters, with anything that looks like a JWT redacted."""
    flat = " ".join(redact(text).split())
    return flat if len(flat) <= 600 else flat[:597] + "..."
