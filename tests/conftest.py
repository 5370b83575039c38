"""Shared fixtures: a real sandbox on loopback HTTPS, and the real SDK clients pointed at it.

`sandbox` is one world for the whole session (read-mostly tests); tests that change the world in ways others
would notice, or that need faults, start their own with `make_sandbox`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wizard.sandbox import Sandbox
from wizard.sandbox.world import Settings

FAST = dict(device_code_auto_approve=0.5, device_code_interval=1, lro_seconds=0.5, kubelet_speed=4.0)


def fast_settings(**overrides: Any) -> Settings:
    return Settings(**{**FAST, **overrides})


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing a test runs may write to the real home: WI_WIZARD_HOME and KUBECACHEDIR point at temp dirs."""
    monkeypatch.setenv("WI_WIZARD_HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.setenv("KUBECACHEDIR", str(tmp_path_factory.mktemp("kubecache")))
    for var in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_AUTHORITY_HOST",
                "AZURE_FEDERATED_TOKEN_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "KUBECONFIG"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path_factory.mktemp("sandbox-session"), settings=fast_settings())
    box.start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture
def make_sandbox(tmp_path: Path) -> Iterator[Callable[..., Sandbox]]:
    """Start a private sandbox: `make_sandbox(faults="throttle", state_dir=..., **settings)`."""
    started: list[Sandbox] = []

    def make(state_dir: Path | None = None, faults: str | None = None, scenario_ref: str | None = None,
             port: int = 0, **settings: Any) -> Sandbox:
        box = Sandbox(state_dir or tmp_path / f"sandbox-{len(started)}", faults=faults, port=port,
                      scenario_ref=scenario_ref, settings=fast_settings(**settings))
        box.start()
        started.append(box)
        return box

    yield make
    for box in reversed(started):
        box.stop()


class Env:
    """What a test needs to build real credentials and clients against one sandbox."""

    def __init__(self, box: Sandbox) -> None:
        self.box = box
        self.endpoints = box.endpoints()
        self.tenants = {t["name"]: t for t in self.endpoints["tenants"]}

    @property
    def ca(self) -> str:
        return self.box.ca_bundle

    def tenant_id(self, name: str) -> str:
        return str(self.tenants[name]["tenant_id"])

    def subscription_id(self, name: str) -> str:
        return str(self.tenants[name]["subscriptions"][0]["subscription_id"])

    def common(self) -> dict[str, Any]:
        """Keywords every credential takes: the sandbox authority and its CA (verification stays on)."""
        return {"authority": self.box.base_url, "connection_verify": self.ca}

    def client_kwargs(self) -> dict[str, Any]:
        return {"base_url": self.box.base_url, "connection_verify": self.ca, "polling_interval": 0.2,
                "retry_backoff_factor": 0.05,
                "credential_scopes": ["https://management.azure.com/.default"]}

    def sp_credential(self, tenant: str, **kwargs: Any) -> Any:
        from azure.identity import ClientSecretCredential

        sp = self.tenants[tenant]["service_principal"]
        return ClientSecretCredential(self.tenant_id(tenant), sp["client_id"], sp["client_secret"],
                                      disable_instance_discovery=True, **self.common(), **kwargs)


@pytest.fixture
def env(sandbox: Sandbox) -> Env:
    return Env(sandbox)


@pytest.fixture
def make_env() -> Callable[[Sandbox], Env]:
    return Env


def pytest_report_header() -> list[str]:
    return [f"WI_WIZARD_HOME isolated per test; kubectl: {os.environ.get('KUBECTL', 'kubectl')}"]


@pytest.fixture
def other_process() -> Iterator[int]:
    """The PID of a live process that is not this one: it stands for another wi-wizard holding a session."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield child.pid
    finally:
        child.kill()
        child.wait()


def dead_pid() -> int:
    """The PID of a process that has just ended (a lock left by a crashed wi-wizard)."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                           check=True)
    return int(child.stdout)
