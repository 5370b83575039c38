"""Kubernetes API errors as the real API server words them (`Status` bodies, §13 of sandbox-kubernetes.md).

Handlers raise `ApiError`; the service turns it into the `Status` response. The messages matter: kubectl prints
them verbatim (`Error from server (NotFound): pods "x" not found`) and the wizard's diagnosis matches on them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from aiohttp import web

from wizard.sandbox.httputil import k8s_error, k8s_status


class ApiError(Exception):
    """A request the API server refuses: HTTP status == `code`, body a `Status` with `reason` and `details`."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        return k8s_status(self.code, self.reason, self.message, self.details)

    def response(self) -> web.Response:
        return k8s_error(self.code, self.reason, self.message, self.details)


def _details(name: str, group: str, kind: str) -> dict[str, Any]:
    details: dict[str, Any] = {"kind": kind}
    if name:
        details["name"] = name
    details["group"] = group
    return details


def qualified(plural: str, group: str) -> str:
    """`pods`, or `tokenrequests.authentication.k8s.io` for a non-core group (how kube names a resource)."""
    return f"{plural}.{group}" if group else plural


def not_found(plural: str, name: str, group: str = "") -> ApiError:
    return ApiError(404, "NotFound", f'{qualified(plural, group)} "{name}" not found', _details(name, group, plural))


def already_exists(plural: str, name: str, group: str = "") -> ApiError:
    return ApiError(409, "AlreadyExists", f'{qualified(plural, group)} "{name}" already exists',
                    _details(name, group, plural))


def conflict(plural: str, name: str, why: str, group: str = "") -> ApiError:
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {qualified(plural, group)} "{name}": {why}',
                    _details(name, group, plural))


def stale(plural: str, name: str, group: str = "") -> ApiError:
    return conflict(plural, name, "the object has been modified; please apply your changes to the latest version "
                                  "and try again", group)


class Cause:
    """One field error of an `Invalid` answer (`field.Error` in the API server)."""

    REASONS: ClassVar[dict[str, str]] = {"Invalid value": "FieldValueInvalid", "Required value": "FieldValueRequired",
               "Duplicate value": "FieldValueDuplicate", "Not found": "FieldValueNotFound",
               "Unsupported value": "FieldValueNotSupported", "Forbidden": "FieldValueForbidden",
               "Too long": "FieldValueTooLong"}

    def __init__(self, field: str, kind: str, detail: str = "", value: Any = None, show_value: bool = True) -> None:
        self.field = field
        self.kind = kind
        self.detail = detail
        self.value = value
        self.show_value = show_value

    def body(self) -> str:
        """The text after `<field>: `, as `field.Error.ErrorBody()` builds it."""
        text = self.kind
        if self.kind in {"Invalid value", "Duplicate value", "Not found", "Unsupported value"} and self.show_value:
            text += f": {_go_value(self.value)}"
        if self.detail:
            text += f": {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"

    def as_status_cause(self) -> dict[str, str]:
        return {"reason": self.REASONS.get(self.kind, "FieldValueInvalid"), "message": self.body(), "field": self.field}


def _go_value(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def invalid(kind: str, name: str, causes: list[Cause], group: str = "") -> ApiError:
    """`<Kind> "<name>" is invalid: <cause>` (one) or `…: [<cause>, <cause>]` (several), reason Invalid."""
    listed = str(causes[0]) if len(causes) == 1 else "[" + ", ".join(str(c) for c in causes) + "]"
    qualified_kind = f"{kind}.{group}" if group else kind
    details: dict[str, Any] = {"name": name, "group": group, "kind": kind,
                               "causes": [c.as_status_cause() for c in causes]}
    return ApiError(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {listed}', details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def forbidden(plural: str, name: str, why: str, group: str = "") -> ApiError:
    target = f'{qualified(plural, group)} "{name}"' if name else qualified(plural, group)
    return ApiError(403, "Forbidden", f"{target} is forbidden: {why}", _details(name, group, plural))


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def method_not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")


def resource_not_found() -> ApiError:
    """What an unknown path under the API answers: 404 with the generic message and empty details."""
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def expired(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def unsupported_media(accepted: list[str]) -> ApiError:
    return ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media "
                    "types include: " + ", ".join(accepted))
