"""The container images the sandbox's kubelet knows how to run, each a `python -m` module run as a real process.

They play the part of real images pulled from a registry: they talk to the sandbox only the way a real app in
a real pod talks to Azure (azure-identity's DefaultAzureCredential/WorkloadIdentityCredential from the
webhook's environment, azure-core pipelines to ARM), with two pieces of "cloud configuration" the sandbox
hands them as a real image gets them from its base layers: the CA it trusts (`REQUESTS_CA_BUNDLE`) and where
ARM is (`WI_SANDBOX_ARM`). Any other image fails to pull, as a missing image does on a real node.
"""

from __future__ import annotations

import hashlib

# Image reference prefix → module under wizard.sandbox.images.
KNOWN_IMAGES: tuple[tuple[str, str], ...] = (
    ("ttl.sh/wi-demo", "quota_reader"),
    ("mcr.microsoft.com/azure-cli", "probe"),
    ("wi-wizard/log-burst", "log_burst"),  # a benchmark's chatty pod (benchmarks/logs.py)
)


def module_for(image: str) -> str | None:
    """The module that plays `image`, or None when no registry would have it."""
    for prefix, module in KNOWN_IMAGES:
        if image.startswith(prefix):
            return f"{__name__}.{module}"
    return None


def image_digest(image: str) -> str:
    """A stable content digest for a known image (what containerd reports in imageID)."""
    return "sha256:" + hashlib.sha256(f"wi-wizard-sandbox-image:{module_for(image)}".encode()).hexdigest()
