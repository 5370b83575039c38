"""The role step: what the identity may do in its tenant — each of the plan's roles assigned to the identity's
service principal at its scope.

Assignments get a deterministic name (uuid5 over scope, principal and role definition), `principalType` =
ServicePrincipal (so a just-created identity is accepted before Entra replicates it), and a description naming
the session; an equal assignment that already exists (under any name, or inherited from a parent scope) counts
as done. Propagation after assigning (up to ~10 minutes on Azure) is waited out by the trust check.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wizard.diagnose import Diagnosis
from wizard.plan import RoleGrant
from wizard.steps.armsupport import created_by_note, failures, gateway, known, waiter
from wizard.steps.base import Check, Context, Description, Event, Result, Step, StepFailed

if TYPE_CHECKING:
    from wizard.azure.arm import RoleAssignment, RoleDefinition


@dataclass(frozen=True)
class _Grant:
    plan: RoleGrant
    scope: str
    role: RoleDefinition


def scope_of(ctx: Context, grant: RoleGrant, strict: bool = True) -> str:
    """The ARM scope a plan grant names: the identity side's subscription or resource group, or a full ID."""
    if grant.scope == "subscription":
        sub = ctx.value("identity", "subscription_id") if strict else known(ctx, "identity", "subscription_id")
        return f"/subscriptions/{sub or '<identity subscription>'}"
    if grant.scope == "resource-group":
        group = ctx.value("identity", "resource_group_id") if strict else known(ctx, "identity", "resource_group_id")
        return group or f"/subscriptions/<identity subscription>/resourceGroups/{ctx.plan.identity.resource_group}"
    return grant.scope


class RoleStep(Step):
    name = "role"
    title = "Role assignment"

    def describe(self, ctx: Context) -> Description:
        principal = known(ctx, "identity", "principal_id") or f"<principal ID of {ctx.plan.identity.name}>"
        grants = [(g, scope_of(ctx, g, strict=False)) for g in ctx.plan.roles]
        summary = ("Let the identity's service principal act in the identity tenant: assign "
                   + "; ".join(f"{g.role} on {scope}" for g, scope in grants)
                   + ". An assignment that already exists is kept; new ones can take a few minutes to take effect.")
        commands = [f"az role assignment create --assignee-object-id {shlex.quote(principal)} "
                    f"--assignee-principal-type ServicePrincipal --role {shlex.quote(g.role)} "
                    f"--scope {shlex.quote(scope)} --description {shlex.quote(created_by_note(ctx))}"
                    for g, scope in grants]
        return Description(summary, commands)

    def check(self, ctx: Context) -> Check:
        with failures(self):
            principal = ctx.value("identity", "principal_id")
            found: list[RoleAssignment] = []
            missing: list[str] = []
            for grant in self._grants(ctx):
                existing = self._existing(ctx, grant, principal, record=True)
                if existing is None:
                    missing.append(f"{grant.role.role_name} is not assigned to the identity on {grant.scope}")
                else:
                    found.append(existing)
            values = _values(found) if not missing else {}
            ours = [a.id for a in found if a.description == created_by_note(ctx)]  # even if a crashed run made it
            return Check("missing" if missing else "done", missing, values, ours)

    def apply(self, ctx: Context) -> Result:
        with failures(self):
            principal = ctx.value("identity", "principal_id")
            arm = gateway(ctx, "identity")
            done: list[RoleAssignment] = []
            created: list[str] = []
            new = 0
            for grant in self._grants(ctx):
                existing = self._existing(ctx, grant, principal)
                if existing is None:
                    ctx.report(Event(self.name, f"Assigning {grant.role.role_name} on {grant.scope}", "progress"))
                    try:
                        written = arm.roles(_subscription_of(grant.scope)).assign(
                            grant.scope, grant.role, principal, created_by_note(ctx), waiter(ctx, self.name))
                    except Exception as exc:
                        from wizard.azure.arm import error_code

                        if error_code(exc) == "AuthorizationFailed":
                            raise StepFailed(_may_not_assign(ctx, grant, principal, exc)) from exc
                        raise
                    existing = written.value
                    new += written.created
                if existing.description == created_by_note(ctx):
                    created.append(existing.id)  # ours, even if a crashed run made it
                done.append(existing)
            kept = len(done) - new
            summary = (f"Assigned {new} role(s)" if new else "All roles were already assigned") + (
                f", kept {kept} existing" if new and kept else "")
            return Result(summary + ": " + "; ".join(f"{g.role} on {scope_of(ctx, g)}" for g in ctx.plan.roles),
                          _values(done), created)

    def _grants(self, ctx: Context) -> list[_Grant]:
        arm = gateway(ctx, "identity")
        grants = []
        for grant in ctx.plan.roles:
            scope = scope_of(ctx, grant)
            grants.append(_Grant(grant, scope, arm.roles(_subscription_of(scope)).definition(grant.role, scope)))
        return grants

    def _existing(self, ctx: Context, grant: _Grant, principal: str, record: bool = False) -> RoleAssignment | None:
        """An assignment of this role to the principal that applies at the scope (at it, or inherited); one at
        exactly the scope is preferred. The check records the listing it read; the apply right after uses it."""
        roles = gateway(ctx, "identity").roles(_subscription_of(grant.scope))
        key = f"assignments:{grant.scope}|{principal}".lower()
        if record:
            listed = roles.assignments(grant.scope, principal)
            ctx.observed.record(key, listed)
        else:
            listed = ctx.observed.take(key, lambda: roles.assignments(grant.scope, principal))
        matching = [a for a in listed if a.role_guid == grant.role.guid]
        exact = [a for a in matching if a.scope.rstrip("/").lower() == grant.scope.rstrip("/").lower()]
        best = exact or matching
        return best[0] if best else None


def _subscription_of(scope: str) -> str:
    from wizard.azure.arm import parse_id

    return parse_id(scope).subscription_id


def _values(assignments: list[RoleAssignment]) -> dict[str, str]:
    if not assignments:
        return {}
    return {"assignment_ids": "\n".join(a.id for a in assignments),
            "scopes": "\n".join(a.scope for a in assignments)}


def _may_not_assign(ctx: Context, grant: _Grant, principal: str, error: BaseException) -> Diagnosis:
    from wizard.diagnose import diagnose

    account = known(ctx, "login", "identity_account")
    who = f"the identity-side login ({account})" if account else "the identity-side login"
    detail = diagnose(error, "role").detail
    return Diagnosis(
        "RoleAssignmentNotAllowed", f"Not allowed to assign {grant.role.role_name}",
        f"{who[0].upper()}{who[1:]} may not create role assignments on {grant.scope}: that takes Owner, User Access "
        "Administrator or Role Based Access Control Administrator there.",
        f"Sign in on the identity side with an account that may assign roles on that scope, or have an owner run: "
        f"az role assignment create --assignee-object-id {principal} --assignee-principal-type ServicePrincipal "
        f"--role {shlex.quote(grant.role.role_name)} --scope {grant.scope}", "role", detail)
