"""Which cloud the engine talks to: real Azure, or a sandbox described by its endpoints.json.

The gateways take everything cloud-specific from here (authority, ARM URL, CA bundle); the code that talks to
Azure is the same for both. TLS verification is never off: for a sandbox its own CA is trusted explicitly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PUBLIC_AUTHORITY = "https://login.microsoftonline.com"
PUBLIC_ARM = "https://management.azure.com"
ARM_SCOPE = "https://management.azure.com/.default"
# Tokens for Entra-enabled AKS API servers are issued for the "Azure Kubernetes Service AAD Server" app.
AKS_SCOPE = "6dae42f8-4368-4678-94ff-3960e28e3630/.default"


class TargetError(Exception):
    """The cloud cannot be reached as configured; the message says what to do."""


@dataclass(frozen=True)
class Cloud:
    kind: str  # "real" | "sandbox"
    authority: str = PUBLIC_AUTHORITY
    arm_url: str = PUBLIC_ARM
    ca_bundle: str | None = None
    endpoints_path: str | None = None
    sandbox: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_sandbox(self) -> bool:
        return self.kind == "sandbox"

    @property
    def label(self) -> str:
        return "SANDBOX" if self.is_sandbox else "REAL AZURE"

    def credential_kwargs(self) -> dict[str, Any]:
        """Keywords for every azure-identity credential (MSAL-based ones also get disable_instance_discovery)."""
        kwargs: dict[str, Any] = {"authority": self.authority}
        if self.ca_bundle:
            kwargs["connection_verify"] = self.ca_bundle
        return kwargs

    def client_kwargs(self) -> dict[str, Any]:
        """Keywords for every azure-mgmt client."""
        kwargs: dict[str, Any] = {"base_url": self.arm_url, "credential_scopes": [ARM_SCOPE]}
        if self.ca_bundle:
            kwargs["connection_verify"] = self.ca_bundle
        if self.is_sandbox:
            kwargs["polling_interval"] = 1
        return kwargs

    def sandbox_principal(self, tenant_id: str) -> dict[str, str] | None:
        """The sandbox's service principal of a tenant (client_id, client_secret), for unattended logins."""
        for tenant in self.sandbox.get("tenants", []):
            if tenant.get("tenant_id") == tenant_id and tenant.get("service_principal"):
                return dict(tenant["service_principal"])
        return None

    def sandbox_tenant_id(self, ref: str) -> str | None:
        """A sandbox tenant's ID from its ID, domain or name (no network needed)."""
        ref_l = ref.lower()
        for tenant in self.sandbox.get("tenants", []):
            if ref_l in {str(tenant.get(k, "")).lower() for k in ("tenant_id", "domain", "name")}:
                return str(tenant["tenant_id"])
        return None


def real() -> Cloud:
    return Cloud("real")


def sandbox(endpoints_path: Path) -> Cloud:
    """A running sandbox, from its endpoints.json."""
    try:
        data = json.loads(endpoints_path.read_text())
    except FileNotFoundError:
        raise TargetError(f"no sandbox is running for {endpoints_path} (the file does not exist); start one "
                          "with `wi-wizard sandbox serve` or use --sandbox") from None
    except (OSError, ValueError) as exc:
        raise TargetError(f"cannot read the sandbox endpoints {endpoints_path}: {exc}") from None
    try:
        return Cloud("sandbox", authority=str(data["authority_host"]),
                     arm_url=str(data["resource_manager"]).rstrip("/"), ca_bundle=str(data["ca_bundle"]),
                     endpoints_path=str(endpoints_path.absolute()), sandbox=data)
    except KeyError as exc:
        raise TargetError(f"{endpoints_path} is not a sandbox endpoints file (no {exc.args[0]})") from None
