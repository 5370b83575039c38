"""Gateways to Azure: credentials (logins per tenant) and ARM."""
