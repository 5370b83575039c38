"""Headless seed run: `wi-wizard apply examples/seed-cross-tenant.toml --sandbox-endpoints …` against a fresh
sandbox, against the seed's commands done one process each (seed_baseline.py) against another fresh sandbox,
and the HTTP requests the wizard makes against the minimum its steps need.

The sandbox runs in this process (its request log is needed), with fast emulated waits (LRO 0.2 s, kubelet
20× faster): both sides get the same sandbox settings, so the ratio compares the clients. Requests are
attributed to their sender by the TCP connection they came on (the socket's owner, read from /proc): the
wizard's own, versus the pod's (the workload reading the quota) and the sandbox's (Entra fetching the issuer's
keys during the token exchange), which are not the wizard's requests and are not counted.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, SEED_PLAN, WI_WIZARD, Row, isolated_env, median, seconds, temp_dir
from benchmarks.seed_baseline import COMMANDS

SPEED_GOAL = 5.0
REQUEST_GOAL = 1.2

# The minimum HTTP requests each step needs on a fresh sandbox, and why. LRO status polls are not counted on
# either side (how many there are depends on how long the operation runs, not on the client).
MINIMUM: list[tuple[str, int, str]] = [
    ("login", 4, "per tenant: the authority's OpenID configuration (MSAL reads it once per authority) + one "
                 "client-credentials token"),
    ("cluster", 4, "list subscriptions (the plan names it) + GET the cluster + PUT it with OIDC/workload "
                   "identity on + the SDK's final GET when the LRO ends"),
    ("identity", 5, "list subscriptions (tenant B) + GET the identity (404) + GET the resource group (404: "
                    "create it with our tags, never retag someone's) + PUT the group + PUT the identity"),
    ("role", 3, "resolve the role name (list role definitions) + is it assigned already (list assignments at "
                "the scope) + PUT the assignment"),
    ("federation", 2, "GET the FIC (404) + PUT it"),
    ("trust", 8, "cluster user credentials (kubeconfig) + ServiceAccount exists? (GET 404) + create it + "
                 "TokenRequest + the issuer's discovery + JWKS (verify the signature) + the token exchange "
                 "+ one ARM read as the identity (the FIC was written by the previous step: no re-read)"),
    ("deploy", 3, "PATCH the ServiceAccount's annotations (trust just created it, so no read) + GET the pod "
                  "(404: pods are immutable, an existing one is compared) + create the pod"),
    ("logs", 3, "watch the pod until it runs (the client's list + watch) + follow its log"),
]
MIN_TOTAL = sum(n for _, n, _ in MINIMUM)
TIMELINES: list[Timeline] = []


@dataclass
class Request:
    who: str
    method: str
    path: str
    status: int
    user_agent: str
    at: float = 0.0  # time.monotonic() when it arrived


class Attribution:
    """Who sent each request: the wizard's process (by its sockets), or someone else."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.wizard_pid: int | None = None
        self.requests: list[Request] = []
        self._cache: dict[int, str] = {}

    def who(self, peer_port: int) -> str:
        if peer_port in self._cache:
            return self._cache[peer_port]
        found = "other"
        inode = _socket_inode(peer_port, self.port)
        pid = self.wizard_pid
        if inode and pid:
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                        found = "wizard"
                        break
            except OSError:
                pass
        self._cache[peer_port] = found
        return found

    def install(self, box: Any) -> None:
        original = box._dispatch

        async def dispatch(request: Any) -> Any:
            peer = request.transport.get_extra_info("peername") if request.transport else None
            who = self.who(int(peer[1])) if peer else "other"
            ua = request.headers.get("User-Agent", "")
            if "wi-wizard-sandbox" in ua:
                who = "sandbox-image" if "image" in ua else "sandbox-entra"
            entry = Request(who, request.method, request.path_qs, 0, ua, time.monotonic())
            self.requests.append(entry)  # in the order they arrive (a log stream ends long after)
            response = await original(request)
            entry.status = response.status
            return response

        box._dispatch = dispatch


def _socket_inode(local_port: int, remote_port: int) -> str | None:
    wanted_local, wanted_remote = f":{local_port:04X}", f":{remote_port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[1].endswith(wanted_local) and fields[2].endswith(wanted_remote):
                return fields[9]
    return None


def _fresh_sandbox(state_dir: Path) -> Any:
    from wizard.sandbox import Sandbox
    from wizard.sandbox.world import Settings

    return Sandbox(state_dir, settings=Settings(device_code_auto_approve=0.5, lro_seconds=0.2, kubelet_speed=20.0))


@dataclass
class Timeline:
    """Where one wizard run's time went, from its request log (seconds)."""

    started: float = 0.0  # process start → first request (interpreter, imports, plan, session)
    lro: float = 0.0  # the cluster PUT → the SDK's final GET (the emulated update + the SDK's poll interval)
    kube_gap: float = 0.0  # kubeconfig fetched → first Kubernetes request (mostly importing the kubernetes client)
    pod_start: float = 0.0  # pod created → the pod's own first request (the emulated kubelet + a process start)
    total: float = 0.0

    def text(self) -> str:
        return (f"process start → first request {seconds(self.started)}, cluster LRO {seconds(self.lro)}, "
                f"kubeconfig → first Kubernetes request {seconds(self.kube_gap)}, pod created → pod's first "
                f"request {seconds(self.pod_start)}, total {seconds(self.total)}")


def timeline(requests: list[Request], started: float, ended: float) -> Timeline:
    def first(predicate: Any, after: float = 0.0) -> float:
        return next((r.at for r in requests if r.at >= after and predicate(r)), float("nan"))

    t = Timeline(total=ended - started)
    t.started = first(lambda r: r.who == "wizard") - started
    put = first(lambda r: r.method == "PUT" and "managedClusters" in r.path)
    t.lro = first(lambda r: r.method == "GET" and re.search(r"managedClusters/[^/?]+\?", r.path), put) - put
    creds = first(lambda r: "listClusterUserCredential" in r.path)
    t.kube_gap = first(lambda r: "/k8s/" in r.path, creds) - creds
    pod = first(lambda r: r.method == "POST" and r.path.split("?")[0].endswith("/pods"))
    t.pod_start = first(lambda r: r.who != "wizard" and not r.who.startswith("sandbox-entra"), pod) - pod
    return t


def wizard_run(work: Path) -> tuple[float, list[Request]]:
    box = _fresh_sandbox(work / "sandbox")
    attribution = Attribution(0)
    attribution.install(box)
    box.start()
    try:
        attribution.port = box.port
        started = time.monotonic()
        process = subprocess.Popen([*WI_WIZARD, "apply", str(SEED_PLAN), "--sandbox-endpoints",
                                    str(work / "sandbox" / "endpoints.json")], env=isolated_env(work / "home"),
                                   cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        attribution.wizard_pid = process.pid
        out, _ = process.communicate(timeout=300)
        took = time.monotonic() - started
        TIMELINES.append(timeline(attribution.requests, started, started + took))
        if process.returncode != 0:
            raise RuntimeError(f"wi-wizard apply exited {process.returncode}: {out[-2000:]}")
        return took, list(attribution.requests)
    finally:
        box.stop()


def baseline_run(work: Path) -> float:
    box = _fresh_sandbox(work / "sandbox")
    box.start()
    try:
        shutil.copy(work / "sandbox" / "endpoints.json", work / "endpoints.json")
        env = isolated_env(work / "home")
        started = time.monotonic()
        for command, _ in COMMANDS:
            result = subprocess.run([sys.executable, "-m", "benchmarks.seed_baseline", command, str(work)], env=env,
                                    cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
            if result.returncode != 0:
                raise RuntimeError(f"baseline {command} failed: {result.stderr[-2000:]}")
        return time.monotonic() - started
    finally:
        box.stop()


_STEP_OF = [  # request (method, path pattern) → the step that makes it, for the per-step table
    (r"oauth2/v2\.0/token|openid-configuration$", "login"),
    (r"ContainerService/managedClusters/[^/?]+/listClusterUserCredential", "trust"),
    (r"managedClusters|ContainerService/locations/.*/operations", "cluster"),
    (r"userAssignedIdentities/[^/]+/federatedIdentityCredentials", "federation"),
    (r"Microsoft\.ManagedIdentity|resourcegroups/|resourceGroups/[^/?]+\?", "identity"),
    (r"Microsoft\.Authorization", "role"),
]


def per_step(requests: list[Request]) -> Counter[str]:
    """Requests per step. ARM and Entra requests by what they touch; the cluster's (Kubernetes, issuer) ones by
    the order the steps run in: trust from the kubeconfig fetch to its ARM read as the identity, then deploy
    until the pod is created (and its admission is read back), then logs from the first read of the pod."""
    counts: Counter[str] = Counter()
    phase = ""
    for r in requests:
        path = r.path.split("?")[0]
        if "listClusterUserCredential" in path:
            phase = "trust"
        elif phase == "trust" and re.fullmatch(r"/subscriptions/[^/]+", path):
            counts["trust"] += 1
            phase = "deploy"
            continue
        elif phase == "deploy" and r.method == "POST" and path.endswith("/pods"):
            phase = "deploy:created"
        elif phase == "deploy:created" and r.method == "GET" and re.search(r"/pods(/[^/]+)?$", path):
            phase = "logs"
        if phase and ("/k8s/" in path or "/oic/" in path or "listClusterUserCredential" in path
                      or (phase == "trust" and ("oauth2" in path or "federatedIdentityCredentials" in path))):
            counts[phase.split(":")[0]] += 1
            continue
        step = next((s for pattern, s in _STEP_OF if re.search(pattern, r.path)), None)
        if step is None and path == "/subscriptions":
            step = "cluster" if counts["cluster"] == 0 else "identity"
        counts[step or "other"] += 1
    return counts


def run(runs: int, quick: bool) -> list[Row]:
    TIMELINES.clear()
    wizard: list[float] = []
    baseline: list[float] = []
    logged: list[Request] = []
    for i in range(runs):
        with temp_dir("seed-wizard") as work:
            took, requests = wizard_run(work)
            wizard.append(took)
            if i == 0:
                logged = requests
        with temp_dir("seed-baseline") as work:
            baseline.append(baseline_run(work))
    ours = [r for r in logged if r.who == "wizard"]
    polls = [r for r in ours if "/operations/" in r.path]
    counted = [r for r in ours if r not in polls]
    steps = per_step(counted)
    speed = median(baseline) / median(wizard)
    req_ratio = len(counted) / MIN_TOTAL
    others = Counter(r.who for r in logged if r.who != "wizard")
    _write_request_log(logged, steps)
    step_text = "; ".join(f"{name} {steps.get(name, 0)}/{n}" for name, n, _ in MINIMUM)
    if steps.get("other"):
        step_text += f"; unattributed {steps['other']}"
    return [
        Row("seed: headless apply vs one process per command", seconds(median(wizard)),
            seconds(median(baseline)) + f" ({len(COMMANDS)} processes)", f"{speed:.1f}× faster", f"≥ {SPEED_GOAL}×",
            speed >= SPEED_GOAL, f"first wizard run: {TIMELINES[0].text() if TIMELINES else '?'}; runs: wizard "
            + ", ".join(seconds(t) for t in wizard) + "; baseline " + ", ".join(seconds(t) for t in baseline)),
        Row("seed: wizard HTTP requests vs minimum", str(len(counted)), f"{MIN_TOTAL} (minimum)", f"{req_ratio:.2f}×",
            f"≤ {REQUEST_GOAL}×", req_ratio <= REQUEST_GOAL,
            f"per step wizard/minimum: {step_text}; LRO polls not counted: {len(polls)}; not the wizard's: "
            + ", ".join(f"{k} {v}" for k, v in sorted(others.items())) + "; full log in benchmarks/seed-requests.md"),
    ]


def _write_request_log(requests: list[Request], steps: Counter[str]) -> None:
    lines = ["# Requests of one `wi-wizard apply` seed run (fresh sandbox)", "",
             "Sender: `wizard` = the wi-wizard process; `other` = the pod (workload) or the sandbox itself.", "",
             "| # | sender | method | status | path |", "|---|---|---|---|---|"]
    for i, r in enumerate(requests, 1):
        lines.append(f"| {i} | {r.who} | {r.method} | {r.status} | `{r.path[:160]}` |")
    lines += ["", "## Minimum per step", "", "| step | wizard | minimum | why |", "|---|---|---|---|"]
    for name, n, why in MINIMUM:
        lines.append(f"| {name} | {steps.get(name, 0)} | {n} | {why} |")
    (Path(__file__).resolve().parent / "seed-requests.md").write_text("\n".join(lines) + "\n")
