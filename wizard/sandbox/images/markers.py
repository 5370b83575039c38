"""What the known images write to their logs, in one place so the wizard's engine can recognise it.

The probe's lines all start with `PROBE_PREFIX`; its last line is `PROBE_PREFIX + PROBE_OK` on success or
`PROBE_PREFIX + PROBE_ERROR + " " + <the SDK's error text on one line>` on failure. The quota reader writes
`QUOTA_LIMIT_PREFIX` and `QUOTA_USAGE_PREFIX` followed by the compact JSON bodies ARM returned, or
`QUOTA_ERROR_PREFIX` + the SDK's error text before exiting 1.
"""

from __future__ import annotations

PROBE_PREFIX = "wi-probe: "
PROBE_OK = "OK"
PROBE_ERROR = "ERROR"
PROBE_EXCHANGING = "exchanging the federated token of client {client_id} in tenant {tenant_id}"
PROBE_SIGNED_IN = "signed in to tenant {tenant_id}"
PROBE_GET = "GET {resource} -> {status}"

QUOTA_LIMIT_PREFIX = "limit: "
QUOTA_USAGE_PREFIX = "usage: "
QUOTA_ERROR_PREFIX = "error: "
