"""Workload identity federation: a client assertion (an AKS service-account token, say) exchanged for an access
token of a user-assigned managed identity, checked the way Entra checks it.

1. `client_id` names an identity owned by the tenant of the request (else AADSTS700016: the classic cross-tenant
   mistake of asking tenant A for tenant B's identity).
2. The assertion is a JWT with `iss`, `sub`, `aud`, `exp`; not one Entra itself issued (700222); within its
   validity window (700024).
3. One of the identity's federated identity credentials has exactly the assertion's issuer, subject and an
   audience (byte for byte — a missing trailing slash is a mismatch): 70021 when the identity has no visible
   credential at all, else 700211 / 700213 / 700212 for the first of issuer, subject, audience that fails.
   With the `fic-propagation` fault a credential younger than the fault's seconds is not visible yet.
4. The issuer's discovery document and JWKS, fetched over HTTPS with verification on (the sandbox CA is trusted,
   so cluster issuers on the sandbox and test issuers with sandbox-signed certificates work), verify the
   signature (90061 when they cannot be fetched, 700027 when no key verifies it).
"""

from __future__ import annotations

import json
import ssl
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt

from wizard.sandbox import armstore, directory, keys, tokens
from wizard.sandbox.directory import Principal
from wizard.sandbox.entra import errors
from wizard.sandbox.world import World

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FIC_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
CLOCK_SKEW_SECONDS = 300
METADATA_CACHE_SECONDS = 60
FETCH_TIMEOUT_SECONDS = 5
MAX_DOCUMENT_BYTES = 1 << 20
ENTRA_ISSUER_PREFIXES = ("https://sts.windows.net/", "https://login.microsoftonline.com/")


@dataclass(frozen=True)
class Assertion:
    token: str
    issuer: str
    subject: str
    audiences: tuple[str, ...]
    not_before: float
    expires: float
    kid: str | None
    alg: str | None

    @property
    def audience_text(self) -> str:
        return ",".join(self.audiences)


def parse_assertion(token: str) -> Assertion:
    claims = keys.unverified_claims(token)
    header = keys.unverified_header(token)
    if claims is None or header is None:
        raise errors.malformed_assertion()
    iss, sub, aud, exp = claims.get("iss"), claims.get("sub"), claims.get("aud"), claims.get("exp")
    audiences = (aud,) if isinstance(aud, str) else tuple(aud) if isinstance(aud, list) else ()
    if (not isinstance(iss, str) or not isinstance(sub, str) or not audiences
            or not all(isinstance(a, str) for a in audiences) or not isinstance(exp, int | float)):
        raise errors.malformed_assertion()
    nbf = claims.get("nbf", claims.get("iat"))
    kid, alg = header.get("kid"), header.get("alg")
    return Assertion(token, iss, sub, audiences, float(nbf) if isinstance(nbf, int | float) else 0.0, float(exp),
                     kid if isinstance(kid, str) else None, alg if isinstance(alg, str) else None)


def _entra_issued(world: World, assertion: Assertion) -> bool:
    own_v2 = world.url("/")
    return (assertion.issuer.startswith(ENTRA_ISSUER_PREFIXES)
            or (assertion.issuer.startswith(own_v2) and assertion.issuer.endswith("/v2.0"))
            or assertion.kid == world.key(tokens.ENTRA_KEY).kid)


def _check_time(world: World, assertion: Assertion) -> None:
    now = world.clock()
    if now + CLOCK_SKEW_SECONDS < assertion.not_before or now - CLOCK_SKEW_SECONDS >= assertion.expires:
        raise errors.assertion_out_of_time(now, assertion.not_before, assertion.expires)


def visible_credentials(world: World, identity_id: str) -> list[dict[str, Any]]:
    """The identity's federated credentials Entra knows of now (the fic-propagation fault hides young ones)."""
    delay = world.faults.seconds("fic-propagation")
    now = world.clock()
    return [fic for fic in armstore.children(world, identity_id, FIC_TYPE)
            if now - float(fic.get(armstore.INTERNAL, {}).get("created", 0.0)) >= delay]


def match_credential(credentials: list[dict[str, Any]], assertion: Assertion) -> dict[str, Any]:
    if not credentials:
        raise errors.no_federated_record(assertion.issuer, assertion.subject, assertion.audience_text)
    props = [fic.get("properties", {}) for fic in credentials]
    same_issuer = [p for p in props if p.get("issuer") == assertion.issuer]
    if not same_issuer:
        raise errors.issuer_mismatch(assertion.issuer)
    same_subject = [p for p in same_issuer if p.get("subject") == assertion.subject]
    if not same_subject:
        raise errors.subject_mismatch(assertion.subject)
    for fic, p in zip(credentials, props, strict=True):
        if p in same_subject and any(a in (p.get("audiences") or []) for a in assertion.audiences):
            return fic
    raise errors.audience_mismatch(assertion.audience_text)


class IssuerKeys:
    """Discovery + JWKS of external issuers, fetched like Entra does and kept briefly (≤ 60 s) per issuer."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._session: aiohttp.ClientSession | None = None
        self._cache: dict[str, tuple[float, list[dict[str, Any]]]] = {}

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            ca = self._world.ca_path
            context = ssl.create_default_context(cafile=str(ca)) if ca else ssl.create_default_context()
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=context),
                timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS),
                headers={"User-Agent": "wi-wizard-sandbox-entra"},
            )
        return self._session

    async def _get_json(self, url: str) -> dict[str, Any]:
        if not url.lower().startswith("https://"):
            raise errors.external_oidc_failed()
        try:
            async with self._client().get(url, allow_redirects=False) as response:
                body = await response.content.read(MAX_DOCUMENT_BYTES + 1)
                if response.status != 200 or len(body) > MAX_DOCUMENT_BYTES:
                    raise errors.external_oidc_failed()
        except (TimeoutError, OSError, aiohttp.ClientError, ValueError):
            raise errors.external_oidc_failed() from None
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise errors.external_oidc_failed() from None
        if not isinstance(document, dict):
            raise errors.external_oidc_failed()
        return document

    async def keys(self, issuer: str, *, fresh: bool = False) -> list[dict[str, Any]]:
        cached = self._cache.get(issuer)
        if cached is not None and not fresh and time.monotonic() - cached[0] < METADATA_CACHE_SECONDS:
            return cached[1]
        configuration = await self._get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        jwks_uri = configuration.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise errors.external_oidc_failed()
        jwk_set = await self._get_json(jwks_uri)
        found = jwk_set.get("keys")
        if not isinstance(found, list):
            raise errors.external_oidc_failed()
        usable = [k for k in found if isinstance(k, dict)]
        self._cache[issuer] = (time.monotonic(), usable)
        return usable

    def cached_recently(self, issuer: str) -> bool:
        cached = self._cache.get(issuer)
        return cached is not None and time.monotonic() - cached[0] < 1.0

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _verifies(assertion: Assertion, jwk: dict[str, Any]) -> bool:
    try:
        key = jwt.PyJWK(jwk, algorithm="RS256").key
        jwt.decode(assertion.token, key, algorithms=["RS256"],
                   options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False,
                            "verify_iss": False})
    except (jwt.PyJWKError, jwt.InvalidTokenError, ValueError, TypeError):
        return False
    return True


async def _verify_signature(issuer_keys: IssuerKeys, assertion: Assertion) -> None:
    if assertion.alg != "RS256":
        raise errors.invalid_assertion_signature()
    candidates = await issuer_keys.keys(assertion.issuer)
    if assertion.kid is not None and not any(k.get("kid") == assertion.kid for k in candidates) \
            and not issuer_keys.cached_recently(assertion.issuer):
        candidates = await issuer_keys.keys(assertion.issuer, fresh=True)  # the issuer may have rotated its keys
    if assertion.kid is not None:
        candidates = [k for k in candidates if k.get("kid") == assertion.kid]
    if not any(_verifies(assertion, k) for k in candidates):
        raise errors.invalid_assertion_signature()


async def exchange(world: World, issuer_keys: IssuerKeys, tenant: dict[str, Any], client_id: str,
                   token: str) -> Principal:
    """The managed identity a valid assertion speaks for, or the refusal Entra would give."""
    identity = directory.managed_identity_by_client_id(world, client_id)
    tenant_id = tenant["tenant_id"]
    owned_here = identity is not None and identity["properties"]["tenantId"] == tenant_id
    app = directory.app(world, client_id)
    if not owned_here and (app is None or app["tenant_id"] != tenant_id):
        raise errors.app_not_found(client_id, tenant["display_name"])
    assertion = parse_assertion(token)
    if _entra_issued(world, assertion):
        raise errors.entra_token_as_assertion()
    _check_time(world, assertion)
    # App registrations of the sandbox carry secrets only: no federated credentials to match.
    credentials = visible_credentials(world, identity["id"]) if owned_here and identity is not None else []
    match_credential(credentials, assertion)
    await _verify_signature(issuer_keys, assertion)
    assert identity is not None
    found = directory.principal(world, identity["properties"]["principalId"])
    if found is None:
        raise errors.app_not_found(client_id, tenant["display_name"])
    return found
