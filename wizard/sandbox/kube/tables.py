"""`Table` answers for kubectl get (§8): the server, not kubectl, decides the columns and the STATUS text.

Rows follow kubernetes/pkg/printers/internalversion/printers.go, so `kubectl get pods` shows the same
READY/STATUS/RESTARTS a real cluster shows (`ContainerCreating`, `ErrImagePull`, `CrashLoopBackOff`,
`Completed`, `Terminating`…).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wizard.sandbox.kube.meta import age, human_duration, parse_time

Obj = dict[str, Any]

NAME_DOC = ("Name must be unique within a namespace. Is required when creating resources, although some resources "
            "may allow a client to request the generation of an appropriate name automatically. Name is primarily "
            "intended for creation idempotence and configuration definition. Cannot be updated. More info: "
            "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
AGE_DOC = ("CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
           "guaranteed to be set in happens-before order across separate operations. Clients may not set this "
           "value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for "
           "lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/"
           "api-conventions.md#metadata")


def _col(name: str, description: str, type_: str = "string", priority: int = 0, fmt: str = "") -> Obj:
    return {"name": name, "type": type_, "format": fmt, "description": description, "priority": priority}


NAME, AGE = _col("Name", NAME_DOC, fmt="name"), _col("Age", AGE_DOC)

COLUMNS: dict[str, list[Obj]] = {
    "pods": [NAME,
             _col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
             _col("Status", "The aggregate status of the containers in this pod."),
             _col("Restarts", "The number of times the containers in this pod have been restarted and when the "
                              "last container in this pod has restarted."),
             AGE,
             _col("IP", "podIP address allocated to the pod. Routable at least within the cluster. Empty if not "
                        "yet allocated.", priority=1),
             _col("Node", "NodeName indicates in which node this pod is scheduled.", priority=1),
             _col("Nominated Node", "nominatedNodeName is set only when this pod preempts other pods on the "
                                    "node, but it cannot be scheduled right away as preemption victims receive "
                                    "their graceful termination periods.", priority=1),
             _col("Readiness Gates", "If specified, all readiness gates will be evaluated for pod readiness.",
                  priority=1)],
    "namespaces": [NAME, _col("Status", "The status of the namespace"), AGE],
    "serviceaccounts": [NAME, _col("Secrets", "Secrets is a list of the secrets in the same namespace that pods "
                                              "running using this ServiceAccount are allowed to use.", "integer"),
                        AGE],
    "configmaps": [NAME, _col("Data", "Data contains the configuration data.", "integer"), AGE],
    "secrets": [NAME, _col("Type", "Used to facilitate programmatic handling of secret data."),
                _col("Data", "Data contains the secret data.", "integer"), AGE],
    "events": [_col("Last Seen", "The time at which the most recent occurrence of this event was recorded."),
               _col("Type", "Type of this event (Normal, Warning), new types could be added in the future."),
               _col("Reason", "This should be a short, machine understandable string that gives the reason for "
                              "this event being generated."),
               _col("Object", "The object that this event is about."),
               _col("Subobject", "The subobject this event is about.", priority=1),
               _col("Source", "The component reporting this event.", priority=1),
               _col("Message", "A human-readable description of the status of this operation."),
               _col("First Seen", "The time at which the event was first recorded.", priority=1),
               _col("Count", "The number of times this event has occurred.", "integer", priority=1),
               _col("Name", NAME_DOC, priority=1, fmt="name")],
}


def _meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def pod_status_text(pod: Obj) -> tuple[str, int, int, float | None]:
    """(STATUS, ready containers, restarts, when the last restart was) as the server's printPod computes them."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or ""
    restarts, ready = 0, 0
    last_restart: float | None = None
    init_specs = spec.get("initContainers") or []
    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        last_restart = _later(last_restart, cs)
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated and terminated.get("exitCode", 0) == 0:
            continue
        if terminated:
            reason = "Init:" + terminated["reason"] if terminated.get("reason") else \
                f"Init:Signal:{terminated['signal']}" if terminated.get("signal") else \
                f"Init:ExitCode:{terminated.get('exitCode', 0)}"
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break
    initialized = any(c.get("type") == "Initialized" and c.get("status") == "True"
                      for c in status.get("conditions") or [])
    if not initializing or initialized:
        restarts, last_restart, has_running = 0, None, False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last_restart = _later(last_restart, cs)
            state = cs.get("state") or {}
            waiting, terminated, running = state.get("waiting"), state.get("terminated"), state.get("running")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated:
                reason = f"Signal:{terminated['signal']}" if terminated.get("signal") else \
                    f"ExitCode:{terminated.get('exitCode', 0)}"
            elif cs.get("ready") and running is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            pod_ready = any(c.get("type") == "Ready" for c in status.get("conditions") or [])
            reason = "Running" if pod_ready else "NotReady"
    if _meta(pod).get("deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif _meta(pod).get("deletionTimestamp") and status.get("phase") not in {"Succeeded", "Failed"}:
        reason = "Terminating"
    return reason, ready, restarts, last_restart


def _later(current: float | None, cs: Obj) -> float | None:
    finished = parse_time(((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt"))
    if finished is None:
        return current
    return finished if current is None or finished > current else current


def _pod_cells(pod: Obj, now: float) -> list[Any]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    reason, ready, restarts, last_restart = pod_status_text(pod)
    restarts_text = str(restarts)
    if last_restart is not None:
        restarts_text += f" ({human_duration(now - last_restart)} ago)"
    gates = spec.get("readinessGates") or []
    gates_text = "<none>"
    if gates:
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        met = sum(1 for g in gates if conditions.get(g.get("conditionType")) == "True")
        gates_text = f"{met}/{len(gates)}"
    return [_meta(pod).get("name", ""), f"{ready}/{len(spec.get('containers') or [])}", reason, restarts_text,
            age(_meta(pod).get("creationTimestamp"), now), status.get("podIP") or "<none>",
            spec.get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>", gates_text]


def _event_cells(ev: Obj, now: float) -> list[Any]:
    involved = ev.get("involvedObject") or {}
    last = ev.get("lastTimestamp") or ev.get("eventTime") or _meta(ev).get("creationTimestamp")
    first = ev.get("firstTimestamp") or ev.get("eventTime") or _meta(ev).get("creationTimestamp")
    count = int(ev.get("count") or 1)
    last_seen = age(last, now)
    if count > 1:
        last_seen = f"{last_seen} (x{count} over {age(first, now)})"
    source = ev.get("source") or {}
    source_text = source.get("component") or ev.get("reportingComponent") or ""
    if source.get("host"):
        source_text += ", " + source["host"]
    return [last_seen, ev.get("type", ""), ev.get("reason", ""),
            f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}", involved.get("fieldPath", ""),
            source_text, str(ev.get("message", "")).strip(), age(first, now), count, _meta(ev).get("name", "")]


CELLS: dict[str, Callable[[Obj, float], list[Any]]] = {
    "pods": _pod_cells,
    "namespaces": lambda o, now: [_meta(o).get("name", ""), (o.get("status") or {}).get("phase", ""),
                                  age(_meta(o).get("creationTimestamp"), now)],
    "serviceaccounts": lambda o, now: [_meta(o).get("name", ""), len(o.get("secrets") or []),
                                       age(_meta(o).get("creationTimestamp"), now)],
    "configmaps": lambda o, now: [_meta(o).get("name", ""),
                                  len(o.get("data") or {}) + len(o.get("binaryData") or {}),
                                  age(_meta(o).get("creationTimestamp"), now)],
    "secrets": lambda o, now: [_meta(o).get("name", ""), o.get("type", ""), len(o.get("data") or {}),
                               age(_meta(o).get("creationTimestamp"), now)],
    "events": _event_cells,
}


def partial_metadata(obj: Obj, version: str = "v1") -> Obj:
    return {"kind": "PartialObjectMetadata", "apiVersion": f"meta.k8s.io/{version}", "metadata": _meta(obj)}


def table(resource: str, objs: list[Obj], now: float, *, resource_version: str, include_object: str = "Metadata",
          headers: bool = True, version: str = "v1", continue_token: str = "") -> Obj:
    """A `meta.k8s.io` Table of `objs`; `headers=False` omits the column definitions (later watch events)."""
    rows = []
    for obj in objs:
        row: Obj = {"cells": CELLS[resource](obj, now)}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = partial_metadata(obj, version)
        rows.append(row)
    meta: Obj = {"resourceVersion": resource_version}
    if continue_token:
        meta["continue"] = continue_token
    return {"kind": "Table", "apiVersion": f"meta.k8s.io/{version}", "metadata": meta,
            "columnDefinitions": COLUMNS[resource] if headers else [], "rows": rows}
