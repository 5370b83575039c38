"""Response shapes of the real services: ARM errors, Entra (AADSTS) errors and Kubernetes `Status`."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from aiohttp import web

JSON = "application/json; charset=utf-8"


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None, content_type: str = JSON
) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(body, separators=(",", ":")).encode(),
        headers={"Content-Type": content_type, **(headers or {})},
    )


def arm_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return json_response({"error": {"code": code, "message": message}}, status, headers)


def entra_error(status: int, error: str, aadsts: int, description: str) -> web.Response:
    """Entra's error body. `description` is the text after `AADSTS<code>: `."""
    now = dt.datetime.now(dt.UTC)
    trace_id = str(uuid.uuid4())
    correlation_id = str(uuid.uuid4())
    return json_response(
        {
            "error": error,
            "error_description": (
                f"AADSTS{aadsts}: {description} Trace ID: {trace_id} Correlation ID: {correlation_id} "
                f"Timestamp: {now:%Y-%m-%d %H:%M:%SZ}"
            ),
            "error_codes": [aadsts],
            "timestamp": f"{now:%Y-%m-%d %H:%M:%SZ}",
            "trace_id": trace_id,
            "correlation_id": correlation_id,
        },
        status,
    )


def k8s_status(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code,
    }
    if details is not None:
        body["details"] = details
    return body


def k8s_error(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    return json_response(k8s_status(code, reason, message, details), code, headers, "application/json")
