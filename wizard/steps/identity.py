"""The identity step: the user-assigned managed identity in the identity tenant (tenant B) that the workload
becomes — created (with its resource group when missing, and the Microsoft.ManagedIdentity provider registered
when needed) or reused.

Everything created is tagged with the session, so a re-run after a crash between "created" and "saved" still
reports it as this session's own (teardown relies on `Result.created`).
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from wizard.diagnose import Diagnosis
from wizard.steps.armsupport import failures, gateway, known, same_location, subscription, tags, waiter
from wizard.steps.base import SESSION_TAG, Check, Context, Description, Event, Result, Step, StepFailed

if TYPE_CHECKING:
    from wizard.azure.arm import Identity

PROVIDER = "Microsoft.ManagedIdentity"


class IdentityStep(Step):
    name = "identity"
    title = "Managed identity"

    def describe(self, ctx: Context) -> Description:
        i = ctx.plan.identity
        sub = known(ctx, self.name, "subscription_id") or i.subscription
        s, g, n = shlex.quote(sub), shlex.quote(i.resource_group), shlex.quote(i.name)
        show = (f"az identity show --subscription {s} -g {g} -n {n} "
                "--query \"{clientId: clientId, principalId: principalId, tenantId: tenantId}\"")
        client_id = known(ctx, self.name, "client_id")
        if client_id:
            return Description(
                f"The managed identity {i.name} in resource group {i.resource_group} of subscription {i.subscription} "
                f"(tenant {i.tenant}) is in place: client ID {client_id}, principal ID "
                f"{known(ctx, self.name, 'principal_id')}.", [show])
        if i.reuse:
            return Description(
                f"Use the existing user-assigned managed identity {i.name} in resource group {i.resource_group} of "
                f"subscription {i.subscription} (tenant {i.tenant}). It must exist; nothing is created.", [show])
        tag_args = " ".join(f"{k}={shlex.quote(v)}" for k, v in tags(ctx).items())
        return Description(
            f"Create the user-assigned managed identity {i.name} in resource group {i.resource_group} ({i.location}) "
            f"of subscription {i.subscription} (tenant {i.tenant}), or use it if it already exists there. The "
            "resource group is created when missing, and the Microsoft.ManagedIdentity resource provider is "
            "registered on the subscription when it is not. What is created is tagged with this session.",
            [f"az provider register --namespace Microsoft.ManagedIdentity --subscription {s} --wait",
             f"az group create --subscription {s} -n {g} -l {i.location} --tags {tag_args}",
             f"az identity create --subscription {s} -g {g} -n {n} -l {i.location} --tags {tag_args}", show])

    def check(self, ctx: Context) -> Check:
        i = ctx.plan.identity
        with failures(self):
            sub = subscription(ctx, "identity")
            arm = gateway(ctx, "identity")
            if not arm.providers(sub.id).registered(PROVIDER):
                return Check("missing", [f"the {PROVIDER} resource provider is not registered on subscription "
                                         f"{sub.name}, so no managed identity exists there yet"],
                             {"subscription_id": sub.id})
            found = arm.identities(sub.id).get(i.resource_group, i.name)
            ctx.observed.record(_key(sub.id, i.resource_group, i.name), found)
            if found is None:
                need = "; the plan reuses it, so it must exist" if i.reuse else ""
                return Check("missing", [f"there is no managed identity {i.name} in resource group "
                                         f"{i.resource_group} of subscription {sub.name}{need}"],
                             {"subscription_id": sub.id})
            values = _values(found)
            drift = []
            if not i.reuse and not same_location(found.location, i.location):
                drift.append(f"the identity is in {found.location}, the plan says {i.location}")
            previous = known(ctx, self.name, "principal_id")
            if previous and previous.lower() != found.principal_id.lower():
                drift.append(f"the identity was re-created outside the wizard (principal ID {previous} is now "
                             f"{found.principal_id}): its role assignments and federated credential are gone")
            recorded = ctx.session.outcome(self.name).created
            ours = [] if found.id in recorded else _ours(ctx, found)  # re-read only what a crash left unrecorded
            return Check("drifted" if drift else "done", drift, values, ours)

    def apply(self, ctx: Context) -> Result:
        i = ctx.plan.identity
        with failures(self):
            sub = subscription(ctx, "identity")
            arm = gateway(ctx, "identity")
            # Before any identity call: an unregistered provider would make the SDK register it behind a fixed,
            # silent 10 s sleep.
            if arm.providers(sub.id).ensure_registered(PROVIDER, waiter(ctx, self.name)):
                ctx.report(Event(self.name, f"Registered the {PROVIDER} resource provider on {sub.name}"))
            identities = arm.identities(sub.id)
            found = ctx.observed.take(_key(sub.id, i.resource_group, i.name),
                                      lambda: identities.get(i.resource_group, i.name))
            if found is not None:
                return self._existing(ctx, found)
            if i.reuse:
                raise StepFailed(_missing_for_reuse(ctx, identities.named_elsewhere(i.name, i.resource_group)))
            elsewhere = identities.named_elsewhere(i.name, i.resource_group)
            if elsewhere:
                other = elsewhere[0]
                raise StepFailed(Diagnosis(
                    "IdentityNameTaken", f"Identity name {i.name} is taken in another resource group",
                    f"Subscription {sub.name} already has a managed identity {i.name!r} in resource group "
                    f"{other.resource_group!r} (location {other.location}); the plan asks for a new one in "
                    f"{i.resource_group!r}. Two identities with one name invite mistakes in role assignments and "
                    "federated credentials.",
                    f"To use that identity, set identity.resource_group = {other.resource_group!r} and identity.reuse "
                    "= true; otherwise choose another identity.name.", self.name))
            created: list[str] = []
            groups = arm.groups(sub.id)
            if groups.get(i.resource_group) is None:
                ctx.report(Event(self.name, f"Creating resource group {i.resource_group} in {i.location}", "progress"))
                group = groups.create(i.resource_group, i.location, tags(ctx))
                if group.created:
                    created.append(group.value.id)
            ctx.report(Event(self.name, f"Creating managed identity {i.name}", "progress"))
            written = identities.create(i.resource_group, i.name, i.location, tags(ctx))
            if written.created:
                created.append(written.value.id)
            return Result(f"Created managed identity {i.name} in {i.resource_group} (client ID "
                          f"{written.value.client_id})", _values(written.value), created)

    def _existing(self, ctx: Context, found: Identity) -> Result:
        """Use an identity that is already there; report it (and its group) as created when this session's tags
        say it made them (a crash between creating and saving, then a re-run)."""
        i = ctx.plan.identity
        if not i.reuse and not same_location(found.location, i.location):
            raise StepFailed(Diagnosis(
                "IdentityLocationMismatch", f"Identity {i.name} exists in another location",
                f"The managed identity {i.name} in {i.resource_group} is in {found.location}, but the plan says "
                f"{i.location}; an identity cannot move.",
                f"Set identity.location = {found.location!r} to use it (or identity.reuse = true), or choose another "
                "identity.name.", self.name))
        return Result(f"Using managed identity {i.name} in {i.resource_group} (client ID {found.client_id})",
                      _values(found), _ours(ctx, found))


def _key(subscription_id: str, group: str, name: str) -> str:
    """The identity's key among a step's observations (ARM names are case-insensitive)."""
    return f"/subscriptions/{subscription_id}/resourceGroups/{group}/userAssignedIdentities/{name}".lower()


def _ours(ctx: Context, found: Identity) -> list[str]:
    """The identity (and its group) when this session's tag says it created them: after a crash between creating
    and saving, the tags are the only record."""
    if found.tags.get(SESSION_TAG) != ctx.session.name:
        return []
    created: list[str] = []
    group = gateway(ctx, "identity").groups(found.subscription_id).get(found.resource_group)
    if group is not None and group.tags.get(SESSION_TAG) == ctx.session.name:
        created.append(group.id)
    created.append(found.id)
    return created


def _values(identity: Identity) -> dict[str, str]:
    return {"subscription_id": identity.subscription_id,
            "resource_group_id": f"/subscriptions/{identity.subscription_id}/resourceGroups/{identity.resource_group}",
            "identity_id": identity.id, "client_id": identity.client_id, "principal_id": identity.principal_id,
            "tenant_id": identity.tenant_id, "location": identity.location}


def _missing_for_reuse(ctx: Context, elsewhere: list[Identity]) -> Diagnosis:
    i = ctx.plan.identity
    hint = ("; an identity of that name exists in resource group(s) " + ", ".join(
        repr(e.resource_group) for e in elsewhere)) if elsewhere else ""
    fix = (f"Set identity.resource_group = {elsewhere[0].resource_group!r}." if elsewhere else
           "Correct identity.name / identity.resource_group, or set identity.reuse = false to create it.")
    return Diagnosis("IdentityNotFound", f"Identity {i.name} not found",
                     f"The plan reuses the managed identity {i.name}, but resource group {i.resource_group} of "
                     f"subscription {i.subscription} has none by that name{hint}.", fix, "identity")
