"""ARM list pages: `{"value":[…],"nextLink":"<absolute URL with $skiptoken>"}`.

Pages are deliberately small so every client walks `nextLink` (the SDKs follow it verbatim, keeping its query
except `api-version`, which they set again)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from wizard.sandbox.arm.context import Call
from wizard.sandbox.arm.errors import bad_request
from wizard.sandbox.httputil import json_response

PAGE_SIZE = 2
SKIP_TOKEN = "$skiptoken"


def page(call: Call, items: list[dict[str, Any]]) -> web.Response:
    raw = call.param(SKIP_TOKEN) or "0"
    if not raw.isdigit():
        raise bad_request("InvalidSkipToken", f"The provided skip token '{raw}' is invalid.")
    start = int(raw)
    body: dict[str, Any] = {"value": items[start:start + PAGE_SIZE]}
    if start + PAGE_SIZE < len(items):
        params = {k: v for k, v in call.query.items() if k.lower() != SKIP_TOKEN}
        body["nextLink"] = call.url(call.path, **params, **{SKIP_TOKEN: str(start + PAGE_SIZE)})
    return json_response(body)
