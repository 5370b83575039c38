"""The embedded sandbox: Entra ID, Microsoft Graph, Azure Resource Manager and AKS clusters on loopback HTTPS.

Real clients (azure-identity, the azure-mgmt SDKs, the Azure CLI, the kubernetes client, kubectl) talk to it
unchanged; only endpoints, credentials and the CA differ from real Azure.
"""

from wizard.sandbox.server import Sandbox

__all__ = ["Sandbox"]
