"""The ARM client the known images use: an azure-core ARM pipeline with a bearer-token policy, as a real app
built on the Azure SDK for Python has. Only the base URL is sandbox-specific (`WI_SANDBOX_ARM`); TLS trust comes
from `REQUESTS_CA_BUNDLE`, which the requests transport honours like any CA bundle setting of a real image.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from typing import Any

ARM_SCOPE = "https://management.azure.com/.default"
PUBLIC_ARM = "https://management.azure.com"


def quiet_sdk_logging() -> None:
    """The SDK's own warnings stay out of the container's output, as in the apps these images stand for (the
    seed's Go app, the az CLI): without a handler Python would print them to stderr through logging's last
    resort, and the log would hold each error twice, in an order that depends on pipe timing."""
    logging.getLogger("azure").addHandler(logging.NullHandler())


def base_url() -> str:
    return (os.environ.get("WI_SANDBOX_ARM") or PUBLIC_ARM).rstrip("/")


def client(credential: Any) -> Any:
    """An ARMPipelineClient: request ID, headers, user agent, a few retries, ARM bearer auth, no body logging."""
    from azure.core.pipeline import policies
    from azure.mgmt.core import ARMPipelineClient
    from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy, ARMHttpLoggingPolicy

    return ARMPipelineClient(base_url(), policies=[
        policies.RequestIdPolicy(),
        policies.HeadersPolicy(),
        policies.UserAgentPolicy(sdk_moniker="wi-wizard-sandbox-image/1.0"),
        policies.RetryPolicy(retry_total=3, retry_backoff_factor=0.5),
        ARMChallengeAuthenticationPolicy(credential, ARM_SCOPE),
        policies.ContentDecodePolicy(),
        ARMHttpLoggingPolicy(),
    ])


def get(pipeline: Any, path: str, api_version: str | None) -> tuple[int, Any]:
    """GET an ARM path; returns (status, parsed JSON body) or raises HttpResponseError in ARM's error format."""
    from azure.core.exceptions import HttpResponseError
    from azure.core.rest import HttpRequest
    from azure.mgmt.core.exceptions import ARMErrorFormat

    params = {"api-version": api_version} if api_version else None
    response = pipeline.send_request(HttpRequest("GET", base_url() + path, params=params))
    if response.status_code >= 400:
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    return response.status_code, response.json()


def compact(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"))


def one_line(error: BaseException) -> str:
    """An SDK error's text with its line breaks folded, so a log line holds all of it."""
    return " ".join(part.strip() for part in str(error).splitlines() if part.strip())


def token_tenant(token: str) -> str:
    """The `tid` claim of an Entra access token (read, not verified: the app only reports it)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims.get("tid", ""))
