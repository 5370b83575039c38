"""RSA signing keys (Entra token signing, each cluster's service-account issuer) and RS256 JWTs."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from wizard.sandbox.store import Store


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64(n: int) -> str:
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class SigningKey:
    private: rsa.RSAPrivateKey

    @property
    def kid(self) -> str:
        """kube-apiserver's derivation: base64url(sha256(DER SubjectPublicKeyInfo))."""
        der = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return b64url(hashlib.sha256(der).digest())

    def jwk(self) -> dict[str, str]:
        numbers = self.private.public_key().public_numbers()
        return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                "n": _int_b64(numbers.n), "e": _int_b64(numbers.e)}

    def sign(self, claims: dict[str, Any], typ: str = "JWT") -> str:
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": self.kid, "typ": typ})

    def verify(self, token: str, **options: Any) -> dict[str, Any]:
        """Check signature and expiry (PyJWT rules); raises `jwt.InvalidTokenError` subclasses."""
        claims: dict[str, Any] = jwt.decode(
            token, self.private.public_key(), algorithms=["RS256"], leeway=30, **options
        )
        return claims


def load_or_create(store: Store, name: str) -> SigningKey:
    doc = store.get("keys", name)
    if doc is not None:
        key = serialization.load_pem_private_key(doc["pem"].encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return SigningKey(key)
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    store.put("keys", name, {"pem": pem})
    return SigningKey(private)


def unverified_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT without checking anything, or None when it is not a JWT at all."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return None
    return claims if isinstance(claims, dict) else None


def unverified_header(token: str) -> dict[str, Any] | None:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return None
    return header if isinstance(header, dict) else None


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
