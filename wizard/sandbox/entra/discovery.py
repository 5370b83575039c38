"""OpenID Connect metadata (v2 and v1) and the signing keys, so any client can find the endpoints and anyone can
verify the sandbox's tokens (`/{tenant}/discovery/v2.0/keys` publishes the key `tokens.issue` signs with)."""

from __future__ import annotations

from typing import Any

from wizard.sandbox import tokens
from wizard.sandbox.entra.authority import Authority
from wizard.sandbox.world import World


def v2_issuer(world: World, tenant_id: str) -> str:
    """`iss` of v2 tokens (id tokens) issued in a tenant."""
    return world.url(f"/{tenant_id}/v2.0")


def openid_configuration_v2(world: World, authority: Authority) -> dict[str, Any]:
    base = world.url(f"/{authority.segment}")
    # As Entra: a tenant's document names the tenant; the multi-tenant aliases show the {tenantid} template.
    issuer = v2_issuer(world, authority.tenant_id or "{tenantid}")
    return {
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer,
        "request_uri_parameter_supported": False,
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username",
                             "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "tenant_region_scope": "NA",
        "cloud_instance_name": "wi-wizard-sandbox",
        "msgraph_host": world.host,
    }


def openid_configuration_v1(world: World, authority: Authority) -> dict[str, Any]:
    base = world.url(f"/{authority.segment}")
    issuer = f"https://sts.windows.net/{authority.tenant_id or '{tenantid}'}/"
    return {
        "token_endpoint": f"{base}/oauth2/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": world.url("/common/discovery/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid"],
        "issuer": issuer,
        "microsoft_multi_refresh_token": True,
        "authorization_endpoint": f"{base}/oauth2/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/oauth2/logout",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email",
                             "given_name", "family_name", "nickname"],
        "tenant_region_scope": "NA",
        "cloud_instance_name": "wi-wizard-sandbox",
    }


def jwks(world: World) -> dict[str, Any]:
    return {"keys": [world.key(tokens.ENTRA_KEY).jwk()]}
