"""The wizard's probe (image `mcr.microsoft.com/azure-cli*`): one federated sign-in and one ARM read, reported
line by line, then exit — what the real probe pod's `az login --federated-token … && az rest …` script does.

It reads the webhook's AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST
through WorkloadIdentityCredential, reads `WI_PROBE_RESOURCE` (an ARM resource ID; default the subscription
in AZURE_SUBSCRIPTION_ID; api-version from its query or `WI_PROBE_API_VERSION`), and ends with `wi-probe: OK`
(exit 0) or `wi-probe: ERROR <the SDK's error text>` (exit 1). Line shapes are in `markers`.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import parse_qs, urlsplit

from wizard.sandbox.images import arm
from wizard.sandbox.images.markers import (
    PROBE_ERROR,
    PROBE_EXCHANGING,
    PROBE_GET,
    PROBE_OK,
    PROBE_PREFIX,
    PROBE_SIGNED_IN,
)

DEFAULT_API_VERSION = "2022-12-01"


def say(text: str) -> None:
    print(PROBE_PREFIX + text, flush=True)


def _target() -> tuple[str, str] | None:
    """(path, api-version) of the resource to read, as `az rest --url` would get it."""
    subscription = os.environ.get("AZURE_SUBSCRIPTION_ID", "")
    resource = os.environ.get("WI_PROBE_RESOURCE") or (f"/subscriptions/{subscription}" if subscription else "")
    if not resource:
        return None
    parts = urlsplit(resource)
    api_version = next(iter(parse_qs(parts.query).get("api-version") or []), None)
    return parts.path, api_version or os.environ.get("WI_PROBE_API_VERSION") or DEFAULT_API_VERSION


def main() -> int:
    say(PROBE_EXCHANGING.format(client_id=os.environ.get("AZURE_CLIENT_ID", "(not set)"),
                                tenant_id=os.environ.get("AZURE_TENANT_ID", "(not set)")))
    from azure.core.exceptions import AzureError, HttpResponseError
    from azure.identity import WorkloadIdentityCredential

    arm.quiet_sdk_logging()
    try:
        credential = WorkloadIdentityCredential()
        token = credential.get_token(arm.ARM_SCOPE)
        say(PROBE_SIGNED_IN.format(tenant_id=arm.token_tenant(token.token)))
        target = _target()
        if target is None:
            say(f"{PROBE_ERROR} nothing to read: set WI_PROBE_RESOURCE (an ARM resource ID) or AZURE_SUBSCRIPTION_ID")
            return 1
        path, api_version = target
        try:
            status, body = arm.get(arm.client(credential), path, api_version)
        except HttpResponseError as exc:
            if exc.status_code is not None:
                say(PROBE_GET.format(resource=path, status=exc.status_code))
            raise
        say(PROBE_GET.format(resource=path, status=status))
        say(arm.compact(body))
    except (AzureError, ValueError, OSError) as exc:
        say(f"{PROBE_ERROR} {arm.one_line(exc)}")
        return 1
    say(PROBE_OK)
    return 0


if __name__ == "__main__":
    sys.exit(main())
