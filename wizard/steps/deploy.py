"""Step 7: the namespace, the annotated ServiceAccount and the labelled pod — then proof, from the pod the API server
returns, that the workload identity webhook injected what the federation needs.

Rules this step keeps (shared/reference/workload-identity.md §2, §12):
- The ServiceAccount exists before the pod (the webhook denies pods whose account is missing) and is created or
  merge-patched with only the wizard's annotations: everyone else's annotations and labels stay.
- Cross-tenant, the identity's tenant is written twice: as the ServiceAccount's `tenant-id` annotation (covers every
  container) and as an explicit `AZURE_TENANT_ID` env entry (never envFrom, which the webhook's entry would beat).
- The webhook mutates on CREATE only, so a pod whose spec or injected identity is stale is deleted and recreated,
  never patched; an unchanged pod is kept.
- The injected token path differs between webhook versions: it is read from the mutated pod, never assumed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wizard.diagnose import Diagnosis, diagnose_text
from wizard.kube.client import MANAGED_BY_LABEL, MANAGED_BY_VALUE, SESSION_ANNOTATION, Kube, KubeError
from wizard.plan import PLACEHOLDERS, WEBHOOK_ENV, Plan, fill_placeholders
from wizard.session import Session
from wizard.steps.armsupport import failures, known
from wizard.steps.base import Check, Context, Description, Event, Result, Step, StepFailed
from wizard.steps.podwatch import PodReporter, container, describe, env_of, meta, uid
from wizard.workloads import CONTAINER, PROBE_COMMAND, kind_of, restart_policy

Obj = dict[str, Any]

USE_LABEL = "azure.workload.identity/use"
CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
TENANT_ID_ANNOTATION = "azure.workload.identity/tenant-id"
EXPIRATION_ANNOTATION = "azure.workload.identity/service-account-token-expiration"
PROBE_RESOURCE_ENV = "WI_PROBE_RESOURCE"
# Env entries the webhook may add: not the plan's, so not drift (AZURE_TENANT_ID only when the wizard sets none).
_INJECTED = frozenset({*WEBHOOK_ENV, "AZURE_TENANT_ID"})


def kube_ref(cluster_id: str, namespace: str, kind: str = "", name: str = "") -> str:
    """How a Kubernetes object this session created is listed in `Result.created`: the cluster's ARM ID, then the
    object's API path (kind = plural resource, e.g. "pods"), so teardown can find cluster and object again."""
    path = f"{cluster_id}/k8s/api/v1/namespaces/{namespace}"
    return f"{path}/{kind}/{name}" if kind else path


def observed_key(namespace: str, kind: str = "", name: str = "") -> str:
    """An object's key among the run's observations (its API path; see Context.observed)."""
    return f"k8s:/namespaces/{namespace}/{kind}/{name}" if kind else f"k8s:/namespaces/{namespace}"


def owned(obj: Obj, session: str) -> bool:
    """Whether this session created a Kubernetes object: the wizard writes its session annotation only when it
    creates one (so a crash between creating and saving can still be told apart from someone else's object)."""
    return (meta(obj).get("annotations") or {}).get(SESSION_ANNOTATION) == session


@dataclass
class Desired:
    """What this step converges to, computed from the plan and the earlier steps' observations."""

    namespace: str
    service_account: str
    pod: str
    client_id: str
    identity_tenant: str
    cross_tenant: bool
    annotations: dict[str, str]  # the ServiceAccount's workload identity annotations
    manifest: Obj = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {str(e["name"]): str(e["value"]) for e in container(self.manifest).get("env") or []}


class DeployStep(Step):
    name = "deploy"
    title = "Deploy the workload"

    delete_timeout = 120.0  # seconds a stale pod may take to terminate before it is recreated

    def __init__(self, delete_timeout: float | None = None) -> None:
        if delete_timeout is not None:
            self.delete_timeout = delete_timeout

    # -- describe ---------------------------------------------------------------------------------------------

    def describe(self, ctx: Context) -> Description:
        k, w = ctx.plan.kubernetes, ctx.plan.workload
        client_id = known(ctx, "identity", "client_id") or "<identity client ID>"
        identity_tenant = known(ctx, "identity", "tenant_id")
        cross = _cross_tenant(ctx.session)
        tenant_words = (" Because the identity lives in another tenant, its tenant ID is written on the "
                        "ServiceAccount and as an explicit AZURE_TENANT_ID on the pod." if cross else "")
        summary = (f"Create namespace {k.namespace} if missing; create or annotate ServiceAccount "
                   f"{k.namespace}/{k.service_account} with the identity's client ID (other annotations are kept); "
                   f"create pod {w.pod} ({w.image}) labelled {USE_LABEL}=true, then check the webhook injected "
                   f"the identity into it.{tenant_words} A pod with a stale spec is deleted and recreated.")
        annotate = f"{CLIENT_ID_ANNOTATION}={client_id}"
        if cross:
            annotate += f" {TENANT_ID_ANNOTATION}={identity_tenant or '<identity tenant ID>'}"
        commands = [
            f"kubectl create namespace {k.namespace} --dry-run=client -o yaml | kubectl apply -f -",
            f"kubectl create serviceaccount {k.service_account} -n {k.namespace} --dry-run=client -o yaml "
            "| kubectl apply -f -",
            f"kubectl annotate serviceaccount {k.service_account} -n {k.namespace} {annotate} --overwrite",
            f"kubectl delete pod {w.pod} -n {k.namespace} --ignore-not-found --wait",
        ]
        try:
            manifest = self._desired(ctx, strict=False).manifest
        except StepFailed:
            manifest = {}
        if manifest:
            commands.append("kubectl create -f - <<'EOF'\n" + to_yaml(manifest) + "EOF")
        return Description(summary, commands)

    # -- check ------------------------------------------------------------------------------------------------

    def check(self, ctx: Context) -> Check:
        with failures(self):
            kube = Kube.connect(ctx)
            desired = self._desired(ctx)
            missing: list[str] = []
            drifted: list[str] = []
            ns, sa = desired.namespace, desired.service_account
            # Taken from the run's observations when the trust step has just made or read it.
            account_key = observed_key(ns, "serviceaccounts", sa)
            account = ctx.observed.take(account_key, lambda: kube.get_service_account(ns, sa))
            ctx.observed.record(account_key, account)
            if account is None:
                missing.append(f"ServiceAccount {ns}/{sa} does not exist")
            else:
                drifted += _annotation_drift(account, desired)
            pod = kube.get_pod(ns, desired.pod)
            ctx.observed.record(observed_key(ns, "pods", desired.pod), pod)
            if pod is None:
                missing.append(f"pod {ns}/{desired.pod} does not exist")
            else:
                drifted += _pod_drift(pod, desired)
            if drifted:
                return Check("drifted", drifted + missing)
            if missing:
                return Check("missing", missing)
            assert pod is not None
            cluster_id = ctx.value("cluster", "cluster_id")
            ours = [kube_ref(cluster_id, ns, "pods", desired.pod)] if owned(pod, ctx.session.name) else []
            return Check("done", [], _values(desired, pod), ours)

    # -- apply ------------------------------------------------------------------------------------------------

    def apply(self, ctx: Context) -> Result:
        with failures(self):
            kube = Kube.connect(ctx)
            desired = self._desired(ctx)
            cluster_id = ctx.value("cluster", "cluster_id")
            ns, sa = desired.namespace, desired.service_account
            owner_labels = {MANAGED_BY_LABEL: MANAGED_BY_VALUE}
            owner_annotations = {SESSION_ANNOTATION: ctx.session.name}
            created: list[str] = []
            done: list[str] = []

            namespace = kube.ensure_namespace(ns, owner_labels, owner_annotations,
                                              ctx.observed.take(observed_key(ns), lambda: None))
            if namespace.action == "created":
                done.append(f"created namespace {ns}")
                ctx.report(Event(self.name, f"created namespace {ns}", "progress"))
            if namespace.action == "created" or owned(namespace.obj, ctx.session.name):  # or a crashed run's
                created.append(kube_ref(cluster_id, ns))
            ctx.check_cancelled()

            account = ctx.observed.take(observed_key(ns, "serviceaccounts", sa),
                                        lambda: kube.get_service_account(ns, sa))
            applied = kube.apply_service_account(ns, sa, desired.annotations, {}, owner_labels=owner_labels,
                                                 owner_annotations=owner_annotations, read=False, current=account)
            stale_tenant = _annotation_drift(applied.obj, desired)
            if stale_tenant:  # same tenant, but someone's tenant-id annotation would send the pod elsewhere
                ctx.report(Event(self.name, stale_tenant[0], "warning"))
                desired.annotations[TENANT_ID_ANNOTATION] = desired.identity_tenant
                applied = dataclasses.replace(kube.apply_service_account(ns, sa, desired.annotations, {}),
                                              action="patched" if applied.action == "unchanged" else applied.action)
            if applied.action == "created" or owned(applied.obj, ctx.session.name):  # or a crashed run's
                created.append(kube_ref(cluster_id, ns, "serviceaccounts", sa))
            if applied.action != "unchanged":
                done.append(f"{applied.action} ServiceAccount {ns}/{sa}")
            ctx.report(Event(self.name, f"ServiceAccount {ns}/{sa}: {applied.action}", "progress"))
            ctx.check_cancelled()

            pod, fresh = self._converge_pod(ctx, kube, desired)
            if fresh:
                done.append(f"created pod {ns}/{desired.pod}")
            if fresh or owned(pod, ctx.session.name):
                created.append(kube_ref(cluster_id, ns, "pods", desired.pod))
            self._verify(ctx, kube, desired, pod)
            ctx.observed.record(observed_key(ns, "pods", desired.pod), pod)  # as admitted: where the logs step starts
            reporter = PodReporter(ctx, self.name, kube, ns, desired.pod)
            reporter.pod(pod)

            values = _values(desired, pod)
            what = "; ".join(done) if done else f"pod {ns}/{desired.pod} was already up to date; nothing changed"
            return Result(f"{what[0].upper()}{what[1:]}. The pod as admitted has AZURE_CLIENT_ID {desired.client_id}, "
                          f"AZURE_TENANT_ID {values['tenant_env']} and the token file {values['token_file']}.",
                          values, created)

    # -- helpers ----------------------------------------------------------------------------------------------

    def _desired(self, ctx: Context, strict: bool = True) -> Desired:
        return desired(ctx.plan, ctx.session, strict)

    def _converge_pod(self, ctx: Context, kube: Kube, desired: Desired) -> tuple[Obj, bool]:
        """The pod as the API server holds it, and whether this call created it: an up-to-date pod is kept, a
        stale one is deleted (waiting until it is gone) and created again."""
        ns, name = desired.namespace, desired.pod
        existing = ctx.observed.take(observed_key(ns, "pods", name), lambda: kube.get_pod(ns, name))
        if existing is not None:
            reasons = _pod_drift(existing, desired)
            if not reasons:
                ctx.report(Event(self.name, f"pod {ns}/{name} is up to date ({describe(existing)}); kept",
                                 "progress"))
                return existing, False
            ctx.report(Event(self.name, f"recreating pod {ns}/{name}: " + "; ".join(reasons), "progress"))
            kube.delete_pod(ns, name, wait=True, timeout=self.delete_timeout)
        for attempt in range(2):
            ctx.check_cancelled()
            try:
                pod = kube.create_pod(ns, desired.manifest)
            except KubeError as exc:
                if not exc.conflict or attempt:
                    raise
                # Someone (or a crashed run) created it meanwhile: judge that one as an existing pod.
                return self._converge_pod(ctx, kube, desired)
            ctx.report(Event(self.name, f"created pod {ns}/{name} ({describe(pod)})", "progress"))
            return pod, True
        raise AssertionError("unreachable")

    def _verify(self, ctx: Context, kube: Kube, desired: Desired, pod: Obj) -> None:
        """Fail unless the pod the API server returned carries the webhook's injection for this identity."""
        env = env_of(pod)
        injected = env.get("AZURE_CLIENT_ID")
        if not injected:
            raise StepFailed(_not_injected(self._why_not_injected(ctx, kube, desired, pod), desired))
        if injected != desired.client_id:
            raise StepFailed(_not_injected(
                f"The pod got AZURE_CLIENT_ID {injected}, not the identity's client ID {desired.client_id}: its "
                "container env or the ServiceAccount's annotation names another identity.", desired))
        tenant = env.get("AZURE_TENANT_ID", "")
        if tenant != desired.identity_tenant:
            base = diagnose_text("AADSTS700016") or _not_injected("", desired)
            raise StepFailed(dataclasses.replace(
                base, code="WrongTenantEnv", title="The pod would sign in to the wrong tenant",
                cause=f"The pod's AZURE_TENANT_ID is {tenant or '(not set)'}, but the identity lives in tenant "
                      f"{desired.identity_tenant}; its token exchange would fail with AADSTS700016.",
                detail=f"AZURE_TENANT_ID={tenant or '(not set)'}"))
        token_file = env.get("AZURE_FEDERATED_TOKEN_FILE", "")
        if not token_file or not _token_volume(pod, token_file):
            raise StepFailed(_not_injected(
                "The pod has AZURE_CLIENT_ID but " + ("no AZURE_FEDERATED_TOKEN_FILE" if not token_file else
                                                      f"no projected service-account token volume mounted at "
                                                      f"{token_file}") + ": the webhook's mutation is incomplete "
                "(another admission controller may have changed the pod).", desired))

    def _why_not_injected(self, ctx: Context, kube: Kube, desired: Desired, pod: Obj) -> str:
        """Which precondition of the webhook failed, checked in the order the webhook itself checks them."""
        labels = meta(pod).get("labels") or {}
        if labels.get(USE_LABEL) != "true":
            return (f"The pod the API server stored has no label {USE_LABEL}: \"true\" (a mutating admission "
                    "controller removed it?), so the webhook never saw it.")
        if desired.namespace == "kube-system":
            return "AKS never sends pods in kube-system to admission webhooks; use another namespace."
        if known(ctx, "cluster", "workload_identity") != "true":
            return ("Workload identity is off on the cluster, so no webhook mutates pods; enable it (the cluster "
                    "step does with enable_workload_identity = true).")
        account = kube.get_service_account(desired.namespace, desired.service_account) or {}
        if not (meta(account).get("annotations") or {}).get(CLIENT_ID_ANNOTATION):
            return (f"ServiceAccount {desired.namespace}/{desired.service_account} has no {CLIENT_ID_ANNOTATION} "
                    "annotation, so the webhook had no client ID to inject.")
        return ("The cluster reports workload identity on and the pod and ServiceAccount are right, yet the pod was "
                "not mutated: the workload identity webhook is not running or not registered on the cluster.")


def desired(plan: Plan, session: Session, strict: bool = True) -> Desired:
    """The ServiceAccount annotations and pod manifest the plan asks for, with the identity's real values.

    Pure (the plan and the session's recorded observations, no cloud call), so `wi-wizard export` writes exactly
    the objects this step applies. Strict: a missing observation fails as a step-order problem; otherwise it is
    shown as `<step key>`."""
    k, w = plan.kubernetes, plan.workload

    def lookup(step: str, key: str) -> str:
        found = _seen(session, step, key)
        if found:
            return found
        if strict:
            raise StepFailed(Diagnosis("StepOrder", f"The {step} step has not run",
                                       f"This step needs {key!r}, which the {step} step finds.",
                                       f"Run the {step} step first.", step))
        return f"<{step} {key}>"

    client_id = lookup("identity", "client_id")
    identity_tenant = lookup("identity", "tenant_id")
    cross = _cross_tenant(session)
    annotations = {CLIENT_ID_ANNOTATION: client_id}
    if cross:
        annotations[TENANT_ID_ANNOTATION] = identity_tenant

    env: list[dict[str, str]] = []
    values = _placeholder_values(plan, session)
    for key, raw in w.env.items():
        value = fill_placeholders(raw, values)
        if strict and "${" in value:
            raise StepFailed(Diagnosis(
                "PlaceholderUnresolved", "A workload env value cannot be filled in",
                f"workload.env.{key} = {raw!r} needs values the identity and cluster steps find; they have not "
                "run (or did not record them).", "Run the identity and cluster steps first.", "identity"))
        env.append({"name": key, "value": value})
    if kind_of(w.image) == "probe":
        env.append({"name": PROBE_RESOURCE_ENV, "value": w.probe_resource or _first_scope(session, strict, lookup)})
    if cross:
        env.append({"name": "AZURE_TENANT_ID", "value": identity_tenant})
    app: Obj = {"name": CONTAINER, "image": w.image}
    if kind_of(w.image) == "probe":
        app["command"] = list(PROBE_COMMAND)
    if env:
        app["env"] = env
    manifest: Obj = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": w.pod, "namespace": k.namespace,
                     "labels": {USE_LABEL: "true", MANAGED_BY_LABEL: MANAGED_BY_VALUE},
                     "annotations": {SESSION_ANNOTATION: session.name}},
        "spec": {"serviceAccountName": k.service_account, "restartPolicy": restart_policy(w.image),
                 "containers": [app]},
    }
    return Desired(k.namespace, k.service_account, w.pod, client_id, identity_tenant, cross, annotations,
                   manifest)


def _seen(session: Session, step: str, key: str) -> str | None:
    """An observation an earlier step recorded, or None (`known` without a Context)."""
    outcome = session.outcomes.get(step)
    return outcome.values.get(key) if outcome is not None else None


def _cross_tenant(session: Session) -> bool:
    identity_tenant = _seen(session, "identity", "tenant_id") or _seen(session, "login", "identity_tenant_id")
    cluster_tenant = _seen(session, "login", "cluster_tenant_id")
    if identity_tenant and cluster_tenant:
        return identity_tenant.lower() != cluster_tenant.lower()
    return _seen(session, "login", "same_tenant") == "false"


def _placeholder_values(plan: Plan, session: Session) -> dict[str, str]:
    """`${identity.subscription_id}` and friends, from what the identity and cluster steps observed."""
    found: dict[str, str] = {}
    for placeholder in PLACEHOLDERS:
        step, key = placeholder.split(".", 1)
        if placeholder == "identity.resource_group":
            group_id = _seen(session, "identity", "resource_group_id")
            value = group_id.rsplit("/", 1)[-1] if group_id else plan.identity.resource_group
        else:
            value = _seen(session, step, key) or ""
        if value:
            found[placeholder] = value
    return found


def _first_scope(session: Session, strict: bool, lookup: Callable[[str, str], str]) -> str:
    """The probe's default target: the first role's resolved scope (what its role assignment allows reading)."""
    scopes = _seen(session, "role", "scopes")
    if scopes:
        return scopes.splitlines()[0]
    if strict:
        return lookup("role", "scopes")  # raises the step-order failure
    return "<the first role's scope>"


def _annotation_drift(account: Obj, desired: Desired) -> list[str]:
    """What the ServiceAccount's workload identity annotations get wrong. A tenant-id annotation the wizard did not
    ask for (same tenant) still counts when it names another tenant: the webhook would inject that tenant."""
    have = meta(account).get("annotations") or {}
    wanted = dict(desired.annotations)
    if TENANT_ID_ANNOTATION in have and TENANT_ID_ANNOTATION not in wanted:
        wanted[TENANT_ID_ANNOTATION] = desired.identity_tenant
    return [f"ServiceAccount {desired.namespace}/{desired.service_account} has {key}="
            f"{have.get(key, '(none)')}, the identity needs {value}"
            for key, value in wanted.items() if have.get(key) != value]


def _pod_drift(pod: Obj, desired: Desired) -> list[str]:
    """Why an existing pod cannot stay (empty when it matches the plan and carries the current identity)."""
    reasons: list[str] = []
    want = desired.manifest
    if meta(pod).get("deletionTimestamp"):
        return ["it is being deleted"]
    if (meta(pod).get("labels") or {}).get(USE_LABEL) != "true":
        reasons.append(f"it lacks the label {USE_LABEL}=true")
    spec, want_spec = pod.get("spec") or {}, want["spec"]
    have_sa = spec.get("serviceAccountName") or "default"
    if have_sa != desired.service_account:
        reasons.append(f"it runs as ServiceAccount {have_sa}, the plan names {desired.service_account}")
    if spec.get("restartPolicy") != want_spec["restartPolicy"]:
        reasons.append(f"its restartPolicy is {spec.get('restartPolicy')}, the wizard uses "
                       f"{want_spec['restartPolicy']}")
    have_c, want_c = container(pod), container(want)
    if have_c.get("name") != want_c["name"]:
        reasons.append(f"its container is {have_c.get('name')!r}, not the wizard's {want_c['name']!r}")
    if have_c.get("image") != want_c["image"]:
        reasons.append(f"its image is {have_c.get('image')}, the plan names {want_c['image']}")
    if (have_c.get("command") or None) != (want_c.get("command") or None):
        reasons.append("its command differs from the probe's")
    have_env, want_env = env_of(pod), desired.env
    for name, value in want_env.items():
        if name not in have_env:
            reasons.append(f"its env lacks {name}")
        elif have_env[name] != value:
            reasons.append(f"its env {name} is {have_env[name]!r}, the plan wants {value!r}")
    extra = sorted(n for n in have_env if n not in want_env and n not in _INJECTED)
    if extra:
        reasons.append(f"its env has {', '.join(extra)}, which the plan does not set")
    if (injected := have_env.get("AZURE_CLIENT_ID")) != desired.client_id:
        reasons.append(f"it was created with AZURE_CLIENT_ID={injected or '(not injected)'} but the identity's client "
                       f"ID is {desired.client_id} (the webhook only mutates pods at creation)")
    elif (tenant := have_env.get("AZURE_TENANT_ID")) != desired.identity_tenant:
        reasons.append(f"it was created with AZURE_TENANT_ID={tenant or '(none)'} but the identity lives in tenant "
                       f"{desired.identity_tenant}")
    if (pod.get("status") or {}).get("phase") == "Failed":
        reasons.append("it ran and failed (phase Failed); a new pod runs the workload again")
    return reasons


def _token_volume(pod: Obj, token_file: str) -> bool:
    """Whether a projected service-account token volume is mounted so that it provides `token_file`."""
    volumes = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or []}
    for mount in container(pod).get("volumeMounts") or []:
        volume = volumes.get(mount.get("name")) or {}
        for source in (volume.get("projected") or {}).get("sources") or []:
            token = source.get("serviceAccountToken")
            if token and f"{str(mount.get('mountPath', '')).rstrip('/')}/{token.get('path')}" == token_file:
                return True
    return False


def _not_injected(cause: str, desired: Desired) -> Diagnosis:
    base = diagnose_text("AZURE_CLIENT_ID not injected")
    assert base is not None, "diagnose.py lost its EnvNotInjected rule"
    return dataclasses.replace(base, cause=cause or base.cause,
                               detail=f"pod {desired.namespace}/{desired.pod}: AZURE_CLIENT_ID not injected as "
                                      f"expected")


def _values(desired: Desired, pod: Obj) -> dict[str, str]:
    env = env_of(pod)
    return {"namespace": desired.namespace, "service_account": desired.service_account, "pod": desired.pod,
            "pod_uid": uid(pod), "token_file": env.get("AZURE_FEDERATED_TOKEN_FILE", ""),
            "tenant_env": env.get("AZURE_TENANT_ID", "")}


def to_yaml(manifest: Obj) -> str:
    """A manifest as YAML in the order its keys were written (the step's description and `export` show it)."""
    import yaml

    return str(yaml.safe_dump(json.loads(json.dumps(manifest)), sort_keys=False, width=120))
