"""Entra's refusals, in Entra's words.

Every refusal the sandbox's Entra gives is an `EntraError` raised from wherever the check lives and turned into
Entra's body (`{"error","error_description":"AADSTS…","error_codes",…}`) in one place. The texts are the real
service's, so tools and people that match on them (the wizard's log classifier, azwi's troubleshooting guide) see
what they would see against Azure.
"""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from wizard.sandbox.httputil import entra_error

FIC_DOCS = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
CASE_SENSITIVE_HINT = ("Please note that the matching is done using a case-sensitive comparison. Check your "
                       "federated identity credential Subject, Audience and Issuer against the presented assertion.")


class EntraError(Exception):
    """A refusal: HTTP status, OAuth `error`, AADSTS number and the text after `AADSTS<n>: `."""

    def __init__(self, status: int, error: str, code: int, description: str) -> None:
        super().__init__(f"AADSTS{code}: {description}")
        self.status = status
        self.error = error
        self.code = code
        self.description = description

    def response(self) -> web.Response:
        return entra_error(self.status, self.error, self.code, self.description)


# -- requests -------------------------------------------------------------------------------------------------

def tenant_not_found(ref: str, error: str = "invalid_request") -> EntraError:
    return EntraError(400, error, 90002,
                      f"Tenant '{ref}' not found. Check to make sure you have the correct tenant ID and are signing "
                      "into the correct cloud. Check with your subscription administrator, this may happen if there "
                      "are no active subscriptions for the tenant.")


def missing_parameter(name: str) -> EntraError:
    return EntraError(400, "invalid_request", 900144,
                      f"The request body must contain the following parameter: '{name}'.")


def duplicated_parameter(name: str) -> EntraError:
    return EntraError(400, "invalid_request", 9000411,
                      f"The request is not properly formatted. The parameter '{name}' is duplicated.")


def post_only(method: str) -> EntraError:
    return EntraError(400, "invalid_request", 900561,
                      f"The endpoint only accepts POST, OPTIONS requests. Received a {method} request.")


def unsupported_grant_type(grant_type: str) -> EntraError:
    return EntraError(400, "unsupported_grant_type", 70003,
                      f"The app requested an unsupported grant type '{grant_type}'.")


def tenant_required() -> EntraError:
    """Client credentials at /organizations or /common: Entra cannot tell whose directory to look in."""
    return EntraError(400, "invalid_request", 50059,
                      "No tenant-identifying information found in either the request or implied by any provided "
                      "credentials.")


def scope_required() -> EntraError:
    return EntraError(400, "invalid_scope", 70011,
                      "The provided request must include a 'scope' input parameter.")


def invalid_scope(scope: str) -> EntraError:
    return EntraError(400, "invalid_scope", 70011,
                      f"The provided value for the input parameter 'scope' is not valid. The scope '{scope}' is "
                      "not valid.")


def several_resources(scope: str) -> EntraError:
    return EntraError(400, "invalid_scope", 28000,
                      "Provided value for the input parameter scope is not valid because it contains more than "
                      f"one resource. Scope {scope} is not valid.")


def default_scope_required(scope: str) -> EntraError:
    return EntraError(400, "invalid_scope", 1002012,
                      f"The provided value for scope {scope} is not valid. Client credential flows must have a "
                      "scope value with /.default suffixed to the resource identifier (application ID URI).")


def resource_not_found(resource: str, tenant_name: str) -> EntraError:
    return EntraError(400, "invalid_resource", 500011,
                      f"The resource principal named {resource} was not found in the tenant named {tenant_name}. "
                      "This can happen if the application has not been installed by the administrator of the "
                      "tenant or consented to by any user in the tenant. You might have sent your authentication "
                      "request to the wrong tenant.")


# -- clients --------------------------------------------------------------------------------------------------

def app_not_found(client_id: str, directory_name: str) -> EntraError:
    return EntraError(400, "unauthorized_client", 700016,
                      f"Application with identifier '{client_id}' was not found in the directory "
                      f"'{directory_name}'. This can happen if the application has not been installed by the "
                      "administrator of the tenant or consented to by any user in the tenant. You may have sent "
                      "your authentication request to the wrong tenant.")


def invalid_client_secret(client_id: str) -> EntraError:
    return EntraError(401, "invalid_client", 7000215,
                      "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                      f"secret value, not the client secret ID, for a secret added to app '{client_id}'.")


def credential_required() -> EntraError:
    return EntraError(401, "invalid_client", 7000218,
                      "The request body must contain the following parameter: 'client_assertion' or "
                      "'client_secret'.")


def invalid_assertion_type() -> EntraError:
    return EntraError(400, "invalid_request", 50012,
                      "Client assertion type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.")


def malformed_assertion() -> EntraError:
    return EntraError(400, "invalid_request", 50027,
                      "JWT token is invalid or malformed. The client assertion must be a signed JWT carrying "
                      "'iss', 'sub', 'aud' and 'exp'.")


# -- workload identity federation -----------------------------------------------------------------------------

def no_federated_record(issuer: str, subject: str, audience: str) -> EntraError:
    return EntraError(400, "invalid_client", 70021,
                      "No matching federated identity record found for presented assertion. "
                      f"Assertion Issuer: '{issuer}'. Assertion Subject: '{subject}'. "
                      f"Assertion Audience: '{audience}'.")


def issuer_mismatch(issuer: str) -> EntraError:
    return EntraError(400, "invalid_client", 700211,
                      f"No matching federated identity record found for presented assertion issuer '{issuer}'. "
                      f"{CASE_SENSITIVE_HINT} {FIC_DOCS}")


def audience_mismatch(audience: str) -> EntraError:
    return EntraError(400, "invalid_client", 700212,
                      f"No matching federated identity record found for presented assertion audience "
                      f"'{audience}'. {CASE_SENSITIVE_HINT} {FIC_DOCS}")


def subject_mismatch(subject: str) -> EntraError:
    return EntraError(400, "invalid_client", 700213,
                      f"No matching federated identity record found for presented assertion subject '{subject}'. "
                      f"{CASE_SENSITIVE_HINT} {FIC_DOCS}")


def external_oidc_failed() -> EntraError:
    return EntraError(400, "invalid_client", 90061, "Request to External OIDC endpoint failed.")


def invalid_assertion_signature() -> EntraError:
    return EntraError(400, "invalid_client", 700027, "Client assertion contains an invalid signature.")


def _instant(epoch: float) -> str:
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


def assertion_out_of_time(now: float, not_before: float, expires: float) -> EntraError:
    return EntraError(400, "invalid_client", 700024,
                      f"Client assertion is not within its valid time range. Current time: {_instant(now)}, "
                      f"assertion valid from {_instant(not_before)}, expiry time of assertion {_instant(expires)}. "
                      "Review the documentation at https://learn.microsoft.com/entra/identity-platform/"
                      "certificate-credentials .")


def entra_token_as_assertion() -> EntraError:
    return EntraError(400, "invalid_client", 700222,
                      "AAD-issued tokens may not be used for federated identity flows.")


# -- users ----------------------------------------------------------------------------------------------------

def public_client_required() -> EntraError:
    """A confidential app (one with a secret) tried a user flow without authenticating itself."""
    return credential_required()


def authorization_pending() -> EntraError:
    return EntraError(400, "authorization_pending", 70016,
                      "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")


def authorization_declined() -> EntraError:
    return EntraError(400, "authorization_declined", 70000,
                      "The user has declined to authorize the application to sign in on this device.")


def device_code_expired() -> EntraError:
    return EntraError(400, "expired_token", 70020,
                      "The provided value for the input parameter 'device_code' is not valid. This device code "
                      "has expired.")


def invalid_grant() -> EntraError:
    return EntraError(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")


def grant_already_used() -> EntraError:
    return EntraError(400, "invalid_grant", 70000,
                      "Provided grant is invalid or malformed. The device code was already redeemed.")


def refresh_token_expired(issued: float, now: float) -> EntraError:
    return EntraError(400, "invalid_grant", 700082,
                      f"The refresh token has expired due to inactivity. The token was issued on {_instant(issued)} "
                      f"and was inactive for {dt.timedelta(seconds=int(now - issued))}.")


def user_not_in_tenant(upn: str, home_tenant_id: str, tenant_name: str, client_id: str, client_name: str) -> EntraError:
    app = f"'{client_id}'({client_name})" if client_name else f"'{client_id}'"
    return EntraError(400, "invalid_grant", 50020,
                      f"User account '{upn}' from identity provider 'https://sts.windows.net/{home_tenant_id}/' "
                      f"does not exist in tenant '{tenant_name}' and cannot access the application {app} in that "
                      "tenant. The account needs to be added as an external user in the tenant first. Sign out and "
                      "sign in again with a different Azure Active Directory user account.")


def server_error() -> EntraError:
    return EntraError(500, "server_error", 90100,
                      "The sandbox hit an unexpected error while processing the request; see sandbox.log.")
