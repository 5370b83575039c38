"""GETs of public JSON documents over HTTPS: Entra's OpenID metadata (tenant lookup) and a cluster issuer's OIDC
discovery and keys (the trust check) — the same documents Entra itself fetches.

TLS is always verified: against the sandbox's CA when the cloud names one, otherwise against certifi's bundle
(what the Azure SDKs trust) or, without certifi, the system's store.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Any

MAX_BYTES = 1_000_000


class FetchError(Exception):
    """A document could not be fetched or read; `status` is the HTTP status (0 when no answer came)."""

    def __init__(self, url: str, message: str, status: int = 0, body: Any = None) -> None:
        super().__init__(f"GET {url}: {message}")
        self.url = url
        self.status = status
        self.body = body  # the parsed JSON error body, when the server sent one


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    if ca_bundle:
        return ssl.create_default_context(cafile=ca_bundle)
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi comes with the Azure SDKs' requests
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects are answers too (a 30x FetchError): an issuer's documents are served at their own URLs, and a
    redirect could downgrade to http."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def get_json(url: str, ca_bundle: str | None = None, timeout: float = 15.0) -> Any:
    """The JSON document at an https:// URL; FetchError for anything else (non-2xx answers keep their body)."""
    if not url.startswith("https://"):
        raise FetchError(url, "only https:// URLs are fetched")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 (https only)
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=tls_context(ca_bundle)), _NoRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            raw = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        body = _parse(exc.read(MAX_BYTES))
        raise FetchError(url, f"HTTP {exc.code} {exc.reason}", exc.code, body) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(url, f"no answer ({reason})") from None
    if len(raw) > MAX_BYTES:
        raise FetchError(url, "the document is larger than 1 MB")
    parsed = _parse(raw)
    if parsed is None:
        raise FetchError(url, "the answer is not JSON", 200)
    return parsed


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None
