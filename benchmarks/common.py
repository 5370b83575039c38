"""What every benchmark shares: the result row, medians, the machine description, isolated homes and sandboxes.

A benchmark is a function `(runs: int, quick: bool) -> list[Row]`; a row compares one measurement with its
baseline from the same run and says whether the goal is met. Absolute times are shown, but only the ratio
is judged: on a shared 2-core machine the absolute numbers move by 2× between runs, the ratios much less.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# How to start wi-wizard: the console script next to this Python (the venv's), else the module.
WI_WIZARD = [str(VENV_BIN / "wi-wizard")] if (VENV_BIN / "wi-wizard").exists() else [sys.executable, "-m", "wizard"]
SEED_PLAN = ROOT / "examples" / "seed-cross-tenant.toml"


@dataclass
class Row:
    """One line of the table. `ratio` is measured/baseline, or whatever the goal is phrased in (stated in
    `goal`); `met` is None when the row has no goal (information only)."""

    benchmark: str
    measured: str
    baseline: str
    ratio: str
    goal: str
    met: bool | None
    note: str = ""


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def machine() -> str:
    """nproc, CPU model, Python version and load: printed with every table."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, {platform.system()} "
            f"{platform.release()}, load average {load}")


@contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"wi-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment a wizard process gets: its own WI_WIZARD_HOME and kube cache, no AZURE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")
           and k not in {"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "KUBECONFIG", "SSL_CERT_FILE"}}
    env.update(WI_WIZARD_HOME=str(home), KUBECACHEDIR=str(home / "kubecache"), PYTHONPATH=str(ROOT), **extra)
    return env


class ServedSandbox:
    """`wi-wizard sandbox serve` in its own process (so what it costs is not charged to the measured process),
    with fast settings: only the clients' work is of interest, not the sandbox's emulated waits."""

    def __init__(self, state_dir: Path, *, kubelet_speed: float = 20.0, lro_seconds: float = 0.2) -> None:
        self.state_dir = state_dir
        home = state_dir.parent
        self._log = open(state_dir.parent / f"{state_dir.name}.log", "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [*WI_WIZARD, "sandbox", "serve", "--state-dir", str(state_dir), "--kubelet-speed",
             str(kubelet_speed), "--lro-seconds", str(lro_seconds), "--device-code-approve", "0.5"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, env=isolated_env(home),
            cwd=ROOT, start_new_session=True)
        deadline = time.monotonic() + 60
        while not (state_dir / "endpoints.json").exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the sandbox did not start; see {self._log.name}")
            time.sleep(0.1)
        self.endpoints_path = state_dir / "endpoints.json"
        self.endpoints = json.loads(self.endpoints_path.read_text())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def __enter__(self) -> ServedSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
