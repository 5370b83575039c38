"""The ARM gateway: the only code that talks to Azure Resource Manager, for real Azure and the sandbox alike.

One `Arm` per credential (a tenant's login), holding the management clients it built (per subscription, built
once: building a client costs ~100 ms of imports and each one keeps its own connection pool). One small class
per concern — subscriptions, clusters, providers, resource groups, identities, federated credentials, roles —
each returning plain frozen dataclasses, so steps never depend on the SDKs' model shapes.

Idempotency lives here: role assignments get deterministic names and a 409 RoleAssignmentExists is success; a
federated credential with the same issuer and subject under another name is reused rather than duplicated;
writes report whether they created something (from the HTTP status, 201 vs 200), so steps only list what they
really made. Waits (provider registration, principal replication, cluster updates) go through callbacks the
caller supplies, so the steps make them visible and cancellable. SDK imports are lazy (first-frame speed).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from wizard.crashpoint import crash_point
from wizard.diagnose import Diagnosis
from wizard.names import is_guid
from wizard.target import Cloud

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from wizard.steps.base import Context, Side

# (seconds, message): the caller waits that long, visibly; a step passes `lambda s, m: ctx.wait(name, s, m)`.
Waiter = Callable[[float, str], None]
# A progress line while something long runs (a cluster update).
Progress = Callable[[str], None]

MAX_FICS = 20
ROLE_ASSIGNMENT_NAMESPACE = uuid.UUID("5b0c8f3e-6f0a-4c55-9d8e-7a1f3c2b9e41")  # wi-wizard's uuid5 namespace
# Cluster provisioning states while an operation runs (a new update would be refused).
BUSY_STATES = frozenset({"Creating", "Updating", "Upgrading", "Scaling", "Starting", "Stopping", "Deleting",
                         "Migrating"})
_CONCURRENT_FIC_WRITES = "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity"
# api-versions for `read` (a probe) of the scopes a plan can name, and of resource types workloads commonly read;
# other types ask their provider once (which needs read access to the subscription's providers).
_READ_VERSIONS = {"subscription": "2022-12-01", "resourcegroup": "2021-04-01",
                  "microsoft.managedidentity/userassignedidentities": "2023-01-31",
                  "microsoft.containerservice/managedclusters": "2024-05-01",
                  "microsoft.quota/quotas": "2023-02-01", "microsoft.quota/usages": "2023-02-01",
                  "microsoft.storage/storageaccounts": "2023-05-01", "microsoft.keyvault/vaults": "2023-07-01"}


def _sleep(seconds: float, message: str) -> None:
    time.sleep(seconds)


def _quiet(message: str) -> None:
    return None


# -- what the gateway returns ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    id: str  # the GUID
    name: str  # display name
    tenant_id: str
    state: str = ""

    @property
    def resource_id(self) -> str:
        return f"/subscriptions/{self.id}"


@dataclass(frozen=True)
class Cluster:
    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    kubernetes_version: str
    provisioning_state: str
    oidc_issuer: bool
    workload_identity: bool
    issuer_url: str | None  # verbatim, trailing slash and all; None while the OIDC issuer is off
    aad: bool  # Entra-integrated (managed AAD): API-server tokens come from Entra, not from the kubeconfig
    fqdn: str = ""


@dataclass(frozen=True)
class ResourceGroup:
    id: str
    name: str
    location: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Identity:
    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    client_id: str
    principal_id: str
    tenant_id: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FederatedCredential:
    id: str
    name: str
    issuer: str
    subject: str
    audiences: tuple[str, ...]


@dataclass(frozen=True)
class RoleDefinition:
    id: str  # /subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}
    guid: str
    role_name: str
    description: str
    role_type: str  # BuiltInRole | CustomRole
    actions: tuple[str, ...] = ()  # the control-plane actions it allows ("*": everything)


@dataclass(frozen=True)
class RoleAssignment:
    id: str
    name: str
    scope: str
    role_definition_id: str
    principal_id: str
    principal_type: str
    description: str = ""

    @property
    def role_guid(self) -> str:
        return self.role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


@dataclass(frozen=True)
class Location:
    name: str  # eastus: what plans and request bodies use
    display_name: str  # East US: what people read


T = TypeVar("T")


@dataclass(frozen=True)
class Written(Generic[T]):
    """What a converging write did: "created" (HTTP 201), "updated" (rewritten in place), "unchanged" (already
    as wanted: nothing sent) or "reused" (an equivalent resource under another name)."""

    value: T
    outcome: str

    @property
    def created(self) -> bool:
        return self.outcome == "created"


def _written(value: T, status: int) -> Written[T]:
    return Written(value, "created" if status == 201 else "updated")


class ArmProblem(Exception):
    """A situation the gateway recognised and can explain (not found, ambiguous, limit reached…).

    Steps turn it into `StepFailed(problem.diagnosis(step))`; the message names the value and the fix.
    """

    def __init__(self, code: str, title: str, cause: str, fix: str, step: str = "") -> None:
        super().__init__(f"{title}: {cause} {fix}")
        self.code, self.title, self.cause, self.fix, self.step = code, title, cause, fix, step

    def diagnosis(self, step: str) -> Diagnosis:
        return Diagnosis(self.code, self.title, self.cause, self.fix, self.step or step)


# -- helpers --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedId:
    subscription_id: str
    resource_group: str  # "" above resource groups
    name: str  # last segment


def parse_id(resource_id: str) -> ParsedId:
    parts = [p for p in resource_id.split("/") if p]
    lowered = [p.lower() for p in parts]
    sub = parts[lowered.index("subscriptions") + 1] if "subscriptions" in lowered[:-1] else ""
    rg = parts[lowered.index("resourcegroups") + 1] if "resourcegroups" in lowered[:-1] else ""
    return ParsedId(sub, rg, parts[-1] if parts else "")


def assignment_name(scope: str, principal_id: str, role_definition_id: str) -> str:
    """Deterministic: the same scope, principal and role always give the same assignment name, so a re-run after
    a crash finds (or re-PUTs) the assignment instead of adding a second one."""
    key = f"{scope.rstrip('/').lower()}|{principal_id.lower()}|{role_definition_id.lower()}"
    return str(uuid.uuid5(ROLE_ASSIGNMENT_NAMESPACE, key))


def error_code(error: BaseException) -> str:
    """The ARM error code of an SDK exception ('' when it has none)."""
    inner = getattr(error, "error", None)
    code = getattr(inner, "code", None)
    return str(code) if code else ""


def scope_covers(outer: str, inner: str) -> bool:
    """Whether an assignment at `outer` applies at `inner` (same scope or an ancestor of it)."""
    o, i = outer.rstrip("/").lower(), inner.rstrip("/").lower()
    return o in ("", i) or i.startswith(o + "/")


def _status_hook(pipeline_response: Any, deserialized: Any, headers: Any) -> tuple[int, Any]:
    """`cls=` for SDK calls: keep the HTTP status next to the model (201 = created)."""
    return int(pipeline_response.http_response.status_code), deserialized


def _tags(raw: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (raw or {}).items()}


def _not_found(error: BaseException) -> bool:
    from azure.core.exceptions import ResourceNotFoundError

    return isinstance(error, ResourceNotFoundError)


# -- the gateway ----------------------------------------------------------------------------------------------


class Arm:
    """Everything ARM, for one credential. Build it with `Arm.for_side(ctx, side)` inside steps (cached in
    `ctx.cache`), or `Arm(cloud, credential)` anywhere else (the trust check's ARM read as the identity)."""

    def __init__(self, cloud: Cloud, credential: TokenCredential, *, poll_seconds: float | None = None,
                 notice: Callable[[str, float | None], None] | None = None) -> None:
        self.cloud = cloud
        self.credential = credential
        self.notice = notice  # told of each answer the SDK retries (throttling, 5xx, resets), so waits are seen
        self.poll_seconds = poll_seconds if poll_seconds is not None else (1.0 if cloud.is_sandbox else 5.0)
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()  # steps may re-check in parallel threads: build each client once
        # Caches of what does not change within a run (each saves a request on the second look).
        self.provider_info: dict[str, Any] = {}  # "subscription|namespace" → the provider (state, api-versions)
        self.role_definitions: dict[str, RoleDefinition] = {}  # "scope|role" → definition
        self.cluster_models: dict[str, Any] = {}  # cluster ID → the SDK model last read (an update PUTs it back)
        self.subscriptions = Subscriptions(self)

    @classmethod
    def for_side(cls, ctx: Context, side: Side) -> Arm:
        credential = ctx.credential(side)
        key = f"arm:{id(credential)}"  # same-tenant plans share one credential, so one gateway
        found = ctx.cache.get(key)
        if not isinstance(found, Arm) or found.credential is not credential:
            from wizard.steps.base import Event

            # A retried call is reported against the step that runs (the flow's state) as a wait.
            found = cls(ctx.cloud, credential, notice=lambda text, seconds: ctx.report(
                Event(ctx.session.state, text, "wait", seconds)))
            ctx.cache[key] = found
        return found

    # Per-concern views of one subscription (cheap objects; the clients behind them are cached).
    def clusters(self, subscription_id: str) -> Clusters:
        return Clusters(self, subscription_id)

    def providers(self, subscription_id: str) -> Providers:
        return Providers(self, subscription_id)

    def groups(self, subscription_id: str) -> ResourceGroups:
        return ResourceGroups(self, subscription_id)

    def identities(self, subscription_id: str) -> Identities:
        return Identities(self, subscription_id)

    def fics(self, subscription_id: str) -> FederatedCredentials:
        return FederatedCredentials(self, subscription_id)

    def roles(self, subscription_id: str) -> Roles:
        return Roles(self, subscription_id)

    def read(self, resource_id: str) -> dict[str, Any]:
        """GET any resource (a probe: 'can this login read that?'). Errors raise the SDK's exceptions with the
        ARM error code (403 AuthorizationFailed → HttpResponseError, 404 → ResourceNotFoundError…)."""
        from azure.core.exceptions import (
            ClientAuthenticationError,
            HttpResponseError,
            ResourceExistsError,
            ResourceNotFoundError,
        )
        from azure.core.rest import HttpRequest
        from azure.mgmt.core.exceptions import ARMErrorFormat

        version = self._read_version(resource_id)
        url = f"{self.cloud.arm_url}{resource_id}?api-version={version}"
        response = self.client("subscriptions", "").send_request(HttpRequest("GET", url))
        if response.status_code >= 400:  # the same exception types the typed clients raise
            kind = {401: ClientAuthenticationError, 404: ResourceNotFoundError,
                    409: ResourceExistsError}.get(response.status_code, HttpResponseError)
            raise kind(response=response, error_format=ARMErrorFormat)
        body = response.json()
        return body if isinstance(body, dict) else {}

    def _read_version(self, resource_id: str) -> str:
        parts = [p for p in resource_id.split("/") if p]
        lowered = [p.lower() for p in parts]
        if "providers" not in lowered:
            return _READ_VERSIONS["resourcegroup" if "resourcegroups" in lowered else "subscription"]
        at = len(lowered) - 1 - lowered[::-1].index("providers")
        namespace, resource_type = parts[at + 1], "/".join(parts[at + 2::2])
        known = _READ_VERSIONS.get(f"{namespace}/{resource_type}".lower())
        if known:
            return known
        return self.providers(parse_id(resource_id).subscription_id).api_version(namespace, resource_type)

    def client(self, kind: str, subscription_id: str) -> Any:
        """The SDK client of a kind for a subscription, built once."""
        key = (kind, subscription_id.lower())
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._build(kind, subscription_id)
            return self._clients[key]

    def _build(self, kind: str, subscription_id: str) -> Any:
        kwargs = self.cloud.client_kwargs()
        if self.notice is not None:
            kwargs["per_retry_policies"] = [_retry_notice(self.notice)]
        if kind == "subscriptions":
            from azure.mgmt.resource.subscriptions import SubscriptionClient

            return SubscriptionClient(self.credential, **kwargs)
        if kind == "resources":
            from azure.mgmt.resource.resources import ResourceManagementClient

            return ResourceManagementClient(self.credential, subscription_id, **kwargs)
        if kind == "containerservice":
            from azure.mgmt.containerservice import ContainerServiceClient

            return ContainerServiceClient(self.credential, subscription_id, **kwargs)
        if kind == "msi":
            from azure.mgmt.msi import ManagedServiceIdentityClient

            return ManagedServiceIdentityClient(self.credential, subscription_id, **kwargs)
        if kind == "authorization":
            from azure.mgmt.authorization import AuthorizationManagementClient

            return AuthorizationManagementClient(self.credential, subscription_id, **kwargs)
        raise ValueError(f"unknown client kind {kind!r}")


RETRIED_STATUSES = {408: "timed out", 429: "asks to slow down", 500: "failed", 502: "failed", 503: "is unavailable",
                    504: "timed out"}


def _retry_notice(notice: Callable[[str, float | None], None]) -> Any:
    """An azure-core policy run on every attempt (after the SDK's RetryPolicy): it tells `notice` of each answer
    the SDK will retry — 429 with its Retry-After, 5xx, a reset connection — so a throttled or flaky ARM shows up
    as a visible wait instead of an unexplained pause. It changes nothing in the request or the retries."""
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class RetryNotice(SansIOHTTPPolicy):  # type: ignore[type-arg]
        def on_response(self, request: Any, response: Any) -> None:
            status = response.http_response.status_code
            if status in RETRIED_STATUSES:
                after = str(response.http_response.headers.get("Retry-After", ""))[:16]
                seconds = re.fullmatch(r"\d+(\.\d+)?", after)
                notice(f"ARM {RETRIED_STATUSES[status]} ({status}); the call is retried"
                       + (f" after {after} s" if seconds is not None else ""), None)

        def on_exception(self, request: Any) -> None:
            notice("The connection to ARM was reset; the call is retried", None)

    return RetryNotice()


def cluster_kubeconfig(ctx: Context) -> bytes:
    """The kubeconfig (YAML bytes) of the plan's cluster, as its user credentials: what `Kube.connect` loads.
    Needs the cluster step's `cluster_id`."""
    parsed = parse_id(ctx.value("cluster", "cluster_id"))
    return Arm.for_side(ctx, "cluster").clusters(parsed.subscription_id).kubeconfig(parsed.resource_group,
                                                                                     parsed.name)


class _View:
    def __init__(self, arm: Arm, subscription_id: str) -> None:
        self.arm = arm
        self.subscription_id = subscription_id


# -- subscriptions --------------------------------------------------------------------------------------------


class Subscriptions:
    def __init__(self, arm: Arm) -> None:
        self.arm = arm
        self._listed: list[Subscription] | None = None
        self._lock = threading.Lock()

    def _list(self) -> list[Subscription]:
        if self._listed is None:
            client = self.arm.client("subscriptions", "")
            self._listed = [Subscription(str(s.subscription_id), str(s.display_name or s.subscription_id),
                                         str(s.tenant_id or ""), str(getattr(s.state, "value", s.state) or ""))
                            for s in client.subscriptions.list()]
        return list(self._listed)

    def locations(self, subscription_id: str) -> list[Location]:
        """The regions a subscription may deploy to (`az account list-locations`), physical ones only."""
        client = self.arm.client("subscriptions", "")
        found = []
        for raw in client.subscriptions.list_locations(subscription_id):
            metadata = getattr(raw, "metadata", None)
            if metadata is not None and str(getattr(metadata.region_type, "value", metadata.region_type) or "") \
                    == "Logical":
                continue
            found.append(Location(str(raw.name), str(raw.display_name or raw.name)))
        return found

    def list(self) -> list[Subscription]:
        """Every subscription the login can see (listed once per gateway, even when steps ask in parallel)."""
        with self._lock:
            return self._list()

    def resolve(self, ref: str, tenant_id: str = "", who: str = "this login") -> Subscription:
        """A subscription by ID or display name; a clear ArmProblem naming what the login can see otherwise."""
        visible = self.list()
        if tenant_id:
            visible = [s for s in visible if not s.tenant_id or s.tenant_id.lower() == tenant_id.lower()]
        if is_guid(ref):
            found = [s for s in visible if s.id.lower() == ref.lower()]
        else:
            found = [s for s in visible if s.name == ref] or [s for s in visible if s.name.lower() == ref.lower()]
        if len(found) == 1:
            return found[0]
        names = ", ".join(f"{s.name} ({s.id})" for s in visible) or "none"
        if len(found) > 1:
            raise ArmProblem("SubscriptionAmbiguous", f"Subscription name {ref!r} is ambiguous",
                             f"{who} sees {len(found)} subscriptions named {ref!r}: "
                             + ", ".join(s.id for s in found) + ".",
                             "Name the subscription by its ID in the plan.")
        where = f" in tenant {tenant_id}" if tenant_id else ""
        raise ArmProblem("SubscriptionNotFound", f"Subscription {ref!r} not found",
                         f"{who} cannot see a subscription {ref!r}{where}. Visible: {names}.",
                         "Use one of the visible subscriptions (ID or name), or sign in with an account that has a "
                         "role on it.")


# -- clusters -------------------------------------------------------------------------------------------------


def _cluster(mc: Any) -> Cluster:
    oidc = mc.oidc_issuer_profile
    security = mc.security_profile
    wi = security.workload_identity if security is not None else None
    aad = mc.aad_profile
    parsed = parse_id(str(mc.id))
    return Cluster(
        id=str(mc.id), name=str(mc.name), subscription_id=parsed.subscription_id,
        resource_group=parsed.resource_group, location=str(mc.location),
        kubernetes_version=str(mc.current_kubernetes_version or mc.kubernetes_version or ""),
        provisioning_state=str(mc.provisioning_state or ""),
        oidc_issuer=bool(oidc is not None and oidc.enabled),
        workload_identity=bool(wi is not None and wi.enabled),
        issuer_url=(str(oidc.issuer_url) if oidc is not None and oidc.issuer_url else None),
        aad=bool(aad is not None and (aad.managed or aad.enable_azure_rbac or aad.server_app_id)),
        fqdn=str(mc.fqdn or ""),
    )


class Clusters(_View):
    @property
    def _ops(self) -> Any:
        return self.arm.client("containerservice", self.subscription_id).managed_clusters

    def list(self) -> list[Cluster]:
        return [_cluster(mc) for mc in self._ops.list()]

    def get(self, resource_group: str, name: str) -> Cluster | None:
        try:
            mc = self._ops.get(resource_group, name)
        except Exception as exc:
            if _not_found(exc):
                return None
            raise
        self.arm.cluster_models[str(mc.id).lower()] = mc
        return _cluster(mc)

    def enable_workload_identity(self, resource_group: str, name: str, progress: Progress = _quiet,
                                 timeout: float = 1800.0) -> Cluster:
        """Turn the OIDC issuer and workload identity on (one cluster update, a long-running operation).

        `progress` is called about every poll interval while ARM reports the update running; it may raise
        (Cancelled) to stop waiting — the update itself continues on Azure's side and a re-run picks it up."""
        from azure.mgmt.containerservice import models

        cluster_id = f"/subscriptions/{self.subscription_id}/resourcegroups/{resource_group}/providers/" \
                     f"microsoft.containerservice/managedclusters/{name}".lower()
        mc = self.arm.cluster_models.pop(cluster_id, None) or self._ops.get(resource_group, name)
        if mc.oidc_issuer_profile is None:
            mc.oidc_issuer_profile = models.ManagedClusterOIDCIssuerProfile(enabled=True)
        else:
            mc.oidc_issuer_profile.enabled = True
        if mc.security_profile is None:
            mc.security_profile = models.ManagedClusterSecurityProfile()
        mc.security_profile.workload_identity = models.ManagedClusterSecurityProfileWorkloadIdentity(enabled=True)
        poller = self._ops.begin_create_or_update(resource_group, name, mc,
                                                  polling_interval=self.arm.poll_seconds)
        crash_point("accepted:cluster")  # the update is accepted and runs on; nothing of it is saved yet
        started = time.monotonic()
        while not poller.done():
            elapsed = time.monotonic() - started
            if elapsed > timeout:
                raise ArmProblem("ClusterUpdateTimeout", "Cluster update still running",
                                 f"Enabling workload identity on {name} has not finished after {int(elapsed)} s.",
                                 "Check the cluster in the portal (`az aks show`), then run the step again.")
            progress(f"Updating cluster {name} (OIDC issuer + workload identity): {poller.status()}, "
                     f"{int(elapsed)} s")
            crash_point("lro:cluster")  # while the operation is still in progress
            poller.wait(self.arm.poll_seconds)
        updated = poller.result()
        self.arm.cluster_models[cluster_id] = updated
        return _cluster(updated)

    def wait_idle(self, resource_group: str, name: str, progress: Progress = _quiet,
                  timeout: float = 1800.0) -> Cluster:
        """Poll until no operation runs on the cluster (ARM refuses a second update meanwhile with 409), e.g.
        the update a crashed run started."""
        deadline = time.monotonic() + timeout
        while True:
            cluster = self.get(resource_group, name)
            if cluster is None:
                raise ArmProblem("ClusterNotFound", f"Cluster {name} disappeared",
                                 f"Cluster {name} in {resource_group} no longer exists.", "Check the plan.", "cluster")
            if cluster.provisioning_state not in BUSY_STATES:
                return cluster
            if time.monotonic() > deadline:
                raise ArmProblem("ClusterBusy", f"Cluster {name} is still {cluster.provisioning_state}",
                                 f"An operation on cluster {name} has run for more than {int(timeout)} s.",
                                 "Wait for it to finish (`az aks show`), then run the step again.")
            progress(f"Cluster {name} is {cluster.provisioning_state}")
            time.sleep(self.arm.poll_seconds)

    def kubeconfig(self, resource_group: str, name: str) -> bytes:
        """The cluster-user kubeconfig (YAML bytes). For Entra clusters its user entry is a kubelogin exec
        plugin; the Kubernetes gateway then takes only server and CA from it and brings its own bearer token."""
        result = self._ops.list_cluster_user_credentials(resource_group, name)
        configs = list(result.kubeconfigs or [])
        if not configs or configs[0].value is None:
            raise ArmProblem("NoKubeconfig", "No kubeconfig returned",
                             f"ARM returned no user credentials for cluster {name}.",
                             "Check the cluster's state with `az aks show` and retry.", "cluster")
        value = configs[0].value
        return value if isinstance(value, bytes) else str(value).encode()


def all_clusters(arm: Arm, subscriptions: Iterable[Subscription]) -> list[Cluster]:
    """Clusters across subscriptions, skipping the ones the login may not list (for 'what can I see')."""
    from azure.core.exceptions import HttpResponseError

    found: list[Cluster] = []
    for sub in subscriptions:
        try:
            found.extend(arm.clusters(sub.id).list())
        except HttpResponseError:
            continue
    return sorted(found, key=lambda c: (c.subscription_id, c.resource_group.lower(), c.name.lower()))


# -- providers ------------------------------------------------------------------------------------------------


class Providers(_View):
    """Resource-provider registration, checked and done explicitly before a namespace is used.

    The SDK's own fallback (ARMAutoResourceProviderRegistrationPolicy: on a 409 MissingSubscriptionRegistration it
    registers, sleeps a fixed 10 s and polls, invisibly) must never be what registers a provider: steps call
    `ensure_registered` (or `registered`) first. A provider seen Registered is remembered for the gateway's life."""

    @property
    def _ops(self) -> Any:
        return self.arm.client("resources", self.subscription_id).providers

    def _provider(self, namespace: str, fresh: bool = False) -> Any:
        key = f"{self.subscription_id.lower()}|{namespace.lower()}"
        if fresh or key not in self.arm.provider_info:
            self.arm.provider_info[key] = self._ops.get(namespace)
        return self.arm.provider_info[key]

    def state(self, namespace: str, fresh: bool = False) -> str:
        return str(self._provider(namespace, fresh).registration_state or "")

    def registered(self, namespace: str) -> bool:
        return self.state(namespace) == "Registered"

    def ensure_registered(self, namespace: str, wait: Waiter = _sleep, timeout: float = 600.0) -> bool:
        """Register a resource provider and poll until it is Registered. True when this call registered it.

        The wait is visible: `wait(seconds, message)` between polls."""
        if self.registered(namespace):
            return False
        self._ops.register(namespace)
        waited = 0.0
        while (state := self.state(namespace, fresh=True)) != "Registered":
            if waited >= timeout:
                raise ArmProblem("ProviderRegistrationTimeout", f"{namespace} is still {state}",
                                 f"Registering the resource provider {namespace} on subscription "
                                 f"{self.subscription_id} did not finish within {int(timeout)} s.",
                                 f"Run `az provider register --namespace {namespace} --subscription "
                                 f"{self.subscription_id} --wait`, then retry.")
            wait(self.arm.poll_seconds, f"Registering resource provider {namespace} ({state})")
            waited += self.arm.poll_seconds
        return True

    def api_version(self, namespace: str, resource_type: str) -> str:
        """The newest stable api-version of a resource type (from the provider, once per namespace)."""
        table: dict[str, str] = {}
        for rt in self._provider(namespace).resource_types or []:
            versions = [v for v in (rt.api_versions or []) if "preview" not in v.lower()] or list(
                rt.api_versions or [])
            if versions:
                table[str(rt.resource_type).lower()] = max(versions)
        found = table.get(resource_type.lower())
        if found is None:
            raise ArmProblem("UnknownResourceType", f"Unknown resource type {namespace}/{resource_type}",
                             f"The provider {namespace} does not list a type {resource_type!r}.",
                             "Check the resource ID.")
        return found


# -- resource groups ------------------------------------------------------------------------------------------


def _group(rg: Any) -> ResourceGroup:
    return ResourceGroup(str(rg.id), str(rg.name), str(rg.location), _tags(rg.tags))


class ResourceGroups(_View):
    @property
    def _ops(self) -> Any:
        return self.arm.client("resources", self.subscription_id).resource_groups

    def get(self, name: str) -> ResourceGroup | None:
        try:
            return _group(self._ops.get(name))
        except Exception as exc:
            if _not_found(exc):
                return None
            raise

    def list(self) -> list[ResourceGroup]:
        """Every resource group of the subscription the login may read."""
        return [_group(rg) for rg in self._ops.list()]

    def create(self, name: str, location: str, tags: dict[str, str]) -> Written[ResourceGroup]:
        """Create a resource group (a PUT; on an existing group it would replace its tags, so callers check
        first with `get` and only create what is missing)."""
        status, rg = self._ops.create_or_update(name, {"location": location, "tags": tags}, cls=_status_hook)
        return _written(_group(rg), status)

    def delete(self, name: str) -> bool:
        """Delete a resource group and wait until ARM says it is gone (a long-running operation); False when it
        did not exist. Everything in it goes with it: callers check `resources` first (teardown does)."""
        try:
            poller = self._ops.begin_delete(name, polling_interval=self.arm.poll_seconds)
        except Exception as exc:
            if _not_found(exc):
                return False
            raise
        poller.result()
        return True

    def resources(self, name: str) -> tuple[str, ...]:
        """The IDs of the top-level resources in a group (`az resource list -g`): what deleting it would take."""
        client = self.arm.client("resources", self.subscription_id)
        return tuple(str(raw.id) for raw in client.resources.list_by_resource_group(name))


# -- managed identities ---------------------------------------------------------------------------------------


def _identity(raw: Any) -> Identity:
    parsed = parse_id(str(raw.id))
    return Identity(id=str(raw.id), name=str(raw.name), subscription_id=parsed.subscription_id,
                    resource_group=parsed.resource_group, location=str(raw.location),
                    client_id=str(raw.client_id), principal_id=str(raw.principal_id),
                    tenant_id=str(raw.tenant_id), tags=_tags(raw.tags))


class Identities(_View):
    @property
    def _ops(self) -> Any:
        return self.arm.client("msi", self.subscription_id).user_assigned_identities

    def get(self, resource_group: str, name: str) -> Identity | None:
        try:
            return _identity(self._ops.get(resource_group, name))
        except Exception as exc:
            if _not_found(exc):
                return None
            raise

    def create(self, resource_group: str, name: str, location: str, tags: dict[str, str]) -> Written[Identity]:
        from azure.mgmt.msi.models import Identity as IdentityModel

        status, raw = self._ops.create_or_update(resource_group, name,
                                                 IdentityModel(location=location, tags=tags), cls=_status_hook)
        return _written(_identity(raw), status)

    def named_elsewhere(self, name: str, resource_group: str) -> list[Identity]:
        """Identities of this name in other resource groups of the subscription (for a clear 'did you mean')."""
        return [_identity(raw) for raw in self._ops.list_by_subscription()
                if str(raw.name).lower() == name.lower()
                and parse_id(str(raw.id)).resource_group.lower() != resource_group.lower()]

    def list(self) -> list[Identity]:
        """Every user-assigned managed identity of the subscription."""
        return [_identity(raw) for raw in self._ops.list_by_subscription()]

    def delete(self, resource_group: str, name: str) -> bool:
        """Delete an identity (its federated credentials go with it); False when it did not exist."""
        try:
            status, _ = self._ops.delete(resource_group, name, cls=_status_hook)
        except Exception as exc:
            if _not_found(exc):  # its resource group is gone too
                return False
            raise
        return bool(status != 204)


# -- federated identity credentials ---------------------------------------------------------------------------


def _fic(raw: Any) -> FederatedCredential:
    return FederatedCredential(str(raw.id), str(raw.name), str(raw.issuer), str(raw.subject),
                               tuple(str(a) for a in (raw.audiences or [])))


class FederatedCredentials(_View):
    @property
    def _ops(self) -> Any:
        return self.arm.client("msi", self.subscription_id).federated_identity_credentials

    def list(self, resource_group: str, identity: str) -> list[FederatedCredential]:
        return [_fic(raw) for raw in self._ops.list(resource_group, identity)]

    def get(self, resource_group: str, identity: str, name: str) -> FederatedCredential | None:
        try:
            return _fic(self._ops.get(resource_group, identity, name))
        except Exception as exc:
            if _not_found(exc):
                return None
            raise

    def put(self, resource_group: str, identity: str, name: str, issuer: str, subject: str,
            audience: str, wait: Waiter = _sleep) -> Written[FederatedCredential]:
        from azure.core.exceptions import HttpResponseError
        from azure.mgmt.msi.models import FederatedIdentityCredential

        model = FederatedIdentityCredential(issuer=issuer, subject=subject, audiences=[audience])
        for attempt in range(5):
            try:
                status, raw = self._ops.create_or_update(resource_group, identity, name, model, cls=_status_hook)
                return _written(_fic(raw), status)
            except HttpResponseError as exc:
                # Azure refuses concurrent FIC writes on one identity (409, no Retry-After): writes are sequential
                # here, but another tool may be writing; wait and retry a few times.
                if error_code(exc) != _CONCURRENT_FIC_WRITES or attempt == 4:
                    raise
                wait(self.arm.poll_seconds, f"Another federated credential write on {identity} is in progress")
        raise AssertionError("unreachable")

    def delete(self, resource_group: str, identity: str, name: str) -> None:
        self._ops.delete(resource_group, identity, name)

    def ensure(self, resource_group: str, identity: str, name: str, issuer: str, subject: str,
               audience: str, wait: Waiter = _sleep,
               existing: Sequence[FederatedCredential] | None = None) -> Written[FederatedCredential]:
        """Converge on one credential trusting (issuer, subject, audience), exactly (issuer never normalised).

        - the named credential already says exactly that: nothing is written;
        - another credential has the same issuer and subject (ARM would refuse a second one): it is reused when
          its audience matches, else an ArmProblem explains the conflict;
        - the identity already has 20 credentials: an ArmProblem names them;
        - otherwise the named credential is written (created, or updated in place).

        `existing`: the identity's credentials as just listed by the caller (the step's check), else listed here."""
        if existing is None:
            existing = self.list(resource_group, identity)
        mine = next((f for f in existing if f.name.lower() == name.lower()), None)
        if mine is not None and (mine.issuer, mine.subject, mine.audiences) == (issuer, subject, (audience,)):
            return Written(mine, "unchanged")
        twin = next((f for f in existing if f is not mine and f.issuer == issuer and f.subject == subject), None)
        if twin is not None:
            if twin.audiences == (audience,):
                return Written(twin, "reused")
            raise ArmProblem("FederatedCredentialConflict", "Another credential trusts this issuer and subject",
                             f"The federated credential {twin.name!r} on identity {identity} already has issuer "
                             f"{issuer!r} and subject {subject!r}, with audience "
                             f"{', '.join(twin.audiences) or '(none)'} instead of {audience!r}; Azure allows one "
                             "credential per issuer and subject.",
                             f"Delete or fix {twin.name!r} (`az identity federated-credential delete`), or use its "
                             "audience in the plan.", "federation")
        if mine is None and len(existing) >= MAX_FICS:
            raise ArmProblem("FederatedCredentialLimit", f"Identity {identity} has {len(existing)} federated "
                             "credentials", f"A managed identity holds at most {MAX_FICS} federated credentials and "
                             f"{identity} is full: {', '.join(f.name for f in existing)}.",
                             "Delete credentials that are no longer used (dangling ones are a risk anyway), or use "
                             "another identity.", "federation")
        return self.put(resource_group, identity, name, issuer, subject, audience, wait)


# -- roles ----------------------------------------------------------------------------------------------------


def _definition(raw: Any) -> RoleDefinition:
    return RoleDefinition(str(raw.id), str(raw.name).lower(), str(raw.role_name), str(raw.description or ""),
                          str(raw.role_type or ""),
                          tuple(str(a) for p in (raw.permissions or []) for a in (p.actions or [])))


def _assignment(raw: Any) -> RoleAssignment:
    return RoleAssignment(str(raw.id), str(raw.name), str(raw.scope), str(raw.role_definition_id),
                          str(raw.principal_id), str(raw.principal_type or ""), str(raw.description or ""))


_DEFINITION_ID = re.compile(r"/providers/Microsoft\.Authorization/roleDefinitions/([0-9a-fA-F-]{36})$", re.I)


class Roles(_View):
    @property
    def _client(self) -> Any:
        return self.arm.client("authorization", self.subscription_id)

    def definition(self, role: str, scope: str) -> RoleDefinition:
        """A role definition by name (e.g. Reader), GUID, or full definition ID, as seen at `scope`."""
        key = f"{scope.lower()}|{role.lower()}"
        cached = self.arm.role_definitions.get(key)
        if cached is not None:
            return cached
        found_definition = self._lookup_definition(role, scope)
        self.arm.role_definitions[key] = found_definition
        return found_definition

    def _lookup_definition(self, role: str, scope: str) -> RoleDefinition:
        ops = self._client.role_definitions
        match = _DEFINITION_ID.search(role)
        guid = match.group(1) if match else (role if is_guid(role) else "")
        try:
            if guid:
                return _definition(ops.get(scope, guid))
            escaped = role.replace("'", "''")
            found = [_definition(d) for d in ops.list(scope, filter=f"roleName eq '{escaped}'")]
        except Exception as exc:
            if not _not_found(exc) and error_code(exc) != "RoleDefinitionDoesNotExist":
                raise
            found = []
        exact = [d for d in found if d.role_name.lower() == role.lower()]
        if exact:
            return exact[0]
        raise ArmProblem("RoleNotFound", f"Role {role!r} not found",
                         f"No role definition named or identified {role!r} exists at {scope}.",
                         "Use a built-in role name such as Reader, or a role definition ID (`az role definition "
                         "list --name …`).", "role")

    def definitions(self, scope: str) -> list[RoleDefinition]:
        """Every role definition assignable at `scope` (built-in and custom; `role_type` tells them apart)."""
        return [_definition(d) for d in self._client.role_definitions.list(scope)]

    def assignments(self, scope: str, principal_id: str) -> list[RoleAssignment]:
        """A principal's assignments that apply at `scope` (at it or inherited from above)."""
        ops = self._client.role_assignments
        found = [_assignment(a) for a in ops.list_for_scope(scope, filter=f"principalId eq '{principal_id}'")]
        return [a for a in found if scope_covers(a.scope, scope)]

    def assignment(self, assignment_id: str) -> RoleAssignment | None:
        """One role assignment by its full ID; None when it does not exist."""
        try:
            return _assignment(self._client.role_assignments.get_by_id(assignment_id))
        except Exception as exc:
            if _not_found(exc) or error_code(exc) == "RoleAssignmentNotFound":
                return None
            raise

    def delete_assignment(self, assignment_id: str) -> bool:
        """Delete a role assignment by its full ID; False when it did not exist (ARM answers 204)."""
        status, _ = self._client.role_assignments.delete_by_id(assignment_id, cls=_status_hook)
        return bool(status != 204)

    def assign(self, scope: str, role: RoleDefinition, principal_id: str, description: str,
               wait: Waiter = _sleep, principal_timeout: float = 300.0) -> Written[RoleAssignment]:
        """Assign a role to a managed identity's service principal, idempotently.

        The name is deterministic; 409 RoleAssignmentExists (the same grant under another name) is success; 400
        PrincipalNotFound (a new identity not replicated yet) is retried with back-off up to `principal_timeout`.
        Other errors (403 AuthorizationFailed: the caller may not assign roles) propagate."""
        from azure.core.exceptions import HttpResponseError
        from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

        name = assignment_name(scope, principal_id, role.id)
        params = RoleAssignmentCreateParameters(role_definition_id=role.id, principal_id=principal_id,
                                                principal_type="ServicePrincipal", description=description)
        waited, delay = 0.0, 2.0
        while True:
            try:
                status, raw = self._client.role_assignments.create(scope, name, params, cls=_status_hook)
                return _written(_assignment(raw), status)
            except HttpResponseError as exc:
                code = error_code(exc)
                if code == "RoleAssignmentExists":
                    same = [a for a in self.assignments(scope, principal_id)
                            if a.role_guid == role.guid and a.scope.rstrip("/").lower() == scope.rstrip("/").lower()]
                    if same:
                        return Written(same[0], "reused")
                    raise
                if code != "PrincipalNotFound" or waited + delay > principal_timeout:
                    raise
                wait(delay, f"Waiting for the identity's service principal to replicate before assigning "
                            f"{role.role_name}")
                waited, delay = waited + delay, min(delay * 2, 30.0)
