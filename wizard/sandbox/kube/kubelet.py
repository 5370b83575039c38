"""The node of a sandbox AKS cluster: runs each pod's containers as real processes and reports their lifecycle.

One `Kubelet` per cluster; the API server calls it on the sandbox's event loop:
- `start(pod)` once a pod is created and bound to the node (the API server plays kube-scheduler: it sets
  `spec.nodeName`, the PodScheduled condition and the Scheduled event): mount volumes → sandbox → init
  containers in order → containers side by side, with realistic status objects and events at every step;
- `delete(pod, grace_seconds)` once a pod is marked for deletion: SIGTERM to each container's process group,
  SIGKILL after the grace period, then the pod is removed;
- `resume(pods)` after a sandbox restart: pods that were running come back as after a node reboot (each
  container restarted, restartCount + 1, lastState Unknown/255); finished pods stay as they are;
- `shutdown()` when the sandbox stops: stops every process, leaves every status as it was (so resume can
  restart it). It returns a task; awaiting it waits for the processes to be reaped.

Known images (`wizard.sandbox.images`) run as `python -m wizard.sandbox.images.<module>` in a clean
environment: the pod's resolved env (paths under its mounts mapped to the host folders where the kubelet
wrote the volumes), plus the image's own configuration (CA bundle, ARM endpoint, PATH, PYTHONPATH). Unknown
images fail to pull (ErrImagePull → ImagePullBackOff). Restarts follow `restartPolicy` with the kubelet's
crash back-off (10 s doubling to 300 s). Every delay is divided by `settings.kubelet_speed`.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import logging
import os
import re
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

import wizard
from wizard.paths import private_dir
from wizard.sandbox.images import module_for
from wizard.sandbox.kube import kubelet_status as ks
from wizard.sandbox.kube.contracts import Obj, PodApi
from wizard.sandbox.kube.kubelet_env import (
    ConfigError,
    MountError,
    TokenFile,
    container_mounts,
    materialize_volumes,
    resolve_env,
    translate,
)
from wizard.sandbox.world import World

log = logging.getLogger("wizard.sandbox")

# Nominal durations in seconds (divided by settings.kubelet_speed).
SANDBOX_DELAY = 0.3
PULL_SECONDS = 1.0
PULL_FAIL_SECONDS = 0.5
SYNC_DELAY = 0.5  # the kubelet noticing an exit / resyncing
CONFIG_RETRY = 10.0
MOUNT_RETRY = 2.0
BACKOFF_INITIAL = 10.0
BACKOFF_MAX = 300.0
BACKOFF_RESET = 600.0  # a container that ran this long restarts without back-off
TOKEN_REFRESH_FRACTION = 0.8  # real time: tokens carry real expiry
WATCHDOG_SECONDS = 2.0  # real time: how often a running pod checks it still exists
SHUTDOWN_GRACE = 2.0
TAIL_LINES, TAIL_BYTES = 80, 2048  # terminationMessagePolicy FallbackToLogsOnError
READ_LIMIT = 1 << 20

_UID = re.compile(r"[A-Za-z0-9-]{1,64}")
_PROJECT_ROOT = str(Path(wizard.__file__).resolve().parent.parent)

# Process groups still alive, so an interpreter that exits without stopping the sandbox kills them.
_LIVE_GROUPS: set[int] = set()


@atexit.register
def _kill_leftovers() -> None:
    """Kill container process groups an interpreter would otherwise leave running (a sandbox never stopped).
    Each is checked to still be one of ours: its PID may have been reaped and reused since."""
    for pgid in list(_LIVE_GROUPS):
        with contextlib.suppress(OSError):
            cmdline = Path(f"/proc/{pgid}/cmdline")
            ours = b"wizard.sandbox.images" in cmdline.read_bytes() if cmdline.parent.parent.is_dir() \
                else os.getpgid(pgid) == pgid
            if ours:
                os.killpg(pgid, signal.SIGKILL)


class Backoff:
    """The kubelet's per-container back-off: the first retry is immediate, then 10 s doubling to 300 s."""

    def __init__(self, first_immediate: bool = True) -> None:
        self._next = 0.0 if first_immediate else BACKOFF_INITIAL

    def next(self) -> float:
        delay = self._next
        self._next = BACKOFF_INITIAL if delay == 0 else min(delay * 2, BACKOFF_MAX)
        return delay

    def reset(self) -> None:
        self._next = 0.0


def _fmt_seconds(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


class Process:
    """A running container process: pumps its stdout/stderr into the pod log and reports its exit code."""

    def __init__(self, run: PodRun, name: str, proc: asyncio.subprocess.Process) -> None:
        self.run, self.name, self.proc = run, name, proc
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        _LIVE_GROUPS.add(proc.pid)
        self.done: asyncio.Task[int] = asyncio.create_task(self._wait())

    async def _pump(self, stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # a line longer than READ_LIMIT: take what is buffered
                raw = await stream.read(READ_LIMIT)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.tail.append(line)
            self.run.api.append_log(self.run.uid, self.name, line)

    async def _wait(self) -> int:
        try:
            await asyncio.gather(self._pump(self.proc.stdout), self._pump(self.proc.stderr))
            code = await self.proc.wait()
        finally:
            _LIVE_GROUPS.discard(self.proc.pid)
            self.run.api.close_log(self.run.uid, self.name)
        return 128 - code if code < 0 else code  # killed by signal N: 128 + N, as containerd reports

    def signal(self, sig: int) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)

    async def stop(self, grace: float) -> None:
        """SIGTERM to the process group, SIGKILL after `grace` seconds."""
        self.signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(self.done), grace)
        except TimeoutError:
            self.signal(signal.SIGKILL)
            with contextlib.suppress(Exception):
                await self.done

    def fallback_message(self) -> str:
        text = "\n".join(self.tail)
        return text.encode()[-TAIL_BYTES:].decode("utf-8", "ignore")


class Kubelet:
    def __init__(self, world: World, cluster: dict[str, Any], api: PodApi) -> None:
        self.world = world
        self.cluster = cluster
        self.api = api
        self.pods_dir = world.state_dir / "pods"
        self._runs: dict[str, PodRun] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._images: set[str] = set(
            (world.store.get("kubelet_images", str(cluster["key"])) or {}).get("images", []))

    # -- what the API server calls ---------------------------------------------------------------------------

    def start(self, pod: Obj) -> None:
        """Run a newly created pod (returns at once; the lifecycle runs as a task)."""
        self._launch(PodRun(self, pod, resumed=False))

    def delete(self, pod: Obj, grace_seconds: int) -> None:
        """Stop the pod's containers (SIGTERM, SIGKILL after the grace period), then remove the pod."""
        meta = pod.get("metadata") or {}
        uid = str(meta.get("uid") or "")
        run = self._runs.pop(uid, None)
        if run is not None:
            self.spawn(run.terminate(max(0.0, float(grace_seconds))))
        else:
            self.spawn(self._remove(str(meta.get("namespace")), str(meta.get("name")), uid))

    def resume(self, pods: list[Obj]) -> None:
        """After a sandbox restart: restart what was running, finish pending deletions, leave finished pods."""
        for pod in pods:
            meta = pod.get("metadata") or {}
            if meta.get("deletionTimestamp"):
                self.spawn(self._remove(str(meta.get("namespace")), str(meta.get("name")), str(meta.get("uid"))))
            elif (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                self._launch(PodRun(self, pod, resumed=True))

    def shutdown(self) -> asyncio.Task[None]:
        """Stop every process now, leaving statuses as they are; await the task to wait for the reaping."""
        runs = list(self._runs.values())
        self._runs.clear()
        for run in runs:
            run.halt()
        return asyncio.create_task(self._reap(runs))

    # -- internals -------------------------------------------------------------------------------------------

    async def _reap(self, runs: list[PodRun]) -> None:
        await asyncio.gather(*(run.stop_processes(SHUTDOWN_GRACE) for run in runs), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _launch(self, run: PodRun) -> None:
        if not _UID.fullmatch(run.uid) or run.uid in self._runs:
            return
        self._runs[run.uid] = run
        run.task = self.spawn(run.main())

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _remove(self, namespace: str, name: str, uid: str) -> None:
        self.api.remove_pod(namespace, name, uid)
        if _UID.fullmatch(uid):
            await asyncio.to_thread(shutil.rmtree, self.pods_dir / uid, True)

    def forget(self, run: PodRun) -> None:
        if self._runs.get(run.uid) is run:
            del self._runs[run.uid]

    def remember_image(self, image: str) -> None:
        if image not in self._images:
            self._images.add(image)
            self.world.store.put("kubelet_images", str(self.cluster["key"]), {"images": sorted(self._images)})

    def has_image(self, image: str) -> bool:
        return image in self._images

    async def sleep(self, nominal: float) -> None:
        await asyncio.sleep(nominal / max(self.world.settings.kubelet_speed, 0.001))


class PodRun:
    """One pod on the node: its lifecycle task, its containers' records and processes."""

    def __init__(self, kubelet: Kubelet, pod: Obj, *, resumed: bool) -> None:
        self.kubelet = kubelet
        self.api = kubelet.api
        self.world = kubelet.world
        self.pod = pod
        meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
        self.uid = str(meta.get("uid") or "")
        self.namespace = str(meta.get("namespace") or "default")
        self.name = str(meta.get("name") or "")
        self.spec = spec
        self.resumed = resumed
        self.dir = kubelet.pods_dir / self.uid
        status = pod.get("status") or {}
        self.qos: str | None = status.get("qosClass")  # the API server's, kept as it is
        self.start_time: str | None = status.get("startTime")
        self.pod_ip: str | None = status.get("podIP")
        self.phase = "Pending"
        self.conditions = ks.Conditions(status.get("conditions"))
        previous = {c.get("name"): c for c in status.get("containerStatuses") or []}
        previous_init = {c.get("name"): c for c in status.get("initContainerStatuses") or []}
        self.init_specs: list[Obj] = list(spec.get("initContainers") or [])
        self.specs: list[Obj] = list(spec.get("containers") or [])
        self.inits = [ks.ContainerRecord.from_spec(c, previous_init.get(c.get("name")), "PodInitializing")
                      for c in self.init_specs]
        first_reason = "PodInitializing" if self.init_specs else "ContainerCreating"
        self.records = [ks.ContainerRecord.from_spec(c, previous.get(c.get("name")), first_reason)
                        for c in self.specs]
        self.processes: dict[str, Process] = {}
        self.mounted: dict[str, Path] = {}
        self.tokens: list[TokenFile] = []
        self.sandbox_ready = False
        self.initialized = not self.init_specs
        self.task: asyncio.Task[Any] | None = None
        self._children: set[asyncio.Task[Any]] = set()
        self._last_pushed: Obj | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------

    async def main(self) -> None:
        try:
            if self.resumed:
                self._reboot()
            self.conditions.set("PodScheduled", True, self.now())
            if not self.pod_exists():
                return
            self.start_time = self.start_time or self.now()
            self.push()
            await self.kubelet.sleep(SANDBOX_DELAY)
            await self._mount()
            self.pod_ip = self.pod_ip or ks.pod_ip(self.uid)
            self.sandbox_ready = True
            self.push()
            helpers = [asyncio.create_task(self._refresh_tokens()), asyncio.create_task(self._watchdog())]
            self._children.update(helpers)
            try:
                if await self._run_inits():
                    await asyncio.gather(*(self._run_container(record, spec, init=False)
                                           for record, spec in zip(self.records, self.specs, strict=True)))
            finally:
                for helper in helpers:
                    helper.cancel()
            self.sandbox_ready = False
            self.push()
            self.kubelet.forget(self)
            await asyncio.to_thread(shutil.rmtree, self.dir / "volumes", True)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("kubelet: pod %s/%s failed unexpectedly", self.namespace, self.name)

    def _reboot(self) -> None:
        """What a node reboot leaves: running containers died (Unknown, 255) and will start again."""
        now = self.now()
        for record in self.inits + self.records:
            if record.phase == "running":
                started = str(record.state["running"].get("startedAt") or now)
                record.terminated(255, started, now, reason="Unknown")
                record.retire()
                record.restart_count += 1
                record.waiting("ContainerCreating")
            elif record.phase == "waiting" and record.last_state:
                record.restart_count += 1
                record.waiting("ContainerCreating")
        self.initialized = all(r.exit_code == 0 for r in self.inits)
        self.sandbox_ready = False

    async def _mount(self) -> None:
        """Write the pod's volumes; FailedMount events and retries until it works (or the pod goes)."""
        def mint(audiences: list[str], seconds: int) -> str:
            sa = str(self.spec.get("serviceAccountName") or "default")
            return self.api.mint_token(self.namespace, sa, audiences, seconds, self.current_pod())

        delay = MOUNT_RETRY
        while True:
            try:
                self.mounted, self.tokens = materialize_volumes(
                    self.current_pod(), private_dir(self.dir / "volumes"), self.api.get_object, mint)
                return
            except MountError as exc:
                self.event("FailedMount", f'MountVolume.SetUp failed for volume "{exc.volume}" : {exc}', "Warning")
            await self.kubelet.sleep(delay)
            delay = min(delay * 2, 122.0)

    async def _refresh_tokens(self) -> None:
        """Re-mint each projected token at 80% of its lifetime, as the kubelet's token manager does."""
        while self.tokens:
            await asyncio.sleep(min(t.expiration_seconds for t in self.tokens) * TOKEN_REFRESH_FRACTION)
            sa = str(self.spec.get("serviceAccountName") or "default")
            for token in self.tokens:
                try:
                    fresh = self.api.mint_token(self.namespace, sa, list(token.audiences), token.expiration_seconds,
                                                self.current_pod())
                except Exception as exc:
                    log.warning("kubelet: token refresh for %s/%s failed: %s", self.namespace, self.name, exc)
                    continue
                await asyncio.to_thread(_replace_file, token.path, fresh)

    async def _watchdog(self) -> None:
        """A pod that disappears without a graceful deletion (say, with its namespace) loses its processes."""
        while True:
            await asyncio.sleep(WATCHDOG_SECONDS)
            pod = self.api.get_pod(self.namespace, self.name)
            if pod is None or (pod.get("metadata") or {}).get("uid") != self.uid:
                self.kubelet.forget(self)
                self.kubelet.spawn(self._vanished())
                return

    async def _vanished(self) -> None:
        self.halt()
        await self.stop_processes(0)
        await asyncio.to_thread(shutil.rmtree, self.dir, True)

    async def _run_inits(self) -> bool:
        if self.initialized:
            return True
        for record, spec in zip(self.inits, self.init_specs, strict=True):
            if record.exit_code == 0:
                continue
            if not await self._run_container(record, spec, init=True):
                return False
        self.initialized = True
        for record in self.records:
            if record.phase == "waiting" and record.state["waiting"]["reason"] == "PodInitializing":
                record.waiting("ContainerCreating")
        self.push()
        return True

    async def _run_container(self, record: ks.ContainerRecord, spec: Obj, *, init: bool) -> bool:
        """Run one container through its restarts; True when it completed successfully (init containers)."""
        policy = str(self.spec.get("restartPolicy") or "Always")
        if record.exit_code is not None:
            if init or policy == "Never" or (policy == "OnFailure" and record.exit_code == 0):
                return record.exit_code == 0
            record.retire()
            record.restart_count += 1
        backoff = Backoff(first_immediate=not record.last_state)
        while True:
            await self._ensure_image(record, spec)
            try:
                env = self._environment(spec)
            except ConfigError as exc:
                record.waiting("CreateContainerConfigError", str(exc))
                self.event("Failed", f"Error: {exc}", "Warning", spec)
                self.push()
                await self.kubelet.sleep(CONFIG_RETRY)
                continue
            started_at = time.monotonic()
            code = await self._execute(record, spec, env)
            if not self.pod_exists():
                return False
            if init:
                restart = code != 0 and policy != "Never"
            else:
                restart = policy == "Always" or (policy == "OnFailure" and code != 0)
            if not restart:
                self.push()
                return code == 0
            if time.monotonic() - started_at > BACKOFF_RESET / max(self.world.settings.kubelet_speed, 0.001):
                backoff.reset()
            self.push()
            await self.kubelet.sleep(SYNC_DELAY)
            delay = backoff.next()
            if delay:
                record.retire()
                text = (f"back-off {_fmt_seconds(delay)} restarting failed container={record.name} "
                        f"pod={self.name}_{self.namespace}({self.uid})")
                record.waiting("CrashLoopBackOff", text)
                self.event("BackOff", f"Back-off restarting failed container {record.name} in pod "
                                      f"{self.name}_{self.namespace}({self.uid})", "Warning", spec)
                self.push()
                await self.kubelet.sleep(delay)
            record.retire()
            record.restart_count += 1

    async def _ensure_image(self, record: ks.ContainerRecord, spec: Obj) -> None:
        """Pull like the kubelet: present images are reused unless the policy is Always; a missing image
        fails with ErrImagePull, then ImagePullBackOff, and is retried with back-off forever."""
        image = record.image
        policy = str(spec.get("imagePullPolicy") or "IfNotPresent")  # the API server defaults it by tag
        known = module_for(image) is not None
        if self.kubelet.has_image(image) and policy != "Always":
            self.event("Pulled", f'Container image "{image}" already present on machine', spec=spec)
            record.image_ref, record.image_id = ks.reference(image), ks.image_id(image)
            return
        if policy == "Never":
            message = f'Container image "{image}" is not present with pull policy of Never'
            self.event("ErrImageNeverPull", message, "Warning", spec)
            self.event("Failed", "Error: ErrImageNeverPull", "Warning", spec)
            record.waiting("ErrImageNeverPull", message)
            self.push()
            await asyncio.Event().wait()  # stays so until the pod is deleted
        backoff = Backoff(first_immediate=False)
        while True:
            self.event("Pulling", f'Pulling image "{image}"', spec=spec)
            if known:
                await self.kubelet.sleep(PULL_SECONDS)
                self.kubelet.remember_image(image)
                took = f"{PULL_SECONDS:.3f}s"
                self.event("Pulled", f'Successfully pulled image "{image}" in {took} ({took} including waiting). '
                                     f"Image size: {ks.image_size(image)} bytes.", spec=spec)
                record.image_ref, record.image_id = ks.reference(image), ks.image_id(image)
                return
            await self.kubelet.sleep(PULL_FAIL_SECONDS)
            ref = ks.reference(image)
            error = (f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
                     f'failed to resolve reference "{ref}": {ref}: not found')
            self.event("Failed", f'Failed to pull image "{image}": {error}', "Warning", spec)
            self.event("Failed", "Error: ErrImagePull", "Warning", spec)
            record.waiting("ErrImagePull", error)
            self.push()
            delay = backoff.next()
            await self.kubelet.sleep(SYNC_DELAY)
            message = f'Back-off pulling image "{image}"'
            self.event("BackOff", message, spec=spec)
            self.event("Failed", "Error: ImagePullBackOff", "Warning", spec)
            record.waiting("ImagePullBackOff", message)
            self.push()
            await self.kubelet.sleep(max(delay - SYNC_DELAY, 0.0))

    def _environment(self, spec: Obj) -> dict[str, str]:
        """The process environment: the image's configuration, then the pod's env (host paths for mounts)."""
        pod = self.current_pod()
        env, skipped = resolve_env(pod, spec, self.api.get_object)
        if skipped:
            self.event("InvalidEnvironmentVariableNames",
                       f"Keys [{', '.join(skipped)}] from the EnvFrom were skipped since they are considered "
                       "invalid environment variable names.", "Warning", spec)
        mounts = container_mounts(spec, self.mounted)
        home = private_dir(self.dir / "containers" / str(spec.get("name")))
        image_env = {
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOSTNAME": self.name,
            "HOME": str(home),
            "PYTHONPATH": _PROJECT_ROOT,
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "REQUESTS_CA_BUNDLE": str(self.world.ca_path or ""),
            "SSL_CERT_FILE": str(self.world.ca_path or ""),
            "WI_SANDBOX_ARM": self.world.base_url,
        }
        return {**image_env, **{name: translate(value, mounts) for name, value in env.items()}}

    async def _execute(self, record: ks.ContainerRecord, spec: Obj, env: dict[str, str]) -> int:
        """Create and start the container's process, follow it to its exit, record the terminated state."""
        module = module_for(record.image)
        assert module is not None
        record.container_id = ks.new_container_id()
        self.event("Created", f"Created container: {record.name}", spec=spec)
        started = self.now()
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", module, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=env, cwd=str(self.dir / "containers" / record.name),
                start_new_session=True, limit=READ_LIMIT)
        except OSError as exc:
            message = f"failed to create containerd task: failed to create shim task: {exc}"
            record.terminated(128, started, self.now(), message=message, reason="StartError")
            self.event("Failed", f"Error: {message}", "Warning", spec)
            return 128
        process = Process(self, record.name, proc)
        self.processes[record.name] = process
        record.running(started)
        self.event("Started", f"Started container {record.name}", spec=spec)
        self.push()
        try:
            code = await asyncio.shield(process.done)
        finally:
            if self.processes.get(record.name) is process and process.done.done():
                del self.processes[record.name]
        message = ""
        if code != 0 and spec.get("terminationMessagePolicy") == "FallbackToLogsOnError":
            message = process.fallback_message()
        record.terminated(code, started, self.now(), message=message or None)
        return code

    # -- stopping --------------------------------------------------------------------------------------------

    def halt(self) -> None:
        """Stop the lifecycle (no more status updates or restarts); processes are stopped separately."""
        for task in [self.task, *self._children]:
            if task is not None:
                task.cancel()

    async def stop_processes(self, grace: float) -> None:
        await asyncio.gather(*(p.stop(grace) for p in list(self.processes.values())), return_exceptions=True)
        self.processes.clear()

    async def terminate(self, grace: float) -> None:
        """Graceful deletion: stop the lifecycle, SIGTERM/SIGKILL the processes, remove the pod."""
        self.halt()
        await self.stop_processes(grace)
        await self.kubelet._remove(self.namespace, self.name, self.uid)

    # -- reporting -------------------------------------------------------------------------------------------

    def now(self) -> str:
        return ks.rfc3339(self.world.clock())

    def current_pod(self) -> Obj:
        """The pod as the API server has it now (labels and annotations may have changed)."""
        pod = self.api.get_pod(self.namespace, self.name)
        if pod is not None and (pod.get("metadata") or {}).get("uid") == self.uid:
            pod.setdefault("spec", {}).setdefault("nodeName", self.spec.get("nodeName"))
            status = pod.setdefault("status", {})
            status.setdefault("podIP", self.pod_ip)
            status.setdefault("hostIP", ks.HOST_IP)
            return pod
        return self.pod

    def pod_exists(self) -> bool:
        pod = self.api.get_pod(self.namespace, self.name)
        if pod is None or (pod.get("metadata") or {}).get("uid") != self.uid:
            self.halt()
            return False
        return True

    def event(self, reason: str, message: str, type_: str = "Normal", spec: Obj | None = None) -> None:
        """An event about the pod; with `spec`, about one of its containers (involvedObject.fieldPath)."""
        if spec is None:
            self.api.record_event(self.pod, reason, message, type_)
            return
        field = "initContainers" if any(spec is c for c in self.init_specs) else "containers"
        self.api.record_event(self.pod, reason, message, type_, field_path=f"spec.{field}{{{spec.get('name')}}}")

    def push(self) -> None:
        status = self.status()
        if status != self._last_pushed:
            self._last_pushed = status
            self.api.update_pod_status(self.namespace, self.name, self.uid, status)

    def status(self) -> Obj:
        now = self.now()
        records = self.records
        phase = self._phase()
        self.phase = phase
        finished = phase in ("Succeeded", "Failed")
        self.conditions.set("PodReadyToStartContainers", self.sandbox_ready and not finished, now)
        pending_inits = [r.name for r in self.inits if r.exit_code != 0]
        if self.initialized or (finished and not pending_inits):
            self.conditions.set("Initialized", True, now)
        else:
            self.conditions.set("Initialized", False, now, "ContainersNotInitialized",
                                f"containers with incomplete status: [{' '.join(pending_inits)}]")
        unready = [r.name for r in records if not r.ready]
        if finished:
            reason = "PodCompleted" if phase == "Succeeded" else "PodFailed"
            self.conditions.set("Ready", False, now, reason)
            self.conditions.set("ContainersReady", False, now, reason)
        elif unready:
            message = f"containers with unready status: [{' '.join(unready)}]"
            self.conditions.set("Ready", False, now, "ContainersNotReady", message)
            self.conditions.set("ContainersReady", False, now, "ContainersNotReady", message)
        else:
            self.conditions.set("Ready", True, now)
            self.conditions.set("ContainersReady", True, now)
        status = {"phase": phase, "conditions": self.conditions.items(),
                  "hostIP": ks.HOST_IP, "hostIPs": [{"ip": ks.HOST_IP}]}
        if self.pod_ip:
            status.update(podIP=self.pod_ip, podIPs=[{"ip": self.pod_ip}])
        if self.start_time:
            status["startTime"] = self.start_time
        if self.inits:
            status["initContainerStatuses"] = [r.status() for r in self.inits]
        status["containerStatuses"] = [r.status() for r in records]
        if self.qos:
            status["qosClass"] = self.qos
        return status

    def _phase(self) -> str:
        """The pod phase from its containers, as the kubelet's getPhase decides it."""
        policy = str(self.spec.get("restartPolicy") or "Always")
        failed_init = any(r.exit_code not in (None, 0) for r in self.inits)
        if failed_init and policy == "Never":
            return "Failed"
        if not self.initialized:
            return "Pending"
        running = sum(1 for r in self.records if r.phase == "running")
        stopped = [r for r in self.records if r.phase == "terminated"]
        restarting = sum(1 for r in self.records if r.phase == "waiting" and r.last_state)
        waiting_first = sum(1 for r in self.records if r.phase == "waiting" and not r.last_state)
        if waiting_first:
            return "Pending"
        if running or restarting:
            return "Running"
        if stopped and len(stopped) == len(self.records):
            if policy == "Always":
                return "Running"
            if all(r.exit_code == 0 for r in stopped):
                return "Succeeded"
            return "Failed" if policy == "Never" else "Running"
        return "Pending"


def _replace_file(path: Path, data: str) -> None:
    from wizard.paths import write_private

    write_private(path, data)
