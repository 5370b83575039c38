"""The Kubernetes gateway: namespaces, ServiceAccounts, TokenRequest, pods, events and logs of one cluster.

Built from the kubeconfig ARM hands out (`listClusterUserCredential`), so the same code reaches a real AKS cluster
and a sandbox one; the kubernetes client trusts the CA inside that kubeconfig (TLS verification stays on).
Entra-integrated clusters hand out an exec-plugin kubeconfig that needs `kubelogin`; instead we keep only the
server and CA from it and send `Bearer <token>` from the cluster-side Azure credential, for the AKS server app,
refreshed before it expires.

Everything returns plain JSON dicts exactly as the API server sent them (responses are read raw, never through
the client's models), so callers see the webhook's mutation verbatim and nothing is lost in a model round trip.
Every API failure becomes a `KubeError` carrying the Kubernetes `Status` reason and message, so callers (and
wizard/diagnose.py) never need to import kubernetes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wizard.target import AKS_SCOPE

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, TokenCredential

    from wizard.steps.base import Context

Obj = dict[str, Any]
TokenSource = Callable[[], "AccessToken"]

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "wi-wizard"
SESSION_ANNOTATION = "wi-wizard/session"
# Refresh the Entra bearer this long before it expires (a request in flight must not carry a dying token).
REFRESH_MARGIN = 300.0
# One watch request lasts at most this long; the watch reconnects from the last resourceVersion after it.
WATCH_CHUNK = 60
_REQUEST_TIMEOUT = 60.0
_CACHE_KEY = "kube"


def owner_labels() -> dict[str, str]:
    """The label on every Kubernetes object the wizard creates (never added to someone else's)."""
    return {MANAGED_BY_LABEL: MANAGED_BY_VALUE}


def owner_annotations(session: str) -> dict[str, str]:
    """The annotation naming the session that created an object (teardown deletes only its own)."""
    return {SESSION_ANNOTATION: session}


class KubeError(Exception):
    """An API failure: the HTTP status, the `Status` reason (NotFound, AlreadyExists, Forbidden…) and message."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"Kubernetes API {status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def conflict(self) -> bool:
        return self.status == 409


def _from_api(exc: Any) -> KubeError:
    """A KubeError from an ApiException, reading the `Status` body when there is one."""
    status = int(getattr(exc, "status", 0) or 0)
    reason = str(getattr(exc, "reason", "") or "")
    message = ""
    body = getattr(exc, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str) and body:
        try:
            parsed = json.loads(body)
        except ValueError:
            message = body.strip()[:500]
        else:
            if isinstance(parsed, dict):
                reason = str(parsed.get("reason") or reason)
                message = str(parsed.get("message") or "")
    return KubeError(status, reason or "Error", message or f"the API server answered {status}")


def _unreachable(exc: BaseException, server: str) -> KubeError:
    return KubeError(0, "Unreachable", f"cannot reach the cluster's API server {server}: {type(exc).__name__}: "
                                        f"{str(exc)[:300]}")


class _BearerRefresher:
    """Keeps `Authorization: Bearer <Entra token>` on the client configuration fresh (thread-safe)."""

    def __init__(self, source: TokenSource) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._token: AccessToken | None = None

    def __call__(self, configuration: Any) -> None:
        with self._lock:
            if self._token is None or self._token.expires_on - time.time() < REFRESH_MARGIN:
                self._token = self._source()
            configuration.api_key["BearerToken"] = self._token.token
            configuration.api_key_prefix["BearerToken"] = "Bearer"


def entra_token_source(credential: TokenCredential) -> TokenSource:
    """Tokens for Entra-integrated AKS API servers, from the cluster-side credential."""
    return lambda: credential.get_token(AKS_SCOPE)


@dataclass(frozen=True)
class Applied:
    """What `apply_service_account` / `ensure_namespace` did: "created", "patched" (our keys only) or
    "unchanged"."""

    obj: Obj
    action: str


class Kube:
    """One cluster's API, through the official kubernetes client (sync: call it from worker threads)."""

    def __init__(self, api_client: Any) -> None:
        from kubernetes import client

        self._api = api_client
        self.server: str = str(api_client.configuration.host)
        self._core: Any = client.CoreV1Api(api_client)

    # -- construction -----------------------------------------------------------------------------------------

    @classmethod
    def from_kubeconfig(cls, kubeconfig: bytes | str, *, context: str | None = None,
                        bearer: TokenSource | None = None) -> Kube:
        """A gateway for a kubeconfig's context. With `bearer`, the kubeconfig's own user (an exec plugin such
        as kubelogin, or a static token) is ignored and every request carries the bearer's token instead."""
        import yaml
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException

        try:
            data = yaml.safe_load(kubeconfig)
        except yaml.YAMLError as exc:
            raise KubeError(0, "InvalidKubeconfig", f"the cluster's kubeconfig is not valid YAML: {exc}") from None
        if not isinstance(data, dict) or not data.get("contexts"):
            raise KubeError(0, "InvalidKubeconfig", "the cluster's kubeconfig has no contexts")
        if bearer is not None:
            data = _without_user_auth(data, context)
        configuration: Any = client.Configuration()
        loader: Any = config.load_kube_config_from_dict  # untyped in the client
        try:
            loader(data, context=context, client_configuration=configuration, persist_config=False)
        except (ConfigException, KeyError, TypeError, ValueError) as exc:
            raise KubeError(0, "InvalidKubeconfig", f"the cluster's kubeconfig cannot be used: {exc}") from None
        if not configuration.verify_ssl:
            raise KubeError(0, "InvalidKubeconfig", "the kubeconfig turns TLS verification off; refusing to use it")
        if bearer is not None:
            # The client only asks the hook when a BearerToken key exists; the hook fills in the real token.
            configuration.api_key["BearerToken"] = ""
            configuration.refresh_api_key_hook = _BearerRefresher(bearer)
        return cls(client.ApiClient(configuration))

    @classmethod
    def connect(cls, ctx: Context) -> Kube:
        """The gateway of the plan's cluster, built once per run (cached in `ctx.cache` per cluster and login).
        Needs the cluster step's observations (`cluster_id`, `aad`) and the cluster-side login."""
        from wizard.azure.arm import cluster_kubeconfig

        cluster_id = ctx.value("cluster", "cluster_id").lower()
        aad = ctx.session.outcome("cluster").values.get("aad") == "true"
        credential = ctx.credential("cluster")
        key = f"{_CACHE_KEY}:{cluster_id}:{id(credential) if aad else ''}"
        found = ctx.cache.get(key)
        if isinstance(found, Kube):
            return found
        bearer = entra_token_source(credential) if aad else None
        gateway = cls.from_kubeconfig(cluster_kubeconfig(ctx), bearer=bearer)
        ctx.cache[key] = gateway
        return gateway

    def close(self) -> None:
        self._api.close()

    # -- plumbing ---------------------------------------------------------------------------------------------

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call a CoreV1Api method for its raw response; API and connection failures become KubeError."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        kwargs.setdefault("_request_timeout", _REQUEST_TIMEOUT)
        try:
            return method(*args, _preload_content=False, **kwargs)
        except ApiException as exc:
            raise _from_api(exc) from None
        except HTTPError as exc:
            raise _unreachable(exc, self.server) from None

    def _json(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Obj:
        response = self._call(method, *args, **kwargs)
        try:
            data = json.loads(response.data)
        except ValueError:
            raise KubeError(int(response.status), "InvalidResponse", "the API server sent something that is not "
                                                                     "JSON") from None
        if not isinstance(data, dict):
            raise KubeError(int(response.status), "InvalidResponse", "the API server sent JSON that is not an "
                                                                     "object")
        return data

    def _get_or_none(self, method: Callable[..., Any], *args: Any) -> Obj | None:
        try:
            return self._json(method, *args)
        except KubeError as exc:
            if exc.not_found:
                return None
            raise

    # -- namespaces and ServiceAccounts -----------------------------------------------------------------------

    def ensure_namespace(self, name: str, labels: dict[str, str] | None = None,
                         annotations: dict[str, str] | None = None, current: Obj | None = None) -> Applied:
        """Create the namespace when missing (with our labels/annotations): "created"; an existing namespace is
        left exactly as it is: "unchanged" (its object tells whether an earlier run of ours made it).
        `current`: the namespace as the caller has just read it (then it is not read again)."""
        if current is not None:
            return Applied(current, "unchanged")
        try:
            existing = self._get_or_none(self._core.read_namespace, name)
            if existing is not None:
                return Applied(existing, "unchanged")
        except KubeError as exc:
            if exc.status != 403:  # may not read namespaces: creating tells us whether it exists
                raise
        body = {"apiVersion": "v1", "kind": "Namespace",
                "metadata": _metadata(name, None, labels, annotations)}
        try:
            return Applied(self._json(self._core.create_namespace, body), "created")
        except KubeError as exc:
            if exc.conflict:
                return Applied({"metadata": {"name": name}}, "unchanged")
            raise

    def get_service_account(self, namespace: str, name: str) -> Obj | None:
        return self._get_or_none(self._core.read_namespaced_service_account, name, namespace)

    def apply_service_account(self, namespace: str, name: str, annotations: dict[str, str],
                              labels: dict[str, str], *, owner_labels: dict[str, str] | None = None,
                              owner_annotations: dict[str, str] | None = None, read: bool = True,
                              current: Obj | None = None) -> Applied:
        """Create the ServiceAccount, or merge-patch only the given annotations and labels onto an existing one:
        every other annotation, label and field (someone else's) is left untouched. `owner_labels` and
        `owner_annotations` (the wizard's ownership marks) are written only when this call creates it, so an
        account that was there before is never claimed (teardown deletes only what carries the marks).

        `read=False`: the caller has just read the account (`current`, None when it does not exist)."""
        existing = self.get_service_account(namespace, name) if read else current
        if existing is None:
            body = {"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": _metadata(name, namespace, {**(owner_labels or {}), **labels},
                                          {**(owner_annotations or {}), **annotations})}
            try:
                return Applied(self._json(self._core.create_namespaced_service_account, namespace, body), "created")
            except KubeError as exc:
                if not exc.conflict:
                    raise
            existing = self.get_service_account(namespace, name)  # created meanwhile by someone else
            if existing is None:
                raise KubeError(409, "Conflict", f"serviceaccount {name!r} in {namespace!r} is being replaced; "
                                                 "retry")
        meta = existing.get("metadata") or {}
        patch: dict[str, dict[str, str]] = {}
        for field, wanted in (("annotations", annotations), ("labels", labels)):
            have = meta.get(field) or {}
            changed = {k: v for k, v in wanted.items() if have.get(k) != v}
            if changed:
                patch[field] = changed
        if not patch:
            return Applied(existing, "unchanged")
        patched = self._json(self._core.patch_namespaced_service_account, name, namespace, {"metadata": patch},
                             _content_type="application/merge-patch+json")
        return Applied(patched, "patched")

    def remove_service_account_annotations(self, namespace: str, name: str, keys: list[str]) -> Obj | None:
        """Remove only these annotation keys from a ServiceAccount (a merge patch setting them to null): every
        other annotation, label and field stays. None when the account does not exist."""
        patch = {"metadata": {"annotations": dict.fromkeys(keys)}}
        try:
            return self._json(self._core.patch_namespaced_service_account, name, namespace, patch,
                              _content_type="application/merge-patch+json")
        except KubeError as exc:
            if exc.not_found:
                return None
            raise

    def delete_service_account(self, namespace: str, name: str) -> bool:
        """Delete a ServiceAccount; False when it did not exist."""
        return self._delete(self._core.delete_namespaced_service_account, name, namespace)

    def get_namespace(self, name: str) -> Obj | None:
        return self._get_or_none(self._core.read_namespace, name)

    def delete_namespace(self, name: str) -> bool:
        """Start deleting a namespace (it terminates in the background, taking what is in it); False when it did
        not exist."""
        return self._delete(self._core.delete_namespace, name)

    def namespace_contents(self, namespace: str) -> list[str]:
        """`pods/<name>` and `serviceaccounts/<name>` in a namespace, leaving out the `default` ServiceAccount the
        cluster creates in every namespace: what deleting the namespace would take with it besides itself."""
        pods = self._json(self._core.list_namespaced_pod, namespace).get("items") or []
        accounts = self._json(self._core.list_namespaced_service_account, namespace).get("items") or []
        names = [f"pods/{(p.get('metadata') or {}).get('name')}" for p in pods]
        return names + [f"serviceaccounts/{n}" for a in accounts
                        if (n := (a.get("metadata") or {}).get("name")) != "default"]

    def _delete(self, method: Callable[..., Any], *args: Any) -> bool:
        try:
            self._json(method, *args)
        except KubeError as exc:
            if exc.not_found:
                return False
            raise
        return True

    def token_request(self, namespace: str, service_account: str, audience: str,
                      expiration_seconds: int = 600) -> str:
        """A ServiceAccount token for `audience` (TokenRequest API). The token is a credential: never log it."""
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                "spec": {"audiences": [audience], "expirationSeconds": expiration_seconds}}
        data = self._json(self._core.create_namespaced_service_account_token, service_account, namespace, body)
        token = (data.get("status") or {}).get("token")
        if not isinstance(token, str) or not token:
            raise KubeError(201, "InvalidResponse", "the TokenRequest answer has no token")
        return token

    # -- pods -------------------------------------------------------------------------------------------------

    def create_pod(self, namespace: str, manifest: Obj) -> Obj:
        """Create a pod; returns the object the API server stored, i.e. after admission (the webhook's mutation
        is visible in it without exec)."""
        return self._json(self._core.create_namespaced_pod, namespace, manifest)

    def get_pod(self, namespace: str, name: str) -> Obj | None:
        return self._get_or_none(self._core.read_namespaced_pod, name, namespace)

    def delete_pod(self, namespace: str, name: str, wait: bool = True, timeout: float = 120.0) -> bool:
        """Delete a pod; True when it existed. With `wait`, return only once it is gone (a pod of the same name
        can then be created), or raise KubeError when it is still there after `timeout` seconds."""
        try:
            deleted = self._json(self._core.delete_namespaced_pod, name, namespace)
        except KubeError as exc:
            if exc.not_found:
                return False
            raise
        if not wait:
            return True
        uid = (deleted.get("metadata") or {}).get("uid")
        for kind, pod in self._pod_events(namespace, name, timeout):
            if kind == "GONE" or (kind == "DELETED" and (pod.get("metadata") or {}).get("uid") == uid):
                return True
        still = self.get_pod(namespace, name)
        if still is None or (still.get("metadata") or {}).get("uid") != uid:
            return True
        raise KubeError(408, "Timeout", f"pod {name!r} in {namespace!r} was still terminating after {timeout:.0f} s")

    def watch_pod(self, namespace: str, name: str, timeout: float, start: Obj | None = None) -> Iterator[Obj]:
        """The pod's state now and on every change, for up to `timeout` seconds. Ends early when the pod is
        deleted (the last object yielded is then its final state) and yields nothing when it does not exist.
        `start`: the pod as the caller has just read it: the watch begins at its resourceVersion (no listing)."""
        for kind, pod in self._pod_events(namespace, name, timeout, start):
            if kind == "GONE":
                return
            yield pod
            if kind == "DELETED":
                return

    def _pod_events(self, namespace: str, name: str, timeout: float,
                    start: Obj | None = None) -> Iterator[tuple[str, Obj]]:
        """(type, pod) for one pod: the current state from a listing ("ADDED"; ("GONE", {}) ends it when the pod
        does not exist) or `start`, then watch events until it is DELETED or `timeout` passes. The watch
        reconnects from the last resourceVersion, and lists again after 410 Gone (its history expired)."""
        selector = f"metadata.name={name}"
        deadline = time.monotonic() + timeout
        version: str | None = None
        started_at = str(((start or {}).get("metadata") or {}).get("resourceVersion") or "")
        if start is not None and started_at:
            version = started_at
            yield "ADDED", start
        while (left := deadline - time.monotonic()) > 0:
            if version is None:
                listing = self._json(self._core.list_namespaced_pod, namespace, field_selector=selector)
                version = str((listing.get("metadata") or {}).get("resourceVersion") or "")
                items = listing.get("items") or []
                if not items:
                    yield "GONE", {}
                    return
                yield "ADDED", items[0]
            seconds = max(1, min(WATCH_CHUNK, int(left)))
            response = self._call(self._core.list_namespaced_pod, namespace, field_selector=selector, watch=True,
                                  resource_version=version, timeout_seconds=seconds, allow_watch_bookmarks=True,
                                  _request_timeout=seconds + 15)
            try:
                for raw in response:
                    event = _watch_event(raw)
                    if event is None:
                        continue
                    kind, obj = event
                    if kind == "ERROR":
                        if obj.get("code") == 410:  # too old: start over from a fresh listing
                            version = None
                            break
                        raise KubeError(int(obj.get("code") or 500), str(obj.get("reason") or "Error"),
                                        str(obj.get("message") or "watch failed"))
                    version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
                    if kind == "BOOKMARK":
                        continue
                    yield kind, obj
                    if kind == "DELETED":
                        return
            finally:
                response.release_conn()

    def pod_events(self, namespace: str, name: str) -> list[Obj]:
        """The Kubernetes events about a pod, oldest first (Scheduled, Pulling, Failed…)."""
        data = self._json(self._core.list_namespaced_event, namespace,
                          field_selector=f"involvedObject.name={name},involvedObject.kind=Pod")
        items = [e for e in data.get("items") or [] if isinstance(e, dict)]
        return sorted(items, key=_event_time)

    def stream_logs(self, namespace: str, name: str, container: str | None = None, follow: bool = True,
                    idle_timeout: float = 600.0) -> Iterator[str]:
        """The container's log, line by line as it is written (with `follow`, until the container stops).
        Following a container that has not started fails with KubeError 400: watch for Running first. A stream
        silent for `idle_timeout` seconds, or cut, ends with KubeError (status 0)."""
        from urllib3.exceptions import HTTPError

        kwargs: dict[str, Any] = {"follow": follow, "_request_timeout": (30.0, idle_timeout)}
        if container:
            kwargs["container"] = container
        response = self._call(self._core.read_namespaced_pod_log, name, namespace, **kwargs)
        try:
            for raw in response:  # urllib3 yields each line as soon as it has arrived
                yield raw.decode("utf-8", errors="replace").rstrip("\r\n")
        except HTTPError as exc:
            raise _unreachable(exc, self.server) from None
        finally:
            response.release_conn()


def _metadata(name: str, namespace: str | None, labels: dict[str, str] | None,
              annotations: dict[str, str] | None) -> Obj:
    meta: Obj = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def _watch_event(raw: bytes) -> tuple[str, Obj] | None:
    line = raw.strip()
    if not line:
        return None
    try:
        event = json.loads(line)
    except ValueError:
        raise KubeError(500, "InvalidResponse", "the API server sent a watch event that is not JSON") from None
    if not isinstance(event, dict) or not isinstance(event.get("object"), dict):
        raise KubeError(500, "InvalidResponse", "the API server sent a watch event without an object")
    return str(event.get("type") or ""), event["object"]


def _event_time(event: Obj) -> str:
    return str(event.get("lastTimestamp") or event.get("eventTime")
               or (event.get("metadata") or {}).get("creationTimestamp") or "")


def _without_user_auth(data: Obj, context: str | None) -> Obj:
    """The kubeconfig with the chosen context's user emptied (no exec plugin runs, no static token is sent)."""
    contexts = [c for c in data.get("contexts") or [] if isinstance(c, dict)]
    name = context or data.get("current-context") or (contexts[0].get("name") if contexts else None)
    chosen = next((c for c in contexts if c.get("name") == name), None)
    if chosen is None:
        raise KubeError(0, "InvalidKubeconfig", f"the cluster's kubeconfig has no context {name!r}")
    user_name = (chosen.get("context") or {}).get("user")
    copy = dict(data)
    copy["current-context"] = name
    copy["users"] = [{"name": u.get("name"), "user": {}} if u.get("name") == user_name else u
                     for u in data.get("users") or [] if isinstance(u, dict)]
    if not any(u.get("name") == user_name for u in copy["users"]):
        copy["users"].append({"name": user_name, "user": {}})
    return copy
