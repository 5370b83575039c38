"""One sandbox AKS cluster's control plane: its objects, logs, scheduler and the pod runtime it drives.

`Cluster` is also the `contracts.PodApi` the kubelet (engineer 4's `kube/kubelet.py`) is given: the runtime
changes pods only through these methods, on the sandbox's loop, so every change gets a resourceVersion and a
watch event. Until a kubelet module exists, pods stay Pending and deletions complete at once.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import importlib
import inspect
import logging
from typing import Any

from wizard.sandbox import clusters
from wizard.sandbox.kube import satokens
from wizard.sandbox.kube.logs import LogStore
from wizard.sandbox.kube.meta import parse_time, rfc3339
from wizard.sandbox.kube.objects import ObjectStore
from wizard.sandbox.kube.resources import CONFIG_MAPS, CORE, EVENTS, NAMESPACES, PODS, SERVICE_ACCOUNTS
from wizard.sandbox.world import World

log = logging.getLogger("wizard.sandbox")

Obj = dict[str, Any]

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
ROOT_CA = "kube-root-ca.crt"
ROOT_CA_DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the "
    "internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of "
    "Kubernetes clusters.")
EVENT_TTL = 3600.0  # kube-apiserver --event-ttl default
EVENT_EXPIRY_INTERVAL = 60.0
FORCE_REMOVE_AFTER = 15.0  # seconds past the grace period before a stuck graceful deletion is finished for it


def _load_kubelet_class() -> Any:
    """The runtime's Kubelet class, or None while `kube/kubelet.py` does not exist yet."""
    try:
        module = importlib.import_module("wizard.sandbox.kube.kubelet")
    except ModuleNotFoundError as exc:
        if exc.name == "wizard.sandbox.kube.kubelet":
            return None
        raise
    return getattr(module, "Kubelet", None)


class Cluster:
    def __init__(self, world: World, record: clusters.Record) -> None:
        self.world = world
        self.key: str = record["key"]
        self.record = record
        self.objects = ObjectStore(world, self.key)
        self.logs = LogStore(world.state_dir / "pods")
        self.kubelet: Any = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._last_event_ns = 0
        self._events_expired_at = 0.0

    # -- lifecycle -------------------------------------------------------------------------------------------

    def refresh(self, record: clusters.Record) -> None:
        self.record = record

    @property
    def node_name(self) -> str:
        digits = int(hashlib.sha256(self.key.encode()).hexdigest()[:8], 16) % 10 ** 8
        return f"aks-nodepool1-{digits:08d}-vmss000000"

    @property
    def node(self) -> Obj:
        return {"name": self.node_name, "uid": self.world.ids.named("node", self.key)}

    def runs_here(self, pod: Obj) -> bool:
        """Whether the cluster's one node (its kubelet) runs this pod: a pod bound to any other node name never
        runs, as on a real cluster where that node does not exist."""
        return (pod.get("spec") or {}).get("nodeName") == self.node_name

    def now(self) -> float:
        return self.world.clock()

    def new_uid(self) -> str:
        return self.world.ids.new("k8s-object")

    def ensure_bootstrap(self) -> None:
        """The namespaces every AKS cluster starts with, each with its default ServiceAccount and root CA."""
        for name in SYSTEM_NAMESPACES:
            if not self.objects.exists("namespaces", "", name):
                self.create_internal(NAMESPACES.plural, namespace_object(name))
            self.ensure_namespace_contents(name)

    def ensure_namespace_contents(self, namespace: str) -> None:
        """What the ServiceAccount and root-CA controllers add to every namespace."""
        if not self.objects.exists("serviceaccounts", namespace, "default"):
            self.create_internal(SERVICE_ACCOUNTS.plural, {
                "apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "default", "namespace": namespace}})
        if not self.objects.exists("configmaps", namespace, ROOT_CA):
            ca = self.world.ca_path.read_text() if self.world.ca_path and self.world.ca_path.exists() else ""
            self.create_internal(CONFIG_MAPS.plural, {
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": ROOT_CA, "namespace": namespace,
                             "annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION}},
                "data": {"ca.crt": ca}})

    def create_internal(self, resource: str, obj: Obj) -> Obj:
        obj["metadata"]["uid"] = self.new_uid()
        obj["metadata"]["creationTimestamp"] = rfc3339(self.now())
        return self.objects.put(resource, obj)

    def start_kubelet(self) -> None:
        """Bring up the runtime (if it exists) and hand it the pods that were running before a restart."""
        if self.kubelet is not None:
            return
        kubelet_class = _load_kubelet_class()
        if kubelet_class is None:
            return
        self.kubelet = kubelet_class(self.world, self.record, self)
        pods = [p for p in self.objects.list("pods") if self.runs_here(p)]
        self._run(self.kubelet.resume(pods))

    async def shutdown(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self.kubelet is not None:
            result = self.kubelet.shutdown()
            if inspect.isawaitable(result):
                await result
        for task in list(self._tasks):
            task.cancel()
        self.objects.bus.close_all()
        self.logs.end_all()

    async def destroy(self) -> None:
        """The cluster was deleted in ARM: stop its pods, end its streams, forget its objects."""
        pods = self.objects.list("pods")
        # Stop (and reap) every container process first: a per-pod delete queued before the shutdown would be
        # cancelled by it and leave the process running, unreaped, after its cluster is gone.
        await self.shutdown()
        if self.kubelet is not None:
            for pod in pods:
                self._run(self.kubelet.delete(pod, 0))  # nothing runs any more: this removes the pod's files
        self.objects.drop_all()
        for pod in pods:
            self.logs.drop(pod["metadata"]["uid"])

    def _run(self, result: Any) -> None:
        """Call-site helper for the runtime: its methods may be plain or coroutines; never lose an error."""
        if not inspect.isawaitable(result):
            return
        task = asyncio.ensure_future(result)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("kubelet task of cluster %s failed", self.key, exc_info=task.exception())

    def spawn(self, coro: Any) -> None:
        self._run(coro)

    # -- scheduler and pod deletion (the control-plane side of the pod lifecycle) ----------------------------

    def run(self, pod: Obj) -> None:
        """Hand a pod bound to this cluster's node to the kubelet."""
        if not self.runs_here(pod):
            return
        self.start_kubelet()
        if self.kubelet is not None:
            self._run(self.kubelet.start(pod))

    def schedule(self, pod: Obj) -> Obj:
        """Bind a new pod to the cluster's node (as kube-scheduler would) and hand it to the kubelet."""
        bound = copy.deepcopy(pod)
        bound["spec"]["nodeName"] = self.node_name
        conditions = bound.setdefault("status", {}).setdefault("conditions", [])
        conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                           "lastTransitionTime": rfc3339(self.now())})
        stored = self.objects.put(PODS.plural, bound)
        meta = stored["metadata"]
        self.record_event(stored, "Scheduled", f"Successfully assigned {meta['namespace']}/{meta['name']} to "
                                               f"{self.node_name}", component="default-scheduler")
        self.run(stored)
        return stored

    def delete_pod(self, pod: Obj, grace: int) -> Obj:
        """Graceful deletion: mark it and let the kubelet stop it (it calls `remove_pod`); at once when the pod
        never ran on a node, already finished, grace is 0, or there is no runtime."""
        meta = pod["metadata"]
        phase = (pod.get("status") or {}).get("phase")
        immediate = grace <= 0 or not self.runs_here(pod) or phase in {"Succeeded", "Failed"} \
            or self.kubelet is None
        if immediate:
            if self.kubelet is not None:
                self._run(self.kubelet.delete(pod, 0))
            final = self._remove(meta["namespace"], meta["name"])
            return final if final is not None else pod
        current_grace = meta.get("deletionGracePeriodSeconds")
        if current_grace is not None and current_grace <= grace:
            return pod
        meta["deletionTimestamp"] = rfc3339(self.now() + grace)
        meta["deletionGracePeriodSeconds"] = grace
        stored = self.objects.put(PODS.plural, pod)
        self._run(self.kubelet.delete(stored, grace))
        self._watchdog(stored, grace)
        return stored

    def _watchdog(self, pod: Obj, grace: int) -> None:
        """A runtime that never finishes a deletion must not leave the pod Terminating forever."""
        meta = pod["metadata"]
        uid = meta["uid"]
        if uid in self._timers:
            self._timers.pop(uid).cancel()

        def finish() -> None:
            self._timers.pop(uid, None)
            current = self.objects.get("pods", meta["namespace"], meta["name"])
            if current is not None and current["metadata"]["uid"] == uid:
                log.warning("pod %s/%s: the runtime did not finish its deletion; removing it", meta["namespace"],
                            meta["name"])
                self._remove(meta["namespace"], meta["name"])

        self._timers[uid] = asyncio.get_running_loop().call_later(grace + FORCE_REMOVE_AFTER, finish)

    def _remove(self, namespace: str, name: str) -> Obj | None:
        final, removed = self.finish_deletion(PODS.plural, namespace, name)
        if removed and final is not None:
            uid = final["metadata"]["uid"]
            timer = self._timers.pop(uid, None)
            if timer is not None:
                timer.cancel()
            self.logs.drop(uid)
        return final

    def finish_deletion(self, resource: str, namespace: str, name: str) -> tuple[Obj | None, bool]:
        """Remove an object whose deletion is due — unless finalizers hold it: then it stays, marked with a
        deletionTimestamp (grace 0), until an update removes the last finalizer. Returns (object, removed)."""
        obj = self.objects.get(resource, namespace, name)
        if obj is None:
            return None, False
        meta = obj["metadata"]
        if meta.get("finalizers"):
            if meta.get("deletionGracePeriodSeconds") != 0:
                meta.setdefault("deletionTimestamp", rfc3339(self.now()))
                meta["deletionGracePeriodSeconds"] = 0
                obj = self.objects.put(resource, obj)
            return obj, False
        return self.objects.remove(resource, namespace, name), True

    # -- contracts.PodApi --------------------------------------------------------------------------------------

    def get_pod(self, namespace: str, name: str) -> Obj | None:
        return self.objects.get(PODS.plural, namespace, name)

    def get_object(self, kind_plural: str, namespace: str, name: str) -> Obj | None:
        if kind_plural not in CORE or not CORE[kind_plural].namespaced:
            return None
        return self.objects.get(kind_plural, namespace, name)

    def update_pod_status(self, namespace: str, name: str, uid: str, status: Obj) -> None:
        pod = self.objects.get(PODS.plural, namespace, name)
        if pod is None or pod["metadata"].get("uid") != uid:
            return
        new_status = copy.deepcopy(status)
        # The scheduler's condition stays unless the runtime reports its own.
        old_conditions = (pod.get("status") or {}).get("conditions") or []
        conditions = new_status.setdefault("conditions", [])
        kept = [c for c in old_conditions if c.get("type") == "PodScheduled"]
        if kept and not any(c.get("type") == "PodScheduled" for c in conditions):
            conditions.insert(0, kept[0])
        if pod.get("status") == new_status:
            return
        pod["status"] = new_status
        self.objects.put(PODS.plural, pod)

    def record_event(self, involved: Obj, reason: str, message: str, type_: str = "Normal", *,
                     component: str = "kubelet", field_path: str = "") -> None:
        meta = involved.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        now = self.now()
        stamp = rfc3339(now)
        host = "" if component == "default-scheduler" else self.node_name

        def same(ev: Obj) -> bool:
            ref = ev.get("involvedObject") or {}
            return (ref.get("uid") == meta.get("uid") and ev.get("reason") == reason and ev.get("message") == message
                    and ev.get("type") == type_ and ref.get("fieldPath", "") == field_path)

        for existing in self.objects.find(EVENTS.plural, namespace, same)[:1]:
            existing["count"] = int(existing.get("count") or 1) + 1
            existing["lastTimestamp"] = stamp
            self.objects.put(EVENTS.plural, existing)
            return
        nanos = max(int(now * 1e9), self._last_event_ns + 1)
        self._last_event_ns = nanos
        involved_ref: Obj = {"kind": involved.get("kind", "Pod"), "namespace": namespace,
                             "name": meta.get("name", ""), "uid": meta.get("uid", ""),
                             "apiVersion": involved.get("apiVersion", "v1"),
                             "resourceVersion": meta.get("resourceVersion", "")}
        if field_path:
            involved_ref["fieldPath"] = field_path
        source: Obj = {"component": component}
        if host:
            source["host"] = host
        self.create_internal(EVENTS.plural, {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{meta.get('name', '')}.{nanos:x}", "namespace": namespace},
            "involvedObject": involved_ref, "reason": reason, "message": message, "source": source,
            "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1, "type": type_, "eventTime": None,
            "reportingComponent": component, "reportingInstance": host,
        })
        if now - self._events_expired_at > EVENT_EXPIRY_INTERVAL:
            self._events_expired_at = now
            self._expire_events(now)

    def _expire_events(self, now: float) -> None:
        """kube-apiserver's --event-ttl: events not seen for an hour disappear."""
        def stale(ev: Obj) -> bool:
            last = parse_time(ev.get("lastTimestamp")) or parse_time(ev["metadata"].get("creationTimestamp"))
            return last is not None and now - last > EVENT_TTL

        for ev in self.objects.find(EVENTS.plural, None, stale):
            self.objects.remove(EVENTS.plural, ev["metadata"]["namespace"], ev["metadata"]["name"])

    def append_log(self, uid: str, container: str, line: str) -> None:
        self.logs.append(uid, container, line, int(self.now() * 1e9))

    def close_log(self, uid: str, container: str) -> None:
        self.logs.close(uid, container)

    def mint_token(self, namespace: str, service_account: str, audiences: list[str], expiration_seconds: int,
                   pod: Obj | None) -> str:
        sa = self.objects.get(SERVICE_ACCOUNTS.plural, namespace, service_account)
        if sa is None:
            sa = {"metadata": {"name": service_account, "namespace": namespace, "uid": ""}}
        token, _ = satokens.mint(self.world, self.record, sa, audiences, expiration_seconds, pod,
                                 self.node if pod is not None and self.runs_here(pod) else None)
        return token

    def remove_pod(self, namespace: str, name: str, uid: str) -> None:
        pod = self.objects.get(PODS.plural, namespace, name)
        if pod is not None and pod["metadata"].get("uid") == uid:
            self._remove(namespace, name)


def namespace_object(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
