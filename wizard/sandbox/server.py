"""The sandbox server: one HTTPS port on 127.0.0.1 serving Entra ID, Graph, ARM and every cluster by path.

`Sandbox` runs in-process (its own thread and event loop, so blocking SDK calls in the caller never deadlock
it) or in the foreground (`wi-wizard sandbox serve`). Once it accepts connections it writes
`{state_dir}/endpoints.json` (mode 0600); a clean stop removes that file.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import importlib
import json
import logging
import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from wizard.paths import private_dir, sandbox_dir, write_private
from wizard.sandbox import clusters, directory, scenario
from wizard.sandbox.faults import Faults, reset_connection
from wizard.sandbox.httputil import arm_error
from wizard.sandbox.ids import Ids
from wizard.sandbox.service import Service
from wizard.sandbox.store import Store
from wizard.sandbox.tls import TlsFiles, ensure_tls
from wizard.sandbox.world import Settings, World

log = logging.getLogger("wizard.sandbox")

# Asked in this order; the first whose `matches` says yes answers.
SERVICE_CLASSES = (
    "wizard.sandbox.kube.service:KubeService",
    "wizard.sandbox.graph:GraphService",
    "wizard.sandbox.arm.service:ArmService",
    "wizard.sandbox.entra:EntraService",
)

ENDPOINTS_FILE = "endpoints.json"
DB_FILE = "world.db"
LOCK_FILE = "sandbox.lock"


class SandboxError(Exception):
    """A sandbox that cannot start, with a message that says why and what to do."""


def _load_services(world: World) -> list[Service]:
    services = []
    for spec in SERVICE_CLASSES:
        module_name, _, class_name = spec.partition(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        services.append(cls(world))
    return services


class Sandbox:
    def __init__(
        self,
        state_dir: Path | None = None,
        *,
        port: int = 0,
        scenario_ref: str | None = None,
        faults: str | Faults | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.state_dir = (state_dir or sandbox_dir()).absolute()
        self.requested_port = port
        self.scenario_ref = scenario_ref
        self.faults = faults if isinstance(faults, Faults) else Faults.parse(faults)
        self.settings = settings or Settings()
        self.world: World | None = None
        self.tls: TlsFiles | None = None
        self._services: list[Service] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._log_handler: logging.Handler | None = None
        self._lock_fd: int | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> Sandbox:
        private_dir(self.state_dir)
        self._lock_state_dir()
        self._attach_log()
        self.tls = ensure_tls(self.state_dir)
        store = Store(self.state_dir / DB_FILE)
        try:
            spec = scenario.load(self.scenario_ref, store)
        except scenario.ScenarioError as exc:
            store.close()
            raise SandboxError(str(exc)) from None
        world = World(self.state_dir, store, Ids(store, spec.seed), self.faults, self.settings,
                      ca_path=self.tls.ca_cert)
        self.world = world
        self._services = _load_services(world)
        if store.is_empty():
            scenario.seed(world, spec)
        self._thread = threading.Thread(target=self._run, name="wi-wizard-sandbox", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise SandboxError(f"the sandbox did not start listening within {timeout:g} s")
        if self._startup_error is not None:
            self._thread.join(5)
            store.close()
            self._unlock_state_dir()
            raise SandboxError(str(self._startup_error)) from self._startup_error
        self._write_endpoints()
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        self._loop = self._thread = None
        (self.state_dir / ENDPOINTS_FILE).unlink(missing_ok=True)
        if self.world is not None:
            self.world.store.close()
        if self._log_handler is not None:
            log.removeHandler(self._log_handler)
            self._log_handler.close()
        self._unlock_state_dir()

    def _lock_state_dir(self) -> None:
        """One sandbox per state dir: a second one would corrupt the world."""
        fd = os.open(self.state_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise SandboxError(f"another sandbox (pid {owner}) is already running on {self.state_dir}; "
                               "stop it first, or use another --state-dir") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def _unlock_state_dir(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.stop()

    def call(self, coro: Any, timeout: float = 30.0) -> Any:
        """Run a coroutine on the sandbox's loop from another thread (tests, the CLI)."""
        assert self._loop is not None, "the sandbox is not running"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # -- what clients need -----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self.world is not None
        return self.world.base_url

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def ca_bundle(self) -> str:
        assert self.tls is not None
        return str(self.tls.ca_cert)

    @property
    def kubeconfig(self) -> str:
        return str(self.state_dir / "kubeconfig")

    def endpoints(self) -> dict[str, Any]:
        world = self.world
        assert world is not None
        tenants = []
        for t in directory.tenants(world):
            entry: dict[str, Any] = {
                "name": t["name"], "tenant_id": t["tenant_id"], "domain": t["domain"],
                "display_name": t["display_name"],
                "subscriptions": [{"name": s["display_name"], "subscription_id": s["subscription_id"]}
                                  for s in directory.subscriptions(world, t["tenant_id"])],
            }
            apps = sorted((a for a in world.store.values("apps") if a["tenant_id"] == t["tenant_id"]),
                          key=lambda a: a["display_name"])
            if apps:
                entry["service_principal"] = {"client_id": apps[0]["app_id"], "client_secret": apps[0]["secret"],
                                              "display_name": apps[0]["display_name"]}
            users = directory.users(world, t["tenant_id"])
            if users:
                entry["user"] = {"username": users[0]["username"], "display_name": users[0]["display_name"]}
            tenants.append(entry)
        return {
            "authority_host": world.base_url,
            "resource_manager": world.base_url + "/",
            "microsoft_graph": world.base_url + "/",
            "ca_bundle": self.ca_bundle,
            "kubeconfig": self.kubeconfig,
            "device_login": world.base_url + "/devicelogin",
            "faults": world.faults.spec(),
            "pid": os.getpid(),
            "tenants": tenants,
        }

    def _write_endpoints(self) -> None:
        write_private(self.state_dir / ENDPOINTS_FILE, json.dumps(self.endpoints(), indent=2) + "\n")

    # -- the server thread -----------------------------------------------------------------------------------

    def _attach_log(self) -> None:
        log_path = self.state_dir / "sandbox.log"
        log_path.touch(mode=0o600, exist_ok=True)
        handler = logging.FileHandler(log_path)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        self._log_handler = handler

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._startup())
        except BaseException as exc:
            self._startup_error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _startup(self) -> None:
        world = self.world
        assert world is not None and self.tls is not None
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2)
        await self._runner.setup()
        port = await self._listen(world)
        world.base_url = f"https://127.0.0.1:{port}"
        world.store.put("meta", "server", {"port": port})
        clusters.write_kubeconfig_file(world)
        for service in self._services:
            await service.startup()
        log.info("listening on %s (faults: %s)", world.base_url, world.faults.spec())

    async def _listen(self, world: World) -> int:
        assert self._runner is not None and self.tls is not None
        ssl_ctx = self.tls.server_context()
        previous = (world.store.get("meta", "server") or {}).get("port")
        # Reuse the last port when none is asked for: issuer URLs and kubeconfigs stay valid across restarts.
        candidates = [self.requested_port] if self.requested_port else [p for p in (previous, 0) if p is not None]
        for candidate in candidates:
            site = web.TCPSite(self._runner, "127.0.0.1", candidate, ssl_context=ssl_ctx, backlog=256)
            try:
                await site.start()
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE and candidate != candidates[-1]:
                    continue
                if exc.errno == errno.EADDRINUSE:
                    raise SandboxError(f"port {candidate} on 127.0.0.1 is already in use; "
                                       "choose another with --port, or stop what holds it") from None
                raise
            server = site._server
            assert isinstance(server, asyncio.base_events.Server)
            return int(server.sockets[0].getsockname()[1])
        raise SandboxError("could not listen on 127.0.0.1")

    async def _shutdown(self) -> None:
        for service in self._services:
            with contextlib.suppress(Exception):
                await service.shutdown()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        world = self.world
        assert world is not None
        path = request.path
        service = next((s for s in self._services if s.matches(path)), self._services[-1])
        if service.name == "arm":
            fault = world.faults.arm_fault(request.method, request.headers.get("x-ms-client-request-id"))
            if fault is not None:
                status, response = await self._inject(request, fault)
                world.record(request.method, path, status, f"fault:{fault}")
                log.info("fault:%s %s %s -> %s", fault, request.method, path, status or "connection reset")
                return response
        started = time.perf_counter()
        try:
            response = await service.handle(request)
        except web.HTTPException:
            raise
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except Exception:
            log.exception("unexpected error in %s handling %s %s", service.name, request.method, path)
            response = service.internal_error()
        world.record(request.method, path, response.status, service.name)
        log.info("%s %s %s -> %s (%.1f ms)", service.name, request.method, path, response.status,
                 (time.perf_counter() - started) * 1000)
        return response

    async def _inject(self, request: web.Request, fault: str) -> tuple[int, web.StreamResponse]:
        """The answer a fault gives instead of ARM's: (status recorded in the request log, response).

        `drop` resets the TCP connection (RST, not a clean close) after the whole request has arrived, as a
        broken load balancer does; the status recorded is 0 because no answer is sent. It returns a response
        anyway: aiohttp finds the transport closed when writing it and treats that as a client that went away,
        which it handles quietly (raising instead would make aiohttp log a traceback).
        """
        assert self.world is not None
        if fault == "throttle":
            retry_after = self.world.faults.retry_after()
            return 429, arm_error(
                429, "TooManyRequests",
                "The request is being throttled as the limit has been reached for operation type - "
                f"{'Read' if request.method in {'GET', 'HEAD'} else 'Write'}. "
                f"Please try again after {retry_after} seconds.",
                {"Retry-After": retry_after})
        if fault == "flaky":
            return 503, arm_error(503, "ServiceUnavailable",
                                  "The server is currently unable to handle the request. Please retry the request.")
        await request.read()
        if request.transport is not None:
            reset_connection(request.transport)
        return 0, web.Response(status=503)


def forget_world(state_dir: Path) -> int:
    """Remove the world (not the CA). Refuses while a sandbox runs on the state dir."""
    lock_path = state_dir / LOCK_FILE
    if lock_path.exists():
        fd = os.open(lock_path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"a sandbox is running on {state_dir}; stop it before resetting") from None
        finally:
            os.close(fd)
    removed = 0
    for name in (DB_FILE, DB_FILE + "-wal", DB_FILE + "-shm", ENDPOINTS_FILE, "kubeconfig"):
        path = state_dir / name
        if path.exists():
            path.unlink()
            removed += 1
    pods = state_dir / "pods"
    if pods.is_dir():
        import shutil

        shutil.rmtree(pods)
        removed += 1
    return removed
