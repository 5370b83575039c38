"""Helpers for the Entra and Graph tests: raw token requests, token verification against the sandbox's published
keys, and an OIDC issuer the test serves itself over HTTPS (a stand-in for an AKS cluster's issuer)."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import Env
from wizard.sandbox import Sandbox
from wizard.sandbox.keys import SigningKey
from wizard.sandbox.tls import issue_leaf

CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
ARM_SCOPE = "https://management.azure.com/.default"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@contextmanager
def quiet_env(state_dir: Path) -> Iterator[Env]:
    """A private sandbox that no other test's pods or clients talk to, so counting its requests is exact."""
    from tests.conftest import fast_settings

    box = Sandbox(state_dir, settings=fast_settings()).start()
    try:
        yield Env(box)
    finally:
        box.stop()


def post_token(box: Sandbox, tenant: str, form: dict[str, str], route: str = "token") -> requests.Response:
    return requests.post(f"{box.base_url}/{tenant}/oauth2/v2.0/{route}", data=form, verify=box.ca_bundle,
                         timeout=10)


def verified_claims(box: Sandbox, token: str, audience: str, tenant: str = "common") -> dict[str, Any]:
    """Verify a sandbox token the way any relying party could: with the JWKS the sandbox publishes."""
    keys = requests.get(f"{box.base_url}/{tenant}/discovery/v2.0/keys", verify=box.ca_bundle, timeout=10).json()
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in keys["keys"] if k["kid"] == kid)
    claims: dict[str, Any] = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=audience)
    return claims


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OidcIssuer:
    """A minimal OIDC issuer on loopback HTTPS: discovery + JWKS, like an AKS cluster's; signs assertions.

    Its certificate comes from `cert_dir`'s CA (the sandbox's state dir: trusted by the sandbox's Entra; any other
    CA: not trusted). `url` ends with a slash, as AKS issuer URLs do; `fetches` counts discovery requests.
    """

    def __init__(self, ca_state_dir: Path, out_dir: Path) -> None:
        self.key = SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        self.fetches = 0
        cert, key = issue_leaf(ca_state_dir, ["127.0.0.1"], out_dir=out_dir)
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/issuer/.well-known/openid-configuration":
                    issuer.fetches += 1
                    body: dict[str, Any] = {
                        "issuer": issuer.url, "jwks_uri": f"{issuer.origin}/issuer/openid/v1/jwks",
                        "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }
                elif self.path == "/issuer/openid/v1/jwks":
                    body = {"keys": [issuer.key.jwk()]}
                else:
                    self.send_error(404)
                    return
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.origin = f"https://127.0.0.1:{self._server.server_address[1]}"
        self.url = f"{self.origin}/issuer/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def assertion(self, subject: str, *, audience: str = EXCHANGE_AUDIENCE, issuer: str | None = None,
                  lifetime: int = 3600, issued_at: float | None = None, key: SigningKey | None = None) -> str:
        """A service-account-like token: RS256, kid of the signing key, iss/sub/aud/exp/nbf/iat."""
        now = int(time.time() if issued_at is None else issued_at)
        claims = {"iss": self.url if issuer is None else issuer, "sub": subject, "aud": [audience],
                  "iat": now, "nbf": now, "exp": now + lifetime}
        return (key or self.key).sign(claims)

    def forged_key(self) -> SigningKey:
        """Another key presenting this issuer's kid: its signatures must not verify."""
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)

        class Impostor(SigningKey):
            @property
            def kid(self) -> str:
                return real_kid

        real_kid = self.key.kid
        return Impostor(other)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def oidc_issuer(ca_state_dir: Path, out_dir: Path) -> Iterator[OidcIssuer]:
    issuer = OidcIssuer(ca_state_dir, out_dir)
    try:
        yield issuer
    finally:
        issuer.close()


# -- identities and federated credentials (through azure-mgmt-msi, as the wizard creates them) -------------------

IDENTITY_GROUP = "rg-entra-tests"


def _msi(env: Env, tenant: str) -> Any:
    from azure.mgmt.msi import ManagedServiceIdentityClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    credential, subscription = env.sp_credential(tenant), env.subscription_id(tenant)
    ResourceManagementClient(credential, subscription, **env.client_kwargs()).resource_groups.create_or_update(
        IDENTITY_GROUP, {"location": "eastus"})
    return ManagedServiceIdentityClient(credential, subscription, **env.client_kwargs())


def create_identity(env: Env, name: str, tenant: str = "fabrikam") -> dict[str, Any]:
    """A user-assigned identity created through ARM; returned in ARM's JSON shape (id, name, properties)."""
    from azure.mgmt.msi.models import Identity

    created = _msi(env, tenant).user_assigned_identities.create_or_update(IDENTITY_GROUP, name,
                                                                          Identity(location="eastus"))
    return {"id": created.id, "name": created.name, "tenant": tenant,
            "properties": {"clientId": created.client_id, "principalId": created.principal_id,
                           "tenantId": created.tenant_id}}


def create_fic(env: Env, identity: dict[str, Any], name: str, issuer: str, subject: str,
               audiences: list[str] | None = None) -> None:
    from azure.mgmt.msi import ManagedServiceIdentityClient
    from azure.mgmt.msi.models import FederatedIdentityCredential

    tenant = identity["tenant"]
    msi = ManagedServiceIdentityClient(env.sp_credential(tenant), env.subscription_id(tenant), **env.client_kwargs())
    msi.federated_identity_credentials.create_or_update(
        IDENTITY_GROUP, identity["name"], name,
        FederatedIdentityCredential(issuer=issuer, subject=subject, audiences=audiences or [EXCHANGE_AUDIENCE]))
