"""The sandbox's Entra ID: discovery, signing keys, the token endpoint's grants, device-code sign-in with its
approval page, and workload identity federation. `EntraService` is what the server routes to."""

from wizard.sandbox.entra.service import EntraService

__all__ = ["EntraService"]
