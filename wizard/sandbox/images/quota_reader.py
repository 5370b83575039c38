"""The seed's demo app (image `ttl.sh/wi-demo*`): reads a Microsoft.Quota compute quota and its usage with
workload identity and logs both, again every `WI_DEMO_INTERVAL_SECONDS`, so the pod's logs stay live.

Like the seed's app it authenticates with a bare `DefaultAzureCredential()`: the webhook's AZURE_CLIENT_ID,
AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST make it a WorkloadIdentityCredential, so
whatever the pod's environment gets wrong (tenant, client, token file) fails exactly as it would on AKS. On
any error it logs the SDK's error text and exits 1.
"""

from __future__ import annotations

import os
import sys
import time

from wizard.sandbox.images import arm
from wizard.sandbox.images.markers import QUOTA_ERROR_PREFIX, QUOTA_LIMIT_PREFIX, QUOTA_USAGE_PREFIX

QUOTA_API_VERSION = "2025-09-01"
USAGES_API_VERSION = "2025-07-15"


def main() -> int:
    subscription = os.environ.get("AZURE_SUBSCRIPTION_ID", "")
    region = os.environ.get("AZURE_REGION", "")
    resource = os.environ.get("AZURE_RESOURCE_NAME") or "cores"
    missing = [name for name, value in (("AZURE_SUBSCRIPTION_ID", subscription), ("AZURE_REGION", region))
               if not value]
    if missing:
        print(f"{QUOTA_ERROR_PREFIX}missing environment variables: {', '.join(missing)}", flush=True)
        return 1
    try:
        interval = float(os.environ.get("WI_DEMO_INTERVAL_SECONDS") or 30)
    except ValueError:
        interval = 30.0

    from azure.core.exceptions import AzureError
    from azure.identity import DefaultAzureCredential

    arm.quiet_sdk_logging()
    scope = f"/subscriptions/{subscription}/providers/Microsoft.Compute/locations/{region}"
    pipeline = arm.client(DefaultAzureCredential())
    while True:
        try:
            _, limit = arm.get(pipeline, f"{scope}/providers/Microsoft.Quota/quotas/{resource}", QUOTA_API_VERSION)
            _, usage = arm.get(pipeline, f"{scope}/providers/Microsoft.Quota/usages/{resource}", USAGES_API_VERSION)
        except (AzureError, OSError, ValueError) as exc:
            print(f"{QUOTA_ERROR_PREFIX}{exc}", flush=True)
            return 1
        print(f"{QUOTA_LIMIT_PREFIX}{arm.compact(limit)}", flush=True)
        print(f"{QUOTA_USAGE_PREFIX}{arm.compact(usage)}", flush=True)
        time.sleep(interval)


if __name__ == "__main__":
    sys.exit(main())
