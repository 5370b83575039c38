"""The shapes a kubelet reports: node and pod addresses, image references, container statuses and pod
conditions, as an AKS node (containerd, Azure CNI overlay) fills them in.

Both kubernetes clients validate these objects on read (a condition without `status` is a ValidationError),
so every field the API marks required is always present.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field

from wizard.sandbox.images import image_digest
from wizard.sandbox.kube.contracts import Obj

HOST_IP = "10.224.0.4"  # the node's address in AKS's default node subnet 10.224.0.0/16
CONDITION_TYPES = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")


def rfc3339(epoch: float) -> str:
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod_ip(uid: str) -> str:
    """An address in the overlay pod CIDR 10.244.0.0/16, stable per pod UID."""
    h = hashlib.sha256(uid.encode()).digest()
    return f"10.244.{h[0]}.{2 + h[1] % 252}"


def reference(image: str) -> str:
    """The fully qualified reference containerd resolves (`nginx` → `docker.io/library/nginx:latest`)."""
    name, _, digest = image.partition("@")
    first, _, rest = name.partition("/")
    if not rest:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    if digest:
        return f"{name}@{digest}"
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name


def repository(image: str) -> str:
    ref = reference(image).split("@", 1)[0]
    head, _, last = ref.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}"


def image_id(image: str) -> str:
    return f"{repository(image)}@{image_digest(image)}"


def image_size(image: str) -> int:
    """A plausible compressed size for a known image (reported in the Pulled event)."""
    return 40_000_000 + int(image_digest(image)[7:15], 16) % 20_000_000


def new_container_id() -> str:
    return "containerd://" + secrets.token_hex(32)


@dataclass
class ContainerRecord:
    """One container's state as the kubelet tracks it; `status()` is its containerStatuses entry."""

    name: str
    image: str
    state: Obj = field(default_factory=lambda: {"waiting": {"reason": "ContainerCreating"}})
    last_state: Obj = field(default_factory=dict)
    restart_count: int = 0
    image_ref: str = ""
    image_id: str = ""
    container_id: str | None = None
    ready: bool = False
    started: bool = False
    volume_mounts: list[Obj] = field(default_factory=list)

    @classmethod
    def from_spec(cls, container: Obj, previous: Obj | None, initial_reason: str) -> ContainerRecord:
        image = str(container.get("image") or "")
        record = cls(name=str(container.get("name") or ""), image=image,
                     state={"waiting": {"reason": initial_reason}},
                     volume_mounts=[_mount_status(m) for m in container.get("volumeMounts") or []])
        if previous:
            record.state = dict(previous.get("state") or record.state)
            record.last_state = dict(previous.get("lastState") or {})
            record.restart_count = int(previous.get("restartCount") or 0)
            record.image_ref = str(previous.get("image") or "") if previous.get("imageID") else ""
            record.image_id = str(previous.get("imageID") or "")
            record.container_id = previous.get("containerID")
        return record

    @property
    def phase(self) -> str:
        return next(iter(self.state), "waiting")

    @property
    def exit_code(self) -> int | None:
        """The exit code while terminated, else None."""
        terminated = self.state.get("terminated")
        return int(terminated.get("exitCode", 0)) if terminated else None

    def waiting(self, reason: str, message: str | None = None) -> None:
        self.state = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
        self.ready = self.started = False

    def running(self, at: str) -> None:
        self.state = {"running": {"startedAt": at}}
        self.ready = self.started = True

    def terminated(self, exit_code: int, started_at: str, finished_at: str, message: str | None = None,
                   reason: str | None = None) -> None:
        body: Obj = {"exitCode": exit_code, "reason": reason or ("Completed" if exit_code == 0 else "Error")}
        if message:
            body["message"] = message
        body.update(startedAt=started_at, finishedAt=finished_at)
        if self.container_id:
            body["containerID"] = self.container_id
        self.state = {"terminated": body}
        self.ready = self.started = False

    def retire(self) -> None:
        """The terminated state becomes lastState (the container is about to run again)."""
        if "terminated" in self.state:
            self.last_state = {"terminated": self.state["terminated"]}

    def status(self) -> Obj:
        body: Obj = {
            "name": self.name,
            "state": self.state,
            "lastState": self.last_state,
            "ready": self.ready,
            "restartCount": self.restart_count,
            "image": self.image_ref or self.image,
            "imageID": self.image_id,
            "started": self.started,
        }
        if self.container_id:
            body["containerID"] = self.container_id
        if self.volume_mounts:
            body["volumeMounts"] = self.volume_mounts
        return body


def _mount_status(mount: Obj) -> Obj:
    body: Obj = {"name": mount.get("name", ""), "mountPath": mount.get("mountPath", "")}
    if mount.get("readOnly"):
        body["readOnly"] = True
        body["recursiveReadOnly"] = "Disabled"
    return body


class Conditions:
    """Pod conditions that keep their lastTransitionTime until their status really changes."""

    def __init__(self, previous: list[Obj] | None) -> None:
        self._items: dict[str, Obj] = {c["type"]: dict(c) for c in previous or [] if c.get("type")}

    def set(self, type_: str, ok: bool, at: str, reason: str | None = None, message: str | None = None) -> None:
        status = "True" if ok else "False"
        old = self._items.get(type_)
        item: Obj = {"type": type_, "status": status, "lastProbeTime": None,
                     "lastTransitionTime": old["lastTransitionTime"] if old and old.get("status") == status
                     and old.get("lastTransitionTime") else at}
        if not ok and reason:
            item["reason"] = reason
        if not ok and message:
            item["message"] = message
        self._items[type_] = item

    def items(self) -> list[Obj]:
        return [self._items[t] for t in CONDITION_TYPES if t in self._items]

