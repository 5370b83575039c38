"""Teardown: remove what one session created, in a safe order, and nothing else.

Ownership is decided twice. The session's `outcomes[*].created` lists say what the session made; before anything
is deleted, the live marks must agree (ARM tags `created-by`/`wi-wizard-session` on identities and resource groups,
the description on role assignments, the `wi-wizard/session` annotation on Kubernetes objects, and for a federated
credential, which carries no marks, the issuer and subject this session wrote). A resource whose marks say another
session or nobody made it is kept, with the reason. What existed before the session (a reused identity or resource
group, a pre-existing ServiceAccount, the cluster) is never deleted: a pre-existing ServiceAccount only loses the
annotation keys the wizard added, and the cluster's OIDC issuer and workload identity stay on.

Order: pod (waiting until it is gone, so nothing runs as the identity any more) → ServiceAccount → namespace →
federated credential → role assignments → identity → resource group (only when nothing else is in it). Every step
is idempotent: already gone is success, and `run` re-inspects each item live right before acting on it, so a
preview that went stale, or a second teardown, does no harm ("nothing left to remove").

Both `preview` and `run` need the session signed in: the caller first runs the engine's login step. `run` records
the teardown in `ctx.session` (see `_record`); the caller saves the session.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wizard.diagnose import Diagnosis, diagnose
from wizard.flow import ORDER, START
from wizard.kube.client import SESSION_ANNOTATION, KubeError
from wizard.session import Outcome, Session, now_iso
from wizard.steps.armsupport import created_by_note, known
from wizard.steps.base import (
    CREATED_BY_TAG,
    CREATED_BY_VALUE,
    SESSION_TAG,
    Cancelled,
    Context,
    Event,
    Reporter,
    StepFailed,
)
from wizard.steps.deploy import CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION, kube_ref, owned

if TYPE_CHECKING:
    from wizard.azure.arm import Arm
    from wizard.kube.client import Kube
    from wizard.session import SessionStore

STEP = "teardown"  # the `step` of the events teardown reports, and its record in `session.outcomes`
DELETE, REMOVE_ANNOTATIONS, KEEP = "delete", "remove-annotations", "keep"
# Deletion order; `cluster` (never touched) and `other` (unknown references) are only ever kept.
KINDS = ("pod", "service-account", "namespace", "federated-credential", "role-assignment", "identity",
         "resource-group", "cluster", "other")
KIND_WORDS = {"pod": "pod", "service-account": "ServiceAccount", "namespace": "namespace",
              "federated-credential": "federated credential", "role-assignment": "role assignment",
              "identity": "managed identity", "resource-group": "resource group", "cluster": "cluster",
              "other": "resource"}
_K8S = "/k8s/api/v1/namespaces/"  # inside a kube_ref (wizard/steps/deploy.py)
_PRE_EXISTING = "existed before this session; never touched"


@dataclass
class Item:
    """One thing teardown will act on (`delete`, `remove-annotations`) or leave alone (`keep`), and why."""

    kind: str  # one of KINDS
    ref: str  # the ARM resource ID, or a kube_ref for Kubernetes objects
    action: str  # delete | remove-annotations | keep
    reason: str
    annotations: tuple[str, ...] = ()  # for remove-annotations: exactly the keys that go
    ours: bool = False  # still this session's (a kept non-empty group stays on its list for a later teardown)

    @property
    def name(self) -> str:
        """How people read the reference: `ns/name` for Kubernetes objects, the last segment for ARM ones."""
        if _K8S in self.ref:
            parts = self.ref.split(_K8S, 1)[1].split("/")
            return parts[0] if len(parts) < 3 else f"{parts[0]}/{parts[2]}"
        if self.kind == "role-assignment":
            scope, _, guid = self.ref.partition("/providers/Microsoft.Authorization/roleAssignments/")
            return f"{guid or self.ref.rsplit('/', 1)[-1]} on {scope or '/'}"
        return self.ref.rstrip("/").rsplit("/", 1)[-1]

    @property
    def label(self) -> str:
        return f"{KIND_WORDS.get(self.kind, self.kind)} {self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "ref": self.ref, "action": self.action,
                "reason": self.reason, "annotations": list(self.annotations)}


@dataclass
class TeardownResult:
    deleted: list[str] = field(default_factory=list)  # refs removed now, or found already gone
    kept: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (ref, diagnosis in words)
    unannotated: list[str] = field(default_factory=list)  # pre-existing ServiceAccounts that lost our annotations

    @property
    def ok(self) -> bool:
        return not self.failed


def pending(items: list[Item]) -> list[Item]:
    """The items teardown would change (empty: nothing left to remove)."""
    return [i for i in items if i.action != KEEP]


# -- preview ----------------------------------------------------------------------------------------------------


def preview(ctx: Context) -> list[Item]:
    """What exists now of what the session created, in deletion order, and what will be kept and why. Reads only.

    A resource that cannot be read now (e.g. 403) is still listed for deletion with the reason; `run` inspects it
    again and reports the failure with its diagnosis."""
    items: list[Item] = []
    planned: set[str] = set()
    for kind, ref in _subjects(ctx):
        try:
            item = _inspect(ctx, kind, ref, planned)
        except Cancelled:
            raise
        except Exception as exc:
            if not _created(ctx.session, ref):
                item = Item(kind, ref, KEEP, f"could not be checked ({_words(exc)}); never touched")
            else:
                item = Item(kind, ref, DELETE, f"created by this session; could not be checked now ({_words(exc)})",
                            ours=True)
        if item is None:
            continue
        items.append(item)
        if item.action == DELETE:
            planned.add(ref.lower())
    return items


def _subjects(ctx: Context) -> list[tuple[str, str]]:
    """(kind, ref) of everything the session created plus what it used but found in place, in deletion order."""
    session = ctx.session
    found: dict[str, tuple[str, str]] = {}

    def add(ref: str | None) -> None:
        if ref and ref.lower() not in found:
            found[ref.lower()] = (kind_of(ref), ref)

    for name in (*ORDER, *(n for n in session.outcomes if n not in ORDER)):
        outcome = session.outcomes.get(name)
        for ref in outcome.created if outcome else []:
            add(ref)
    cluster_id = known(ctx, "cluster", "cluster_id")
    kube_steps = (session.outcomes.get("trust"), session.outcomes.get("deploy"))
    if cluster_id and any(o and (o.values or o.created) for o in kube_steps):  # the ServiceAccount was annotated
        namespace, account, pod = _kube_names(ctx)
        add(kube_ref(cluster_id, namespace, "serviceaccounts", account))  # pre-existing: loses our annotations
        add(kube_ref(cluster_id, namespace))
        if known(ctx, "deploy", "pod"):
            add(kube_ref(cluster_id, namespace, "pods", pod))
    add(known(ctx, "federation", "fic_id"))
    for assignment in (known(ctx, "role", "assignment_ids") or "").splitlines():
        add(assignment.strip())
    add(known(ctx, "identity", "identity_id"))
    add(known(ctx, "identity", "resource_group_id"))
    add(cluster_id)
    return sorted(found.values(), key=lambda pair: KINDS.index(pair[0]))


def kind_of(ref: str) -> str:
    """Which kind of resource a reference names (a kube_ref or an ARM resource ID)."""
    if _K8S in ref:
        parts = ref.split(_K8S, 1)[1].split("/")
        if len(parts) == 1:
            return "namespace"
        return {"pods": "pod", "serviceaccounts": "service-account"}.get(parts[1], "other")
    lowered = ref.lower()
    if "/federatedidentitycredentials/" in lowered:
        return "federated-credential"
    if "/providers/microsoft.authorization/roleassignments/" in lowered:
        return "role-assignment"
    if "/providers/microsoft.managedidentity/userassignedidentities/" in lowered:
        return "identity"
    if "/providers/microsoft.containerservice/managedclusters/" in lowered:
        return "cluster"
    parts = [p for p in lowered.split("/") if p]
    if len(parts) == 4 and parts[0] == "subscriptions" and parts[2] == "resourcegroups":
        return "resource-group"
    return "other"


def _created(session: Session, ref: str) -> bool:
    return any(ref.lower() == c.lower() for o in session.outcomes.values() for c in o.created)


def _kube_names(ctx: Context) -> tuple[str, str, str]:
    k, w = ctx.plan.kubernetes, ctx.plan.workload
    return (known(ctx, "deploy", "namespace") or k.namespace,
            known(ctx, "deploy", "service_account") or k.service_account,
            known(ctx, "deploy", "pod") or w.pod)


# -- inspecting one item (live) --------------------------------------------------------------------------------


def _inspect(ctx: Context, kind: str, ref: str, planned: set[str]) -> Item | None:
    """What to do with one resource now, from its live state; None when it is gone. `planned`: the refs (lower
    case) deleted before it in this teardown (a resource group may hold exactly those)."""
    created = _created(ctx.session, ref)
    if kind == "cluster":
        return Item(kind, ref, KEEP, "never touched, and its OIDC issuer and workload identity stay on: they cannot "
                                     "be turned off / turning them off would affect other workloads on the cluster")
    if kind == "other":
        return Item(kind, ref, KEEP, "teardown does not know how to remove this kind of resource; remove it yourself "
                                     "if it is no longer needed", ours=created)
    if kind in ("pod", "service-account", "namespace"):
        return _inspect_kube(ctx, kind, ref, created, planned)
    arm = _arm(ctx)
    if kind == "federated-credential":
        return _inspect_fic(ctx, arm, ref, created)
    if kind == "role-assignment":
        return _inspect_assignment(ctx, arm, ref, created)
    if kind == "identity":
        return _inspect_identity(ctx, arm, ref, created)
    return _inspect_group(ctx, arm, ref, created, planned)


def _arm(ctx: Context) -> Arm:
    from wizard.azure.arm import Arm

    return Arm.for_side(ctx, "identity")


def _tag_words(tags: dict[str, str]) -> str:
    if tags.get(CREATED_BY_TAG) != CREATED_BY_VALUE:
        return "its tags do not say wi-wizard made it"
    return f"its tags say session {tags.get(SESSION_TAG)!r} made it" if tags.get(SESSION_TAG) else \
        "its tags do not name this session"


def _not_ours(marks: str) -> str:
    return f"recorded as this session's, but {marks}: kept (it may belong to someone else now)"


def _inspect_identity(ctx: Context, arm: Arm, ref: str, created: bool) -> Item | None:
    from wizard.azure.arm import parse_id

    parsed = parse_id(ref)
    found = arm.identities(parsed.subscription_id).get(parsed.resource_group, parsed.name)
    if found is None:
        return None
    if not created:
        return Item("identity", ref, KEEP, _PRE_EXISTING)
    if found.tags.get(CREATED_BY_TAG) == CREATED_BY_VALUE and found.tags.get(SESSION_TAG) == ctx.session.name:
        return Item("identity", ref, DELETE, f"created by this session (tagged {SESSION_TAG}: {ctx.session.name}); "
                                             "its federated credentials go with it", ours=True)
    return Item("identity", ref, KEEP, _not_ours(_tag_words(found.tags)))


def _inspect_group(ctx: Context, arm: Arm, ref: str, created: bool, planned: set[str]) -> Item | None:
    from wizard.azure.arm import parse_id

    parsed = parse_id(ref)
    groups = arm.groups(parsed.subscription_id)
    found = groups.get(parsed.name)
    if found is None:
        return None
    if not created:
        return Item("resource-group", ref, KEEP, _PRE_EXISTING)
    if found.tags.get(CREATED_BY_TAG) != CREATED_BY_VALUE or found.tags.get(SESSION_TAG) != ctx.session.name:
        return Item("resource-group", ref, KEEP, _not_ours(_tag_words(found.tags)))
    others = [r for r in groups.resources(parsed.name) if r.lower() not in planned]
    if others:
        names = ", ".join(r.rstrip("/").rsplit("/", 1)[-1] for r in others[:5]) + (", …" if len(others) > 5 else "")
        return Item("resource-group", ref, KEEP, f"created by this session, but it holds {len(others)} other "
                                                 f"resource(s) ({names}): kept; deleting it would delete them",
                    ours=True)
    return Item("resource-group", ref, DELETE, f"created by this session (tagged {SESSION_TAG}: "
                                               f"{ctx.session.name}) and holds nothing else", ours=True)


def _inspect_fic(ctx: Context, arm: Arm, ref: str, created: bool) -> Item | None:
    from wizard.azure.arm import parse_id

    parsed = parse_id(ref)
    identity = [p for p in ref.split("/") if p][-3]
    fic = arm.fics(parsed.subscription_id).get(parsed.resource_group, identity, parsed.name)
    if fic is None:
        return None
    if not created:
        return Item("federated-credential", ref, KEEP, _PRE_EXISTING)
    issuer, subject = known(ctx, "federation", "issuer"), known(ctx, "federation", "subject")
    if issuer and subject and (fic.issuer, fic.subject) != (issuer, subject):
        return Item("federated-credential", ref, KEEP, _not_ours(
            f"it now trusts issuer {fic.issuer!r} and subject {fic.subject!r}, not what this session wrote"))
    return Item("federated-credential", ref, DELETE, f"created by this session on identity {identity} (trusts "
                                                     f"{fic.subject})", ours=True)


def _inspect_assignment(ctx: Context, arm: Arm, ref: str, created: bool) -> Item | None:
    from wizard.azure.arm import parse_id

    found = arm.roles(parse_id(ref).subscription_id).assignment(ref)
    if found is None:
        return None
    if not created:
        return Item("role-assignment", ref, KEEP, _PRE_EXISTING)
    note = created_by_note(ctx)
    if found.description != note:
        marks = f"its description is {found.description!r}" if found.description else "it has no description"
        return Item("role-assignment", ref, KEEP, _not_ours(marks))
    return Item("role-assignment", ref, DELETE, f"created by this session (description: {note})", ours=True)


def _kube(ctx: Context) -> Kube | None:
    """The session's cluster, or None when the cluster itself is gone (and its objects with it)."""
    from wizard.kube.client import Kube

    try:
        return Kube.connect(ctx)
    except Exception as exc:
        if _arm_not_found(exc):
            return None
        raise


def _inspect_kube(ctx: Context, kind: str, ref: str, created: bool, planned: set[str]) -> Item | None:
    cluster_id, rest = ref.split(_K8S, 1)
    if cluster_id.lower() != (known(ctx, "cluster", "cluster_id") or "").lower():
        return Item(kind, ref, KEEP, "on another cluster than the session's current one; not checked, never touched",
                    ours=created)
    kube = _kube(ctx)
    if kube is None:
        return None
    parts = rest.split("/")
    namespace, name = parts[0], parts[-1]
    if kind == "pod":
        pod = kube.get_pod(namespace, name)
        if pod is None:
            return None
        if created and owned(pod, ctx.session.name):
            return Item(kind, ref, DELETE, _annotated(ctx), ours=True)
        return Item(kind, ref, KEEP, _not_ours(_annotation_words(pod)) if created else _PRE_EXISTING)
    if kind == "service-account":
        account = kube.get_service_account(namespace, name)
        if account is None:
            return None
        if created and owned(account, ctx.session.name):
            return Item(kind, ref, DELETE, _annotated(ctx), ours=True)
        keys = _our_annotations(ctx, account)
        if keys:
            why = "existed before this session" if not created else _not_ours(_annotation_words(account))
            return Item(kind, ref, REMOVE_ANNOTATIONS, f"{why}: only the annotations the wizard added are removed "
                                                       f"({', '.join(keys)}); everything else on it stays",
                        tuple(keys))
        return Item(kind, ref, KEEP, _not_ours(_annotation_words(account))) if created else None
    found = kube.get_namespace(namespace)
    if found is None or (found.get("metadata") or {}).get("deletionTimestamp"):
        return None
    if not (created and owned(found, ctx.session.name)):
        return Item(kind, ref, KEEP, _not_ours(_annotation_words(found)) if created else _PRE_EXISTING)
    inside = (p.split(_K8S, 1)[1] for p in planned if _K8S in p)  # "ns/plural/name" of what goes first
    gone = {rest.split("/", 1)[1] for rest in inside if "/" in rest and rest.split("/")[0] == namespace.lower()}
    others = [o for o in kube.namespace_contents(namespace) if o.lower() not in gone]
    if others:
        return Item(kind, ref, KEEP, f"created by this session, but it holds {', '.join(others[:5])}: kept; deleting "
                                     "it would delete them", ours=True)
    return Item(kind, ref, DELETE, _annotated(ctx) + " and holds nothing else", ours=True)


def _annotated(ctx: Context) -> str:
    return f"created by this session (annotated {SESSION_ANNOTATION}: {ctx.session.name})"


def _annotation_words(obj: dict[str, Any]) -> str:
    session = ((obj.get("metadata") or {}).get("annotations") or {}).get(SESSION_ANNOTATION)
    return f"its {SESSION_ANNOTATION} annotation names session {session!r}" if session else \
        f"it has no {SESSION_ANNOTATION} annotation of this session"


def _our_annotations(ctx: Context, account: dict[str, Any]) -> list[str]:
    """The annotation keys on a ServiceAccount the wizard wrote for this session (still holding its values)."""
    have = (account.get("metadata") or {}).get("annotations") or {}
    keys = []
    client_id = known(ctx, "identity", "client_id")
    if client_id and have.get(CLIENT_ID_ANNOTATION) == client_id:
        keys.append(CLIENT_ID_ANNOTATION)
    tenant = known(ctx, "identity", "tenant_id")
    cluster_tenant = known(ctx, "login", "cluster_tenant_id")
    cross = bool(tenant and cluster_tenant and tenant.lower() != cluster_tenant.lower())
    if cross and have.get(TENANT_ID_ANNOTATION) == tenant:  # only cross-tenant sessions write it
        keys.append(TENANT_ID_ANNOTATION)
    if have.get(SESSION_ANNOTATION) == ctx.session.name:
        keys.append(SESSION_ANNOTATION)
    return keys


# -- run --------------------------------------------------------------------------------------------------------


def run(ctx: Context, items: list[Item], report: Reporter) -> TeardownResult:
    """Act on the items in order, each inspected live again right before (already gone is success; marks that
    changed meanwhile keep it). A failure (403…) fails that item with its diagnosis and the rest goes on. Records
    the teardown in `ctx.session` (the caller saves it)."""
    result = TeardownResult()
    released: set[str] = set()  # refs no longer this session's: removed, gone, or marked as someone else's
    diagnoses: list[Diagnosis] = []
    done: set[str] = set()
    try:
        for item in items:
            ctx.check_cancelled()
            if item.action == KEEP:
                result.kept.append(item.ref)
                if not item.ours:
                    released.add(item.ref.lower())
                report(Event(STEP, f"kept {item.label}: {item.reason}", "info"))
                continue
            verb = "removing our annotations from" if item.action == REMOVE_ANNOTATIONS else "deleting"
            report(Event(STEP, f"{verb} {item.label}", "progress"))
            try:
                live = _inspect(ctx, item.kind, item.ref, done)
                if live is None:
                    result.deleted.append(item.ref)
                    report(Event(STEP, f"{item.label} is already gone", "done"))
                elif live.action == KEEP:
                    result.kept.append(item.ref)
                    report(Event(STEP, f"kept {item.label}: {live.reason}", "warning"))
                    if not live.ours:
                        released.add(item.ref.lower())
                    continue
                else:
                    _act(ctx, live)
                    (result.unannotated if live.action == REMOVE_ANNOTATIONS else result.deleted).append(item.ref)
                    report(Event(STEP, f"removed {', '.join(live.annotations)} from {item.label}"
                                 if live.action == REMOVE_ANNOTATIONS else f"deleted {item.label}", "done"))
            except Cancelled:
                raise
            except Exception as exc:
                diagnosis = _failure(ctx, item, exc)
                diagnoses.append(diagnosis)
                result.failed.append((item.ref, str(diagnosis)))
                report(Event(STEP, f"could not {verb.replace('ing', 'e', 1)} {item.label}: {diagnosis}", "failed"))
                continue
            released.add(item.ref.lower())
            done.add(item.ref.lower())
    finally:  # an interrupted teardown still records what it removed
        _record(ctx.session, result, released, diagnoses)
    return result


def _act(ctx: Context, item: Item) -> None:
    from wizard.azure.arm import parse_id

    if item.kind in ("pod", "service-account", "namespace"):
        kube = _kube(ctx)
        if kube is None:
            return
        parts = item.ref.split(_K8S, 1)[1].split("/")
        namespace, name = parts[0], parts[-1]
        if item.kind == "pod":
            kube.delete_pod(namespace, name, wait=True)  # nothing may run as the identity once it is gone
        elif item.action == REMOVE_ANNOTATIONS:
            kube.remove_service_account_annotations(namespace, name, list(item.annotations))
        elif item.kind == "service-account":
            kube.delete_service_account(namespace, name)
        else:
            kube.delete_namespace(namespace)
        return
    arm, parsed = _arm(ctx), parse_id(item.ref)
    if item.kind == "federated-credential":
        identity = [p for p in item.ref.split("/") if p][-3]
        arm.fics(parsed.subscription_id).delete(parsed.resource_group, identity, parsed.name)
    elif item.kind == "role-assignment":
        arm.roles(parsed.subscription_id).delete_assignment(item.ref)
    elif item.kind == "identity":
        arm.identities(parsed.subscription_id).delete(parsed.resource_group, parsed.name)
    elif item.kind == "resource-group":
        arm.groups(parsed.subscription_id).delete(parsed.name)


def _failure(ctx: Context, item: Item, exc: BaseException) -> Diagnosis:
    """The diagnosis of a failed item; permission denied says who may not do what, and how to get it done."""
    if isinstance(exc, StepFailed):
        return exc.diagnosis
    base = diagnose(exc, "")
    status = exc.status if isinstance(exc, KubeError) else getattr(exc, "status_code", None)
    if status != 403:
        return base
    kube = item.kind in ("pod", "service-account", "namespace")
    side = "cluster" if kube else "identity"
    account = known(ctx, "login", f"{side}_account")
    who = f"The {side}-side login" + (f" ({account})" if account else "")
    what = "remove annotations from" if item.action == REMOVE_ANNOTATIONS else "delete"
    if kube:
        fix = f"Sign in on the cluster side with an account that may {what} {KIND_WORDS[item.kind]}s in that namespace"
    elif item.kind == "role-assignment":
        fix = "Sign in on the identity side with an account that may delete role assignments on its scope (Owner, " \
              "User Access Administrator or Role Based Access Control Administrator there)"
    else:
        fix = "Sign in on the identity side with an account that may delete it (Owner, Contributor or Managed " \
              "Identity Contributor on its resource group)"
    return dataclasses.replace(base, code=base.code if base.code != "Unexpected" else "Forbidden",
                               title=f"Not allowed to {what} {item.label}",
                               cause=f"{who} may not {what} {item.label}; it was left in place.",
                               fix=f"{fix}, then run `wi-wizard teardown {ctx.session.name}` again.", step="")


def _record(session: Session, result: TeardownResult, released: set[str], diagnoses: list[Diagnosis]) -> None:
    """Write the teardown into the session. What is gone leaves the `created` lists; when anything was removed,
    the steps after the cluster step go back to pending and the flow to its start (so `resume` builds it all
    again, and the welcome list shows nothing created), their observations are forgotten when nothing failed (kept
    otherwise: a second teardown needs them), and `outcomes["teardown"]` keeps the record. A teardown that changed
    nothing leaves the session as it was."""
    pruned = False
    for outcome in session.outcomes.values():
        left = [c for c in outcome.created if c.lower() not in released]
        pruned |= len(left) != len(outcome.created)
        outcome.created = left
    if not (pruned or result.deleted or result.unannotated or result.failed):
        return
    at = now_iso()
    for name in ORDER[ORDER.index("cluster") + 1:]:
        step = session.outcomes.get(name)
        if step is None:
            continue
        step.status, step.summary, step.diagnosis, step.at = "pending", "removed by teardown", None, at
        if not result.failed:
            step.values = {}
    session.state = START
    summary = (f"Torn down at {at}: removed {len(result.deleted)}, cleaned {len(result.unannotated)}, kept "
               f"{len(result.kept)}" + (f", failed {len(result.failed)}" if result.failed else ""))
    session.outcomes[STEP] = Outcome(
        status="failed" if result.failed else "done", summary=summary,
        values={"deleted": "\n".join(result.deleted), "unannotated": "\n".join(result.unannotated),
                "kept": "\n".join(result.kept), "failed": "\n".join(ref for ref, _ in result.failed)},
        diagnosis=diagnoses[0].to_dict() if diagnoses else None, at=at)


def _arm_not_found(exc: BaseException) -> bool:
    from azure.core.exceptions import ResourceNotFoundError

    return isinstance(exc, ResourceNotFoundError)


def _words(exc: BaseException) -> str:
    diagnosis = exc.diagnosis if isinstance(exc, StepFailed) else diagnose(exc, "")
    return f"{diagnosis.title}: {diagnosis.detail or diagnosis.cause}"


# -- the command line ---------------------------------------------------------------------------------------------


EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2
_ACTION_WORDS = {DELETE: "delete", REMOVE_ANNOTATIONS: "remove annotations", KEEP: "keep"}


def command(name: str, *, yes: bool = False, sandbox: bool = False, endpoints: Path | None = None,
            as_json: bool = False, login: str = "auto", store: SessionStore | None = None,
            interactive: Callable[[], bool] | None = None) -> int:
    """`wi-wizard teardown SESSION`: sign in as the session did, show the preview, confirm (unless `yes`), run.

    Exit codes: 0 when everything listed was removed (or nothing was left), 1 when an item failed or the login
    did, 2 when the session or target cannot be used, or there is no terminal to confirm on without --yes."""
    from wizard import headless
    from wizard.engine import Engine
    from wizard.session import SessionError, SessionStore, Target
    from wizard.target import TargetError

    out = sys.stderr if as_json else sys.stdout
    printer = headless.Printer(out)
    store = store or SessionStore()
    try:
        with store.locked(name):
            session = store.load(name)
            if sandbox or endpoints is not None:
                cloud = headless.resolve_cloud(sandbox, endpoints)
                if Target(cloud.kind, cloud.endpoints_path) != session.target:
                    raise TargetError(f"session {name!r} was made against {session.target.label} "
                                      f"({session.target.endpoints or 'Azure'}), not {cloud.label}; run teardown "
                                      "without --sandbox/--sandbox-endpoints to use the session's own target")
            else:
                cloud = headless.cloud_of(session)
            printer.line(f"wi-wizard teardown · session {name} · {cloud.label} ({cloud.arm_url})")
            engine = Engine(session, store, cloud, report=printer, logins=headless._logins(login, session))
            try:
                engine.run_step("login")
                items = preview(engine.ctx)
            except StepFailed as exc:
                printer.line(f"  ✗ {exc.diagnosis}")
                return EXIT_FAILED
            _print_preview(printer, name, items)
            if not pending(items):
                printer.line(f"Nothing left to remove for session {name}.")
                _print_json(as_json, name, items, TeardownResult(kept=[i.ref for i in items]), refused=False)
                return EXIT_OK
            if not yes and not (interactive or sys.stdin.isatty)():
                print(f"wi-wizard: nothing was deleted: there is no terminal to confirm on. Run again with --yes "
                      f"(`wi-wizard teardown {name} --yes`) to remove what is listed above.", file=sys.stderr)
                _print_json(as_json, name, items, TeardownResult(), refused=True)
                return EXIT_INPUT
            if not yes:
                import click

                if not click.confirm(f"Remove the {len(pending(items))} item(s) marked delete / remove annotations?",
                                     err=as_json):
                    printer.line("Nothing was deleted.")
                    return EXIT_FAILED
            try:
                result = run(engine.ctx, items, _TeardownPrinter(printer))
            finally:  # Ctrl-C included: what was removed is recorded
                engine.save()
            printer.line(f"Removed {len(result.deleted)}, cleaned {len(result.unannotated)}, kept "
                         f"{len(result.kept)}, failed {len(result.failed)}."
                         + ("" if result.ok else " Fix what failed, then run teardown again."))
            _print_json(as_json, name, items, result, refused=False)
            return EXIT_OK if result.ok else EXIT_FAILED
    except (SessionError, TargetError) as exc:
        print(f"wi-wizard: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except (KeyboardInterrupt, Cancelled):
        print(f"wi-wizard: interrupted; run `wi-wizard teardown {name}` again to finish.", file=sys.stderr)
        return 130


class _TeardownPrinter:
    """Teardown events as lines: ✓ removed, - kept, ✗ failed (progress lines are not printed)."""

    def __init__(self, printer: Any) -> None:
        self.printer = printer

    def __call__(self, event: Event) -> None:
        mark = {"done": "✓", "info": "-", "warning": "!", "failed": "✗"}.get(event.kind)
        if mark is not None:
            self.printer.line(f"  {mark} {event.message}")


def _print_preview(printer: Any, name: str, items: list[Item]) -> None:
    printer.line(f"Teardown of session {name}, in this order:")
    for item in items:
        printer.line(f"  {_ACTION_WORDS[item.action]:<18} {item.label}: {item.reason}")


def _print_json(as_json: bool, name: str, items: list[Item], result: TeardownResult, refused: bool) -> None:
    if not as_json:
        return
    print(json.dumps({"session": name, "items": [i.to_dict() for i in items], "deleted": result.deleted,
                      "unannotated": result.unannotated, "kept": result.kept,
                      "failed": [{"ref": ref, "diagnosis": why} for ref, why in result.failed],
                      "nothing_left": not pending(items), "refused": refused, "ok": result.ok and not refused},
                     indent=2), flush=True)
