"""The embedded sandbox: Entra ID, Microsoft Graph, Azure Resource Manager and AKS clusters on loopback HTTPS.

Real clients (azure-identity, the azure-mgmt SDKs, the Azure CLI, the kubernetes client, kubectl) talk to it
unchanged; only endpoints, credentials and the CA differ from real Azure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wizard.sandbox.server import Sandbox

__all__ = ["Sandbox"]


def __getattr__(name: str) -> Any:
    # Lazy: pod processes run `python -m wizard.sandbox.images.…` and must not pay for the server (aiohttp).
    if name == "Sandbox":
        from wizard.sandbox.server import Sandbox

        return Sandbox
    raise AttributeError(name)
