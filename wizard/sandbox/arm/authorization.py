"""Role definitions and role assignments (`AuthorizationManagementClient`), at any scope: the root, a
subscription, a resource group or a resource.

Assignments are ARM resources `{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}`; their
`_sandbox.created` feeds the role-propagation fault.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from wizard.sandbox import armstore, directory
from wizard.sandbox.arm import lro, paging, rbac, resourcegroups, roles
from wizard.sandbox.arm.context import Call, Target, object_member, string_member
from wizard.sandbox.arm.errors import ArmError, bad_request, method_not_allowed
from wizard.sandbox.httputil import json_response
from wizard.sandbox.world import World

NAMESPACE = "Microsoft.Authorization"
DEFINITION_TYPE = f"{NAMESPACE}/roleDefinitions"
ASSIGNMENT_TYPE = rbac.ASSIGNMENT_TYPE
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")
_DIRECTORY_KIND = {"User": "User", "ServicePrincipal": "ServicePrincipal", "ManagedIdentity": "ServicePrincipal"}


# -- role definitions -----------------------------------------------------------------------------------------


def definition_id(scope: str, guid: str) -> str:
    """ARM names a built-in role by the subscription the request is under, or at the root."""
    match = re.match(r"^/subscriptions/[^/]+", scope, re.IGNORECASE)
    prefix = match.group(0) if match else ""
    return f"{prefix}/providers/{DEFINITION_TYPE}/{guid}"


def definition_body(scope: str, role: roles.BuiltinRole) -> dict[str, Any]:
    return {
        "id": definition_id(scope, role.guid), "name": role.guid, "type": DEFINITION_TYPE,
        "properties": {
            "roleName": role.name, "type": "BuiltInRole", "description": role.description, "assignableScopes": ["/"],
            "permissions": [{"actions": list(role.actions), "notActions": list(role.not_actions),
                             "dataActions": list(role.data_actions), "notDataActions": list(role.not_data_actions)}],
            "createdOn": roles.CREATED_ON, "updatedOn": roles.UPDATED_ON, "createdBy": None, "updatedBy": None,
        },
    }


_CLAUSE = re.compile(r"^\s*(roleName|type)\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE)


def _definition_filter(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    wanted: dict[str, str] = {}
    for clause in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        match = _CLAUSE.match(clause)
        if match is None:
            raise bad_request("UnsupportedQuery", f"The filter '{text}' is not supported. Supported filters are "
                                                  "roleName eq '{value}' and type eq 'BuiltInRole|CustomRole'.")
        wanted[match.group(1).lower()] = match.group(2).replace("''", "'").lower()
    return wanted


async def handle_definitions(call: Call, target: Target) -> web.Response:
    if call.method != "GET":
        raise method_not_allowed(call.method)
    scope = target.scope or "/"
    if not target.is_collection:
        role = roles.by_guid(target.name)
        if role is None:
            raise ArmError(404, "RoleDefinitionDoesNotExist",
                           f"The specified role definition with ID '{target.name}' does not exist.")
        return json_response(definition_body(scope, role))
    wanted = _definition_filter(call.param("$filter"))
    found = [definition_body(scope, r) for r in roles.BUILTIN_ROLES
             if wanted.get("rolename", r.name.lower()) == r.name.lower()
             and wanted.get("type", "builtinrole") == "builtinrole"]
    return paging.page(call, found)


# -- role assignments -----------------------------------------------------------------------------------------


def assignment_id(scope: str, name: str) -> str:
    return f"{scope}/providers/{ASSIGNMENT_TYPE}/{name}"


def build_assignment(world: World, *, scope: str, name: str, role_guid: str, principal_id: str,
                     principal_type: str, created_by: str | None, created: float,
                     condition: str | None = None, description: str | None = None) -> dict[str, Any]:
    stamp = lro.iso(created)
    body: dict[str, Any] = {
        "id": assignment_id(scope, name), "name": name, "type": ASSIGNMENT_TYPE,
        "properties": {
            "roleDefinitionId": definition_id(scope, role_guid), "principalId": principal_id,
            "principalType": principal_type, "scope": scope, "condition": condition,
            "conditionVersion": "2.0" if condition else None, "createdOn": stamp, "updatedOn": stamp,
            "createdBy": created_by, "updatedBy": created_by, "delegatedManagedIdentityResourceId": None,
            "description": description,
        },
    }
    armstore.internal(body)["created"] = created
    return body


async def handle_assignments(call: Call, target: Target) -> web.StreamResponse:
    if call.subscription_id is None:
        raise bad_request("InvalidScope", "Role assignments need a subscription, resource group or resource scope.")
    scope = target.scope
    _require_scope_exists(call, scope)
    if target.is_collection:
        if call.method != "GET":
            raise method_not_allowed(call.method)
        return paging.page(call, [armstore.public(a) for a in _list_for_scope(call, scope)])
    ra_id = assignment_id(scope, target.name)
    if call.method not in {"GET", "PUT", "DELETE"}:
        raise method_not_allowed(call.method)
    existing = armstore.get(call.world, ra_id)
    if call.method == "GET":
        if existing is None:
            raise ArmError(404, "RoleAssignmentNotFound", f"The role assignment '{target.name}' is not found.")
        return json_response(armstore.public(existing))
    if call.method == "DELETE":
        if existing is None:
            return web.Response(status=204)
        armstore.delete(call.world, ra_id)
        return json_response(armstore.public(existing))
    return await _put_assignment(call, scope, target.name, existing)


def _require_scope_exists(call: Call, scope: str) -> None:
    parts = [p for p in scope.split("/") if p]
    if len(parts) >= 4 and parts[2].lower() == "resourcegroups":
        assert call.subscription_id is not None
        resourcegroups.require(call.world, call.subscription_id, parts[3])


async def _put_assignment(call: Call, scope: str, name: str, existing: dict[str, Any] | None) -> web.Response:
    if not directory.is_guid(name):
        raise bad_request("InvalidRoleAssignmentId",
                          f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.")
    props = object_member(await call.json_body(), "properties")
    role_definition_id = string_member(props, "roleDefinitionId", "properties.roleDefinitionId") or ""
    principal_id = string_member(props, "principalId", "properties.principalId") or ""
    requested_type = string_member(props, "principalType", "properties.principalType")
    role = roles.by_guid(rbac.role_guid(role_definition_id)) if role_definition_id else None
    if role is None:
        raise bad_request("RoleDefinitionDoesNotExist",
                          f"The specified role definition with ID '{rbac.role_guid(role_definition_id)}' does not "
                          "exist.")
    if not directory.is_guid(principal_id):
        raise bad_request("InvalidPrincipalId", "A valid principal ID must be provided for role assignment.")
    assert call.subscription is not None
    tenant_id = call.subscription["tenant_id"]
    principal = directory.principal(call.world, principal_id)
    if principal is None or principal.tenant_id != tenant_id:
        raise bad_request(
            "PrincipalNotFound",
            f"Principal {principal_id.replace('-', '').lower()} does not exist in the directory {tenant_id}. Check "
            "that you have the correct principal ID. If you are creating this principal and then immediately "
            "assigning a role, this error might be related to a replication delay. In this case, set the role "
            "assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See "
            "https://aka.ms/docs-principaltype")
    actual_type = _DIRECTORY_KIND.get(principal.kind, principal.kind)
    if requested_type is not None and requested_type not in PRINCIPAL_TYPES:
        raise bad_request("InvalidPrincipalType", f"The principal type '{requested_type}' is not valid.")
    if requested_type is not None and requested_type != actual_type:
        raise bad_request("UnmatchedPrincipalType",
                          f"The PrincipalId '{principal_id}' has type '{actual_type}' , which is different from "
                          f"specified PrincipalType '{requested_type}'.")
    if existing is not None:
        old = existing["properties"]
        if old["principalId"].lower() != principal.object_id or rbac.role_guid(old["roleDefinitionId"]) != role.guid:
            raise bad_request("RoleAssignmentUpdateNotPermitted",
                              "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
        return json_response(armstore.public(existing), 200)
    for other in rbac.all_assignments(call.world):
        o = other["properties"]
        if (o["principalId"].lower() == principal.object_id and rbac.role_guid(o["roleDefinitionId"]) == role.guid
                and o["scope"].lower() == scope.lower()):
            raise ArmError(409, "RoleAssignmentExists", "The role assignment already exists.")
    body = build_assignment(call.world, scope=scope, name=name, role_guid=role.guid, principal_id=principal_id,
                            principal_type=actual_type, created_by=call.caller_id, created=call.world.clock(),
                            condition=string_member(props, "condition", "properties.condition"),
                            description=string_member(props, "description", "properties.description"))
    armstore.put(call.world, body)
    return json_response(armstore.public(body), 201)


_PRINCIPAL_EQ = re.compile(r"^principalId\s+eq\s+'([^']*)'$", re.IGNORECASE)
_ASSIGNED_TO = re.compile(r"^assignedTo\('([^']*)'\)$", re.IGNORECASE)
_AT_SCOPE = re.compile(r"^atScope\(\)$", re.IGNORECASE)


def _list_for_scope(call: Call, scope: str) -> list[dict[str, Any]]:
    """ARM's semantics: assignments at, above and below the scope; `atScope()` keeps those at or above;
    `principalId eq '…'` / `assignedTo('…')` keep one principal's."""
    at_or_above_only, principal = False, None
    text = (call.param("$filter") or "").strip()
    for raw in re.split(r"\s+and\s+", text, flags=re.IGNORECASE) if text else []:
        clause = raw.strip()
        if _AT_SCOPE.match(clause):
            at_or_above_only = True
        elif (match := _PRINCIPAL_EQ.match(clause) or _ASSIGNED_TO.match(clause)) is not None:
            principal = match.group(1).lower()
        else:
            raise bad_request("UnsupportedQuery", f"The filter '{text}' is not supported. Supported filters are "
                                                  "atScope(), principalId eq '{id}' and assignedTo('{id}').")
    found = []
    for assignment in rbac.all_assignments(call.world):
        a_scope = assignment["properties"]["scope"]
        above = rbac.covers(a_scope, scope)
        below = rbac.covers(scope, a_scope)
        if not (above or (below and not at_or_above_only)):
            continue
        if principal is not None and assignment["properties"]["principalId"].lower() != principal:
            continue
        found.append(assignment)
    return found
