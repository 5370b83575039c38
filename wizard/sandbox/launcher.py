"""`--sandbox`: use the sandbox running in the background, or start one that outlives this command (its state is
kept between runs, so a second `apply` or a `resume` finds the same world)."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from wizard import paths

START_TIMEOUT = 30.0


class LaunchError(Exception):
    pass


def _reachable(endpoints: dict[str, object]) -> bool:
    try:
        ctx = ssl.create_default_context(cafile=str(endpoints["ca_bundle"]))
        url = f"{endpoints['authority_host']}/common/v2.0/.well-known/openid-configuration"
        with urllib.request.urlopen(url, context=ctx, timeout=2) as response:  # noqa: S310 (https, own CA)
            return bool(response.status == 200)
    except (OSError, ValueError, KeyError, ssl.SSLError):
        return False


def running(state_dir: Path) -> Path | None:
    """The endpoints file of a live sandbox on `state_dir`, or None."""
    endpoints_path = state_dir / "endpoints.json"
    try:
        data = json.loads(endpoints_path.read_text())
    except (OSError, ValueError):
        return None
    return endpoints_path if isinstance(data, dict) and _reachable(data) else None


def ensure_running(state_dir: Path | None = None) -> Path:
    """Return the endpoints file of the background sandbox, starting it first when none answers."""
    state_dir = (state_dir or paths.sandbox_dir()).absolute()
    found = running(state_dir)
    if found is not None:
        return found
    paths.private_dir(state_dir)
    log_path = state_dir / "serve.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "wizard", "sandbox", "serve", "--state-dir", str(state_dir)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        found = running(state_dir)
        if found is not None:
            return found
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
            raise LaunchError("the sandbox did not start: " + (" / ".join(tail) or f"exit {process.returncode}"))
        time.sleep(0.1)
    process.terminate()
    raise LaunchError(f"the sandbox did not answer within {START_TIMEOUT:g} s; see {log_path}")


def stop(state_dir: Path | None = None, timeout: float = 15.0) -> bool:
    """Stop the background sandbox of `state_dir` (SIGTERM to the pid in its endpoints file)."""
    state_dir = (state_dir or paths.sandbox_dir()).absolute()
    try:
        pid = int(json.loads((state_dir / "endpoints.json").read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (state_dir / "endpoints.json").exists():
        time.sleep(0.1)
    return True
