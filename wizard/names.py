"""Naming rules of Azure and Kubernetes, as validators shared by plan files and the TUI's inline validation.

Each validator returns None when the value is acceptable, or one sentence that says what is wrong and what the
rule is, so people can fix it without looking anything up.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

Validator = Callable[[str], "str | None"]

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$")
_CLUSTER = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$")
_IDENTITY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$")
_FIC = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$")
_LOCATION = re.compile(r"^[a-z][a-z0-9]{1,39}$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_IMAGE = re.compile(
    r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?/)?"  # registry host[:port]/
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"  # path
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$"  # :tag @digest
)
_SCOPE = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}(/resourceGroups/[-\w._()]{1,90}(/providers/[\w.]+/[\w./-]+)?)?$",
    re.IGNORECASE,
)


def _control_chars(value: str) -> bool:
    return any(unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} for c in value)


def _basic(value: str, what: str) -> str | None:
    if not value:
        return f"{what} is empty"
    if value != value.strip():
        return f"{what} has leading or trailing spaces"
    if _control_chars(value):
        return f"{what} contains control characters"
    return None


def is_guid(value: str) -> bool:
    return bool(GUID.fullmatch(value))  # fullmatch: `$` alone would accept a trailing newline


def tenant(value: str) -> str | None:
    if problem := _basic(value, "the tenant"):
        return problem
    if is_guid(value) or _DOMAIN.match(value):
        return None
    return "a tenant is a tenant ID (a GUID) or a verified domain such as contoso.onmicrosoft.com"


def subscription(value: str) -> str | None:
    if problem := _basic(value, "the subscription"):
        return problem
    if len(value) > 64:
        return "a subscription is its ID (a GUID) or its display name (at most 64 characters)"
    return None


def resource_group(value: str) -> str | None:
    if problem := _basic(value, "the resource group name"):
        return problem
    if len(value) > 90 or value.endswith(".") or not re.fullmatch(r"[-\w._()]+", value):
        return ("a resource group name is 1–90 letters, digits, '_', '-', '.', '(' or ')', "
                "and does not end with '.'")
    return None


def cluster(value: str) -> str | None:
    if problem := _basic(value, "the cluster name"):
        return problem
    if not _CLUSTER.match(value):
        return ("an AKS cluster name is 1–63 letters, digits, '_' or '-', starting and ending with a letter "
                "or digit")
    return None


def identity(value: str) -> str | None:
    if problem := _basic(value, "the identity name"):
        return problem
    if not _IDENTITY.match(value):
        return ("a managed identity name is 3–128 letters, digits, '-' or '_', starting with a letter or digit")
    return None


def federated_credential(value: str) -> str | None:
    if problem := _basic(value, "the federated credential name"):
        return problem
    if not _FIC.match(value):
        return ("a federated credential name is 3–120 letters, digits, '-' or '_', starting with a letter or "
                "digit")
    return None


def location(value: str) -> str | None:
    if problem := _basic(value, "the location"):
        return problem
    if not _LOCATION.match(value):
        return "a location is an Azure region name in lower case without spaces, such as eastus or westeurope"
    return None


def audience(value: str) -> str | None:
    if problem := _basic(value, "the audience"):
        return problem
    if len(value) > 600 or any(c.isspace() for c in value):
        return "an audience is one value of at most 600 characters without spaces, normally api://AzureADTokenExchange"
    return None


def issuer(value: str) -> str | None:
    if problem := _basic(value, "the issuer"):
        return problem
    if not value.startswith("https://") or len(value) > 600 or any(c.isspace() for c in value):
        return "an issuer is an https:// URL of at most 600 characters, copied verbatim from the cluster"
    return None


def namespace(value: str) -> str | None:
    if problem := _basic(value, "the namespace"):
        return problem
    if len(value) > 63 or not _DNS_LABEL.match(value):
        return ("a namespace is at most 63 lower-case letters, digits or '-', starting and ending with a letter "
                "or digit")
    return None


def object_name(value: str, what: str = "the name") -> str | None:
    """A Kubernetes object name (ServiceAccount, Pod): a DNS-1123 subdomain."""
    if problem := _basic(value, what):
        return problem
    if len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        return (f"{what} must be at most 253 lower-case letters, digits, '-' or '.', starting and ending with a "
                "letter or digit")
    return None


def image(value: str) -> str | None:
    if problem := _basic(value, "the image"):
        return problem
    if len(value) > 512 or not _IMAGE.match(value):
        return "an image is a reference such as registry.example.com/team/app:1.2 (lower-case repository path)"
    return None


def env_name(value: str) -> str | None:
    if problem := _basic(value, "the variable name"):
        return problem
    if len(value) > 256 or not _ENV_NAME.match(value):
        return ("an environment variable name is letters, digits, '_', '-' or '.', and does not start with a "
                "digit")
    if value == "." or value.startswith(".."):  # Kubernetes refuses these (they read as directories)
        return "an environment variable name must not be '.' or start with '..'"
    return None


def env_value(value: str) -> str | None:
    if len(value) > 32768:
        return "an environment variable value is at most 32768 characters"
    if any(unicodedata.category(c) == "Cc" and c not in "\t" for c in value):
        return "an environment variable value must not contain control characters such as newlines"
    return None


def role(value: str) -> str | None:
    if problem := _basic(value, "the role"):
        return problem
    if len(value) > 128:
        return "a role is a role name such as Reader (at most 128 characters) or a role definition ID"
    return None


def scope(value: str) -> str | None:
    """`subscription`, `resource-group`, or a full ARM scope under a subscription."""
    if problem := _basic(value, "the scope"):
        return problem
    if value in {"subscription", "resource-group"} or _SCOPE.match(value):
        return None
    return ("a scope is 'subscription', 'resource-group', or a resource ID such as "
            "/subscriptions/<id>/resourceGroups/<group>")
