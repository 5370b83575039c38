"""The federation step: the federated identity credential on the identity that trusts the cluster's issuer for
the plan's ServiceAccount — issuer copied verbatim from the cluster step, subject
`system:serviceaccount:<namespace>:<service account>`, the plan's audience.

`check` compares field by field and says exactly what differs (the missing trailing slash is the classic);
`apply` converges through the gateway, which reuses an equal credential under another name instead of failing on
Azure's one-credential-per-issuer-and-subject rule, and refuses clearly when the identity already has 20.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from wizard.diagnose import Diagnosis
from wizard.steps.armsupport import failures, gateway, known, waiter
from wizard.steps.base import Check, Context, Description, Event, Result, Step, StepFailed

if TYPE_CHECKING:
    from wizard.azure.arm import FederatedCredential


def _differences(fic: FederatedCredential, issuer: str, subject: str, audience: str) -> list[str]:
    """What differs between a credential and what the plan needs, in words a person can act on."""
    found = []
    if fic.issuer != issuer:
        found.append(f"issuer differs: the credential has {fic.issuer!r}{_issuer_hint(fic.issuer, issuer)}, the "
                     f"cluster reports {issuer!r}")
    if fic.subject != subject:
        hint = " (only the letter case differs; matching is case-sensitive)" if fic.subject.lower() == subject.lower() \
            else ""
        found.append(f"subject differs: the credential has {fic.subject!r}, the ServiceAccount's is {subject!r}{hint}")
    if fic.audiences != (audience,):
        found.append(f"audience differs: the credential has {', '.join(map(repr, fic.audiences)) or 'none'}, the "
                     f"plan needs {audience!r}")
    return found


def _issuer_hint(have: str, want: str) -> str:
    if have.rstrip("/") == want.rstrip("/"):
        return " (no trailing slash)" if want.endswith("/") else " (an extra trailing slash)"
    if have.strip() != have:
        return " (with surrounding spaces)"
    return ""


class FederationStep(Step):
    name = "federation"
    title = "Federated credential"

    def describe(self, ctx: Context) -> Description:
        p = ctx.plan
        issuer = known(ctx, "cluster", "issuer_url") or f"<OIDC issuer URL of {p.cluster.name}, verbatim>"
        sub = known(ctx, "identity", "subscription_id") or p.identity.subscription
        summary = (f"Let the identity {p.identity.name} trust tokens of the ServiceAccount "
                   f"{p.kubernetes.namespace}/{p.kubernetes.service_account} on cluster {p.cluster.name}: a "
                   f"federated credential {p.federation_name} with issuer {issuer} (exactly as the cluster reports "
                   f"it), subject {p.subject} and audience {p.federation.audience}.")
        command = (f"az identity federated-credential create --subscription {shlex.quote(sub)} "
                   f"-g {shlex.quote(p.identity.resource_group)} --identity-name {shlex.quote(p.identity.name)} "
                   f"--name {shlex.quote(p.federation_name)} --issuer {shlex.quote(issuer)} "
                   f"--subject {shlex.quote(p.subject)} --audiences {shlex.quote(p.federation.audience)}")
        return Description(summary, [command])

    def check(self, ctx: Context) -> Check:
        p = ctx.plan
        with failures(self):
            issuer = ctx.value("cluster", "issuer_url")
            sub, group, identity = _identity(ctx)
            fics = gateway(ctx, "identity").fics(sub)
            existing = fics.list(group, identity)
            ctx.observed.record(_key(sub, group, identity), existing)
            mine = next((f for f in existing if f.name.lower() == p.federation_name.lower()), None)
            if mine is None:
                twin = next((f for f in existing if (f.issuer, f.subject, f.audiences)
                             == (issuer, p.subject, (p.federation.audience,))), None)
                if twin is not None:
                    return Check("done", [f"the equal credential {twin.name} is used"], _values(twin))
                return Check("missing", [f"the identity {identity} has no federated credential "
                                         f"{p.federation_name}"])
            differences = _differences(mine, issuer, p.subject, p.federation.audience)
            return Check("drifted" if differences else "done", differences, _values(mine),
                         [mine.id] if _identity_ours(ctx) else [])

    def apply(self, ctx: Context) -> Result:
        p = ctx.plan
        with failures(self):
            issuer = ctx.value("cluster", "issuer_url")
            sub, group, identity = _identity(ctx)
            ctx.report(Event(self.name, f"Writing federated credential {p.federation_name} on {identity}", "progress"))
            written = gateway(ctx, "identity").fics(sub).ensure(group, identity, p.federation_name, issuer, p.subject,
                                                                 p.federation.audience, waiter(ctx, self.name),
                                                                 ctx.observed.take(_key(sub, group, identity),
                                                                                   lambda: None))
            fic = written.value
            differences = _differences(fic, issuer, p.subject, p.federation.audience)
            if differences:  # Azure stored something else than was sent: never leave it unnoticed
                raise StepFailed(Diagnosis("FederatedCredentialMismatch", "The credential Azure stored differs",
                                           "; ".join(differences) + ".", "Run the step again; if it persists, "
                                           "compare with `az identity federated-credential show`.", self.name))
            summary = {"created": f"Created federated credential {fic.name}",
                       "updated": f"Corrected federated credential {fic.name}",
                       "unchanged": f"Federated credential {fic.name} was already right",
                       "reused": f"Using the equal federated credential {fic.name} (same issuer and subject)",
                       }[written.outcome]
            # Ours: created now, or (after a crash before saving) the plan's credential under an identity this
            # session created.
            ours = written.created or (written.outcome != "reused" and _identity_ours(ctx))
            return Result(f"{summary}: issuer {issuer}, subject {p.subject}", _values(fic),
                          [fic.id] if ours else [])


def _identity(ctx: Context) -> tuple[str, str, str]:
    """(subscription ID, resource group, identity name) of the identity step's identity."""
    from wizard.azure.arm import parse_id

    identity_id = ctx.value("identity", "identity_id")
    parsed = parse_id(identity_id)
    return parsed.subscription_id, parsed.resource_group, parsed.name


def _key(subscription_id: str, group: str, identity: str) -> str:
    """The identity's credentials' key among a step's observations (ARM names are case-insensitive)."""
    return f"/subscriptions/{subscription_id}/resourceGroups/{group}/userAssignedIdentities/{identity}/fics".lower()


def _identity_ours(ctx: Context) -> bool:
    """Whether this session created the identity (a credential has no tags: its plan-named credential under an
    identity of ours is ours too)."""
    outcome = ctx.session.outcomes.get("identity")
    return outcome is not None and known(ctx, "identity", "identity_id") in outcome.created


def _values(fic: FederatedCredential) -> dict[str, str]:
    return {"fic_id": fic.id, "issuer": fic.issuer, "subject": fic.subject, "audience": ", ".join(fic.audiences)}
