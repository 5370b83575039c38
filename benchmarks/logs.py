"""Log throughput: a pod prints 200,000 lines (image `wi-wizard/log-burst`); the logs screen ingests its log the
way the wizard does (a worker thread follows it with the wizard's Kube gateway and reports every line through
the app's `_report`, as the logs step does; headless Pilot) against `kubectl logs -f` reading the same pod to
/dev/null. The pod has finished before either reads (both read the same complete log, so the pod's own pace
is not measured). Also: the process's RSS at 50k/100k/200k lines (the view is bounded, so it must stay flat),
and the key-press latency during the burst (press `f`, time until the screen's handler runs).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import Row, ServedSandbox, median, p95, seconds, temp_dir

RATE_GOAL = 0.8
LATENCY_GOAL = 0.050
FLAT_GOAL = 0.10  # RSS growth from 50k to 200k lines, as a fraction of the RSS at 50k
CONTEXT = "aks-platform"
MAX_RUNS = 3  # one ingestion of 200k lines takes tens of seconds: three are enough for a median
IMAGE = "wi-wizard/log-burst:1"


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _start_pod(kubeconfig: str, lines: int) -> tuple[str, str]:
    from kubernetes import client, config, watch

    new_client: Any = config.new_client_from_config  # untyped in the client
    v1: Any = client.CoreV1Api(new_client(kubeconfig, context=CONTEXT))
    ns = "bench-logs"
    v1.create_namespace({"metadata": {"name": ns}})
    v1.create_namespaced_pod(ns, {"metadata": {"name": "burst"}, "spec": {"restartPolicy": "Never", "containers": [
        {"name": "app", "image": IMAGE, "env": [{"name": "WI_LOG_LINES", "value": str(lines)}]}]}})
    watch_class: Any = watch.Watch  # untyped in the client
    watcher = watch_class()
    for event in watcher.stream(v1.list_namespaced_pod, ns, field_selector="metadata.name=burst",
                                      timeout_seconds=600):
        if event["object"].status.phase in ("Succeeded", "Failed"):
            break
    return ns, "burst"


def kubectl_rate(kubeconfig: str, ns: str, pod: str, lines: int) -> float:
    started = time.monotonic()
    subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "--context", CONTEXT, "logs", "-f", pod, "-n", ns],
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True, timeout=600)
    return lines / (time.monotonic() - started)


class ScreenRun:
    def __init__(self) -> None:
        self.rate = 0.0
        self.rss: dict[int, int] = {}
        self.latencies: list[float] = []


def screen_run(kubeconfig: str, ns: str, pod: str, lines: int, samples: int) -> ScreenRun:
    """One ingestion of the whole log by the logs screen, with key presses during it."""

    from benchmarks.common import SEED_PLAN
    from wizard import target
    from wizard.kube.client import Kube
    from wizard.plan import load as load_plan
    from wizard.session import Session, SessionStore
    from wizard.steps.base import Description, Event
    from wizard.tui.app import WizardApp
    from wizard.tui.screens.logs import LogsScreen
    from wizard.tui.widgets.log_view import LogView

    result = ScreenRun()
    marks = {lines // 4: 0, lines // 2: 0, lines: 0}  # 50k, 100k, 200k of 200k
    total = lines + 1  # + the closing line

    async def main(home: Path) -> None:
        app = WizardApp(store=SessionStore(home / "sessions"), cloud=target.real, target_label="SANDBOX")
        async with app.run_test(size=(120, 40)) as pilot:
            screen = LogsScreen(Session("bench", load_plan(SEED_PLAN)), "logs",
                                Description("Follow the log.", ["kubectl logs -f"]), "SANDBOX", "")
            await app.push_screen(screen)
            await pilot.pause()
            view = screen.query_one(LogView)
            pressed: list[float] = []
            original = view.action_toggle_follow

            def toggled() -> None:
                pressed.append(time.perf_counter())
                original()

            view.action_toggle_follow = toggled  # type: ignore[method-assign]
            done = threading.Event()
            kube = Kube.from_kubeconfig(Path(kubeconfig).read_bytes(), context=CONTEXT)

            def follow() -> None:  # what the logs step does on its worker thread, line by line
                for count, line in enumerate(kube.stream_logs(ns, pod, follow=True), 1):
                    app._report(Event("logs", line, "log"))
                    if count in marks:
                        marks[count] = _rss()
                done.set()

            started = time.monotonic()
            thread = threading.Thread(target=follow, daemon=True)
            thread.start()
            await _press_during(pilot, done, pressed, result.latencies, samples)
            while not done.is_set():
                await asyncio.sleep(0.01)
            await pilot.pause()
            while not (view.lines and view.lines[-1].startswith("log-burst done")):
                await pilot.pause(0.02)
            took = time.monotonic() - started
            thread.join(5)
            result.rate = total / took
            result.rss = dict(marks)
            kube.close()

    with temp_dir("logs-app") as home:
        asyncio.run(main(home))
    return result


async def _press_during(pilot: Any, done: threading.Event, pressed: list[float], latencies: list[float],
                        samples: int) -> None:
    """Press `f` every 0.1 s while lines arrive (pairs: pause, follow); latency = press → handler."""
    await asyncio.sleep(0.2)
    while not done.is_set() and len(latencies) < samples:
        before = len(pressed)
        t0 = time.perf_counter()
        await pilot.press("f")
        while len(pressed) == before and not done.is_set():
            await asyncio.sleep(0.001)
        if len(pressed) > before:
            latencies.append(pressed[-1] - t0)
        await asyncio.sleep(0.1)
    if len(pressed) % 2:  # leave it following
        await pilot.press("f")


def run(runs: int, quick: bool) -> list[Row]:
    lines = 20_000 if quick else 200_000
    if shutil.which("kubectl") is None:
        return [Row("logs: lines into the logs screen", "not run", "kubectl logs -f", "", f"≥ {RATE_GOAL}×", None,
                    "kubectl is not on PATH: the baseline needs it (install kubectl, then run `logs` again)")]
    with temp_dir("logs") as home, ServedSandbox(home / "sandbox") as box:
        kubeconfig = str(box.endpoints["kubeconfig"])
        t0 = time.monotonic()
        ns, pod = _start_pod(kubeconfig, lines)
        produced = time.monotonic() - t0
        kubectl: list[float] = []
        screen: list[ScreenRun] = []
        for _ in range(min(runs, MAX_RUNS)):
            kubectl.append(kubectl_rate(kubeconfig, ns, pod, lines + 1))
            screen.append(screen_run(kubeconfig, ns, pod, lines, samples=40))
    ours = median([s.rate for s in screen])
    theirs = median(kubectl)
    ratio = ours / theirs
    latencies = [x for s in screen for x in s.latencies]
    first = screen[0].rss
    marks = sorted(first)
    growth = (first[marks[-1]] - first[marks[0]]) / first[marks[0]] if first[marks[0]] else float("nan")
    rss_text = " / ".join(f"{first[m] / 2**20:.0f} MB" for m in marks)
    rows = [
        Row(f"logs: {lines:,} lines into the logs screen", f"{ours:,.0f} lines/s", f"{theirs:,.0f} lines/s "
            "(kubectl logs -f)", f"{ratio:.2f}×", f"≥ {RATE_GOAL}×", ratio >= RATE_GOAL,
            f"the pod printed them in {seconds(produced)} (sandbox ingestion, before either read); runs: screen "
            + ", ".join(f"{s.rate:,.0f}" for s in screen) + "; kubectl " + ", ".join(f"{k:,.0f}" for k in kubectl)),
        Row("logs: RSS at 25%/50%/100% of the lines", rss_text, "", f"+{growth * 100:.1f}%",
            f"flat (≤ +{FLAT_GOAL * 100:.0f}%)", growth <= FLAT_GOAL,
            "RSS of the process running the screen, sampled by the reading thread"),
        Row("logs: key press → handler during the burst", f"median {seconds(median(latencies))}, p95 "
            f"{seconds(p95(latencies))}", "", "", f"< {LATENCY_GOAL * 1000:.0f} ms", bool(latencies) and
            p95(latencies) < LATENCY_GOAL, f"{len(latencies)} presses of `f`"),
    ]
    return rows
