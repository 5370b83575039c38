"""The known images on their own: which image references they play, and how they fail when the pod's
environment is incomplete (run as the real processes the kubelet starts, without a sandbox)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import wizard
from wizard.sandbox.images import image_digest, markers, module_for

ROOT = str(Path(wizard.__file__).resolve().parent.parent)


@pytest.mark.parametrize(("image", "module"), [
    ("ttl.sh/wi-demo-app:1h", "wizard.sandbox.images.quota_reader"),
    ("ttl.sh/wi-demo:latest", "wizard.sandbox.images.quota_reader"),
    ("mcr.microsoft.com/azure-cli:2.67.0", "wizard.sandbox.images.probe"),
    ("mcr.microsoft.com/azure-cli", "wizard.sandbox.images.probe"),
    ("busybox", None),
    ("ttl.sh/other:1h", None),
    ("docker.io/ttl.sh/wi-demo", None),
])
def test_known_images_map_to_their_modules(image: str, module: str | None) -> None:
    assert module_for(image) == module


def test_known_images_have_stable_distinct_digests() -> None:
    assert image_digest("ttl.sh/wi-demo:1h") == image_digest("ttl.sh/wi-demo-app:2h")
    assert image_digest("ttl.sh/wi-demo:1h") != image_digest("mcr.microsoft.com/azure-cli")


def run_image(module: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": ROOT, "HOME": "/nonexistent",
             "WI_SANDBOX_ARM": "https://127.0.0.1:9", **env}
    return subprocess.run([sys.executable, "-m", f"wizard.sandbox.images.{module}"], env=clean,
                          capture_output=True, text=True, timeout=60, check=False)


def test_probe_without_workload_identity_env_reports_an_error_line_and_exits_1() -> None:
    result = run_image("probe", AZURE_SUBSCRIPTION_ID="00000000-0000-0000-0000-000000000001")

    lines = result.stdout.splitlines()
    assert result.returncode == 1
    assert lines[0] == markers.PROBE_PREFIX + markers.PROBE_EXCHANGING.format(client_id="(not set)",
                                                                               tenant_id="(not set)")
    assert lines[-1].startswith(f"{markers.PROBE_PREFIX}{markers.PROBE_ERROR} WorkloadIdentityCredential")
    assert "Missing required arguments" in lines[-1]
    assert len(lines) == 2


def test_quota_reader_without_its_settings_says_which_are_missing_and_exits_1() -> None:
    result = run_image("quota_reader", AZURE_REGION="eastus")

    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"{markers.QUOTA_ERROR_PREFIX}missing environment variables: "
                                          "AZURE_SUBSCRIPTION_ID"]


def test_quota_reader_without_a_federated_identity_logs_the_credential_error_and_exits_1() -> None:
    result = run_image("quota_reader", AZURE_SUBSCRIPTION_ID="00000000-0000-0000-0000-000000000001",
                       AZURE_REGION="eastus")

    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith(markers.QUOTA_ERROR_PREFIX + "DefaultAzureCredential failed to retrieve a token")
    assert "WorkloadIdentityCredential" in result.stdout

