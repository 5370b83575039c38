"""ARM failures as exceptions, so any layer (auth, RBAC, a resource handler) can stop a request with the status,
code and message the real service answers with, and the service turns it into `{"error":{"code","message"}}`."""

from __future__ import annotations

from aiohttp import web

from wizard.sandbox.httputil import arm_error


class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def response(self, method: str = "GET") -> web.Response:
        if method == "HEAD":  # HEAD answers carry no body, only the status (and headers)
            return web.Response(status=self.status, headers=self.headers)
        return arm_error(self.status, self.code, self.message, self.headers)


def bad_request(code: str, message: str) -> ArmError:
    return ArmError(400, code, message)


def resource_not_found(resource: str, resource_group: str | None) -> ArmError:
    """`resource` is ARM's short form, e.g. `Microsoft.ManagedIdentity/userAssignedIdentities/id-demo`."""
    where = f"under resource group '{resource_group}'" if resource_group else "under the subscription"
    return ArmError(404, "ResourceNotFound",
                    f"The Resource '{resource}' {where} was not found. "
                    "For more details please go to https://aka.ms/ARMResourceNotFoundFix")


def location_mismatch(name: str, existing: str, resource_group: str, asked: str) -> ArmError:
    return bad_request("InvalidResourceLocation",
                       f"The resource '{name}' already exists in location '{existing}' in resource group "
                       f"'{resource_group}'. A resource with the same name cannot be created in location '{asked}'. "
                       "Please select a new resource name.")


def method_not_allowed(method: str) -> ArmError:
    return ArmError(405, "MethodNotAllowed", f"The requested resource does not support http method '{method}'.")


def resource_group_not_found(name: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")


def invalid_request_content(detail: str) -> ArmError:
    return bad_request("InvalidRequestContent",
                       f"The request content was invalid and could not be deserialized: '{detail}'.")


def location_required() -> ArmError:
    return bad_request("LocationRequired", "The location property is required for this definition.")


def invalid_resource_type(namespace: str, resource_type: str, api_version: str, method: str) -> ArmError:
    # ARM answers an unknown type with 404 on reads and 400 on writes.
    status = 404 if method in {"GET", "HEAD", "DELETE"} else 400
    return ArmError(status, "InvalidResourceType",
                    f"The resource type '{resource_type}' could not be found in the namespace '{namespace}' "
                    f"for api version '{api_version}'.")
