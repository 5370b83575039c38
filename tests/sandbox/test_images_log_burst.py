"""The benchmark image `wi-wizard/log-burst*`: numbered lines as fast as it can, then a closing line — on its own
and as a pod the sandbox's kubelet runs, read back in full through the Kubernetes API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import wizard
from tests.sandbox import podflow
from tests.sandbox.podflow import phase_is, pod_body, wait_pod
from wizard.sandbox import Sandbox
from wizard.sandbox.images import log_burst, module_for

ROOT = str(Path(wizard.__file__).resolve().parent.parent)
IMAGE = "wi-wizard/log-burst:1"


def run_burst(lines: str | None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": ROOT}
    if lines is not None:
        env["WI_LOG_LINES"] = lines
    return subprocess.run([sys.executable, "-m", "wizard.sandbox.images.log_burst"], env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_log_burst_images_are_known_and_other_names_are_not() -> None:
    assert module_for(IMAGE) == "wizard.sandbox.images.log_burst"
    assert module_for("wi-wizard/log-burst") == "wizard.sandbox.images.log_burst"
    assert module_for("docker.io/wi-wizard/log-burst") is None


def test_log_burst_prints_the_numbered_lines_asked_for_then_the_closing_line() -> None:
    result = run_burst("12001")

    lines = result.stdout.splitlines()
    assert result.returncode == 0
    assert len(lines) == 12002
    assert lines[0] == log_burst.line(0) and lines[12000] == log_burst.line(12000)
    assert lines[-1] == f"{log_burst.DONE} 12001"
    assert {len(line) for line in lines[:-1]} == {80}


def test_log_burst_with_a_bad_line_count_says_so_and_exits_1() -> None:
    result = run_burst("many")

    assert result.returncode == 1
    assert result.stdout.splitlines() == ["log-burst: WI_LOG_LINES must be a whole number of lines, not 'many'"]


def test_a_log_burst_pod_runs_to_completion_and_its_whole_log_is_served(sandbox: Sandbox) -> None:
    v1 = podflow.core_v1(sandbox)
    ns = podflow.new_namespace(v1, "burst")
    v1.create_namespaced_pod(ns, pod_body("burst", IMAGE, env={"WI_LOG_LINES": "3000"}))

    wait_pod(v1, ns, "burst", phase_is("Succeeded"), timeout=60)
    log = v1.read_namespaced_pod_log("burst", ns, follow=True)

    lines = log.splitlines()
    assert len(lines) == 3001
    assert lines[0] == log_burst.line(0) and lines[-2] == log_burst.line(2999)
    assert lines[-1] == f"{log_burst.DONE} 3000"
