"""Reading a pod as the deploy and logs steps need it: the wizard's container, its injected environment, its state
in plain words, and the pod's Kubernetes events reported to the user once each, as they arrive.

Pods are the raw JSON dicts the gateway (wizard/kube/client.py) returns, so nothing here imports kubernetes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wizard.steps.base import Context, Event
from wizard.workloads import CONTAINER

if TYPE_CHECKING:
    from wizard.kube.client import Kube

Obj = dict[str, Any]

# Waiting reasons that will not resolve by themselves (the kubelet retries them forever, in vain).
STUCK_REASONS = frozenset({"ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName", "CreateContainerConfigError",
                           "CreateContainerError"})


def meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def uid(pod: Obj) -> str:
    return str(meta(pod).get("uid") or "")


def container(pod: Obj) -> Obj:
    """The wizard's container in a pod spec (by name; the first one in a pod someone else made)."""
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    return next((c for c in containers if c.get("name") == CONTAINER), containers[0])


def env_of(pod: Obj) -> dict[str, str]:
    """The wizard container's literal env entries (name → value; valueFrom entries read as empty)."""
    return {str(e.get("name")): str(e.get("value") or "") for e in container(pod).get("env") or []}


def container_status(pod: Obj) -> Obj:
    name = container(pod).get("name")
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return next((s for s in statuses if s.get("name") == name), {})


def waiting(pod: Obj) -> tuple[str, str] | None:
    """(reason, message) while the wizard's container waits (ContainerCreating, ImagePullBackOff…)."""
    state = (container_status(pod).get("state") or {}).get("waiting")
    if state is None:
        return None
    return str(state.get("reason") or ""), str(state.get("message") or "")


def started(pod: Obj) -> bool:
    """The container runs or has run: its log can be read."""
    status = container_status(pod)
    state = status.get("state") or {}
    return "running" in state or "terminated" in state or "terminated" in (status.get("lastState") or {})


def running(pod: Obj) -> bool:
    return "running" in (container_status(pod).get("state") or {})


def exit_code(pod: Obj) -> int | None:
    """The exit code of the container's last run (None while it has not ended)."""
    status = container_status(pod)
    for state in (status.get("state") or {}, status.get("lastState") or {}):
        terminated = state.get("terminated")
        if terminated is not None and terminated.get("exitCode") is not None:
            return int(terminated["exitCode"])
    return None


def describe(pod: Obj) -> str:
    """The pod's state in a few words: "Pending (ContainerCreating)", "Running", "Failed (exit 1)"."""
    phase = str((pod.get("status") or {}).get("phase") or "Pending")
    if meta(pod).get("deletionTimestamp"):
        return f"{phase}, terminating"
    if (found := waiting(pod)) is not None:
        return f"{phase} ({found[0]})"
    terminated = (container_status(pod).get("state") or {}).get("terminated")
    if terminated is not None:
        reason = f", {terminated['reason']}" if terminated.get("reason") else ""
        return f"{phase} (exit {terminated.get('exitCode')}{reason})"
    return phase


# Waiting reasons every starting container goes through: no reason to look at the events again.
_ROUTINE_WAITS = frozenset({"ContainerCreating", "PodInitializing"})


def _events_key(pod: Obj) -> tuple[str, str, bool]:
    """What, when it changes, makes new events worth a listing: the phase, an unusual waiting reason, deletion."""
    phase = str((pod.get("status") or {}).get("phase") or "Pending")
    reason = (waiting(pod) or ("", ""))[0]
    return phase, "" if reason in _ROUTINE_WAITS else reason, bool(meta(pod).get("deletionTimestamp"))


class PodReporter:
    """Reports a pod's state changes and its events (each once) as `step` progress; the UI shows them live."""

    def __init__(self, ctx: Context, step: str, kube: Kube, namespace: str, name: str) -> None:
        self.ctx, self.step, self.kube = ctx, step, kube
        self.namespace, self.name = namespace, name
        self._seen: set[tuple[str, str]] = set()
        self._state = ""
        self._events_key: tuple[str, str, bool] | None = None

    def pod(self, pod: Obj) -> None:
        """Report the pod's state if it changed; list the events that appeared since when its phase changed or it
        began waiting for an unusual reason (each listing is a request, and a starting pod is updated several
        times: the events that matter come with a new phase — scheduled, started, failed — or explain a wait
        such as ErrImagePull; routine container creation needs no listing of its own)."""
        state = describe(pod)
        if state != self._state:
            self._state = state
            self.ctx.report(Event(self.step, f"pod {self.namespace}/{self.name}: {state}", "progress"))
        key = _events_key(pod)
        if key != self._events_key:
            self._events_key = key
            self.events(uid(pod))

    def events(self, pod_uid: str) -> list[Obj]:
        """New events about this pod (not an older pod of the same name), reported and returned."""
        fresh = []
        for event in self.kube.pod_events(self.namespace, self.name):
            involved = event.get("involvedObject") or {}
            if pod_uid and involved.get("uid") not in (None, "", pod_uid):
                continue
            key = (str(meta(event).get("uid") or meta(event).get("name")), str(event.get("count") or 1))
            if key in self._seen:
                continue
            self._seen.add(key)
            fresh.append(event)
            kind = "warning" if event.get("type") == "Warning" else "progress"
            self.ctx.report(Event(self.step, f"{event.get('reason')}: {event.get('message')}", kind))
        return fresh
