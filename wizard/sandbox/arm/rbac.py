"""Azure RBAC as ARM enforces it on every call.

A caller may perform an action on a scope when one of its role assignments sits at that scope or above it
(the assignment scope is a case-insensitive prefix of the target on a `/` boundary) and the assigned role's
`actions` match the action while its `notActions` don't. Wildcards: `*` matches any run of characters, and
`X/*/read` also matches `X/read` (so Managed Identity Operator can read the identities themselves).
The `role-propagation` fault makes assignments younger than its delay not count yet, as fresh assignments
take minutes to reach ARM's caches.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from wizard.sandbox import armstore
from wizard.sandbox.arm import roles
from wizard.sandbox.arm.context import Call
from wizard.sandbox.arm.errors import ArmError
from wizard.sandbox.world import World

ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"


@functools.lru_cache(maxsize=512)
def _pattern(pattern: str) -> re.Pattern[str]:
    parts = [".*".join(re.escape(p) for p in alt.split("*")) for alt in {pattern, pattern.replace("/*/", "/")}]
    return re.compile("^(?:" + "|".join(parts) + ")$", re.IGNORECASE)


def action_matches(pattern: str, action: str) -> bool:
    return bool(_pattern(pattern).match(action))


def permits(role: roles.BuiltinRole, action: str) -> bool:
    return (any(action_matches(p, action) for p in role.actions)
            and not any(action_matches(p, action) for p in role.not_actions))


def covers(assignment_scope: str, scope: str) -> bool:
    """True when an assignment at `assignment_scope` applies to `scope` (same scope or a child of it)."""
    outer = assignment_scope.rstrip("/").lower()
    inner = scope.rstrip("/").lower()
    return outer in ("", inner) or inner.startswith(outer + "/")


def role_guid(role_definition_id: str) -> str:
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


def all_assignments(world: World) -> list[dict[str, Any]]:
    return sorted(armstore.of_type(world, ASSIGNMENT_TYPE), key=lambda b: b["id"].lower())


def in_effect(world: World, assignment: dict[str, Any]) -> bool:
    """False while the role-propagation fault hides a fresh assignment (seeded ones are created at 0)."""
    delay = world.faults.seconds("role-propagation")
    created = float(armstore.internal(assignment).get("created", 0))
    return not delay or world.clock() - created >= delay


def effective_assignments(world: World, principal_id: str) -> list[dict[str, Any]]:
    oid = principal_id.lower()
    return [a for a in all_assignments(world)
            if a["properties"]["principalId"].lower() == oid and in_effect(world, a)]


def is_authorized(world: World, principal_id: str, action: str, scope: str) -> bool:
    for assignment in effective_assignments(world, principal_id):
        props = assignment["properties"]
        role = roles.by_guid(role_guid(props["roleDefinitionId"]))
        if role is not None and covers(props["scope"], scope) and permits(role, action):
            return True
    return False


def has_access_within(world: World, principal_id: str, subscription_id: str) -> bool:
    """Whether the principal holds any role at, above or below a subscription (what `GET /subscriptions` shows)."""
    sub_scope = f"/subscriptions/{subscription_id}"
    return any(covers(a["properties"]["scope"], sub_scope) or covers(sub_scope, a["properties"]["scope"])
               for a in effective_assignments(world, principal_id))


def client_name(claims: dict[str, Any]) -> str:
    return str(claims.get("upn") or claims.get("unique_name") or claims.get("appid") or claims.get("oid", ""))


def require(call: Call, action: str, scope: str) -> None:
    """Refuse with ARM's AuthorizationFailed unless the caller may perform `action` on `scope`."""
    if is_authorized(call.world, call.caller_id, action, scope):
        return
    raise ArmError(
        403, "AuthorizationFailed",
        f"The client '{client_name(call.claims)}' with object id '{call.caller_id}' does not have authorization "
        f"to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently "
        "granted, please refresh your credentials.")
