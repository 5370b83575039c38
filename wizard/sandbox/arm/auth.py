"""Who is calling: the bearer token ARM requires on every call, checked for signature, expiry, audience and,
on subscription paths, for the tenant that owns the subscription. Failures carry ARM's codes, messages and the
`WWW-Authenticate` header tools read to find a subscription's tenant."""

from __future__ import annotations

import datetime as dt

from wizard.sandbox import directory, tokens
from wizard.sandbox.arm.context import Call
from wizard.sandbox.arm.errors import ArmError
from wizard.sandbox.keys import unverified_claims

_ALLOWED_AUDIENCES = ("'https://management.core.windows.net/','https://management.core.windows.net',"
                      "'https://management.azure.com/','https://management.azure.com'")


def _www_authenticate(tenant_id: str, description: str) -> dict[str, str]:
    return {"WWW-Authenticate": f'Bearer authorization_uri="https://login.windows.net/{tenant_id}", '
                                f'error="invalid_token", error_description="{description}"'}


def _dotnet_time(epoch: float) -> str:
    """ARM prints token times the .NET way: `5/9/2019 7:22:08 PM`."""
    t = dt.datetime.fromtimestamp(epoch, dt.UTC)
    half = "AM" if t.hour < 12 else "PM"
    return f"{t.month}/{t.day}/{t.year} {(t.hour % 12) or 12}:{t.minute:02}:{t.second:02} {half}"


def _unauthorized(code: str, message: str, headers: dict[str, str] | None = None) -> ArmError:
    return ArmError(401, code, message, headers)


def authenticate(call: Call) -> None:
    """Fill `call.claims` (and `call.subscription` on subscription paths) or raise ARM's 400/401/404."""
    world = call.world
    sid = call.subscription_id
    sub = directory.subscription(world, sid) if sid and directory.is_guid(sid) else None
    header = call.request.headers.get("Authorization", "")
    if not header.strip():
        raise _unauthorized(
            "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
            _www_authenticate(sub["tenant_id"], "The authentication failed because of missing 'Authorization' "
                                                "header.") if sub else None)
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("AuthenticationFailed",
                            "Authentication failed. The 'Authorization' header is provided in an invalid format.")
    try:
        claims = tokens.verify(world, token, tokens.ARM_AUDIENCES)
    except tokens.TokenError as exc:
        raise _token_error(exc, token, world.clock()) from None
    call.claims = claims
    if sid is None:
        return
    if not directory.is_guid(sid):
        raise ArmError(400, "InvalidSubscriptionId",
                       f"The provided subscription identifier '{sid}' is malformed or invalid.")
    if sub is None:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{sid}' could not be found.")
    owner = sub["tenant_id"]
    if str(claims.get("tid", "")).lower() != owner.lower():
        raise _unauthorized(
            "InvalidAuthenticationTokenTenant",
            f"The access token is from the wrong issuer 'https://sts.windows.net/{claims.get('tid')}/'. It must match "
            f"the tenant 'https://sts.windows.net/{owner}/' associated with this subscription. Please use the "
            f"authority (URL) 'https://login.windows.net/{owner}' to get the token. Note, if the subscription is "
            "transferred to another tenant there is no impact to the services, but information about new tenant "
            "could take time to propagate (up to an hour). If you just transferred your subscription and see this "
            "error message, please try back later.",
            _www_authenticate(owner, "The access token is from the wrong issuer."))
    call.subscription = sub


def _token_error(exc: tokens.TokenError, token: str, now: float) -> ArmError:
    claims = unverified_claims(token) or {}
    if exc.reason == "expired":
        return _unauthorized("ExpiredAuthenticationToken",
                             f"The access token expiry UTC time '{_dotnet_time(float(claims.get('exp', 0)))}' is "
                             f"earlier than current UTC time '{_dotnet_time(now)}'.")
    if exc.reason == "audience":
        return _unauthorized("InvalidAuthenticationTokenAudience",
                             f"The access token has been obtained for wrong audience or resource "
                             f"'{claims.get('aud', '')}'. It should exactly match with one of the allowed audiences "
                             f"{_ALLOWED_AUDIENCES}.")
    return _unauthorized("InvalidAuthenticationToken", "The access token is invalid.")
