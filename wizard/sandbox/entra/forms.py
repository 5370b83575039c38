"""Form bodies as Entra reads them: `application/x-www-form-urlencoded` only (anything else carries no
parameters), empty values count as missing, a repeated parameter is refused (AADSTS9000411). Confidential
clients may also authenticate with HTTP Basic (`client_secret_basic`, RFC 6749 §2.3.1)."""

from __future__ import annotations

import base64
import binascii
import urllib.parse

from aiohttp import web

from wizard.sandbox.entra import errors

FORM_TYPE = "application/x-www-form-urlencoded"


async def read(request: web.Request) -> dict[str, str]:
    if request.content_type != FORM_TYPE:
        return {}
    raw = await request.read()
    form: dict[str, str] = {}
    for name, value in urllib.parse.parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True):
        if name in form:
            raise errors.duplicated_parameter(name)
        form[name] = value
    return form


def required(form: dict[str, str], name: str) -> str:
    value = form.get(name, "")
    if not value:
        raise errors.missing_parameter(name)
    return value


def with_basic_credentials(request: web.Request, form: dict[str, str]) -> dict[str, str]:
    """`Authorization: Basic base64(urlencode(client_id):urlencode(secret))` fills in what the body lacks."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return form
    try:
        client_id, sep, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return form
    if not sep:
        return form
    return {"client_id": urllib.parse.unquote_plus(client_id),
            "client_secret": urllib.parse.unquote_plus(secret), **form}
