"""`wi-wizard sandbox …` as a person runs it: a real process (`python -m wizard`), real signals, real files.

Start-up time is printed (and recorded as a test property) but never asserted: speed goals are benchmarks.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.test_hygiene import listening_addresses

STARTUP_TIMEOUT = 60.0


def wizard_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "wizard", *args]


def run(*args: str, home: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(wizard_cmd(*args), check=False, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "WI_WIZARD_HOME": str(home)}, stdin=subprocess.DEVNULL)


def bash(script: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a bash script as a user's shell would (for `eval "$(wi-wizard sandbox env)"`)."""
    return subprocess.run(["bash", "-c", script], check=False, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})


def assert_clean_failure(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    """Failed with `code`, said why (every needle in the message), and showed no traceback."""
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "Traceback" not in output, output
    assert "Error:" in result.stderr, output
    for needle in needles:
        assert needle in output, f"{needle!r} not in {output!r}"


@dataclass
class Served:
    proc: subprocess.Popen[str]
    state_dir: Path
    home: Path
    endpoints: dict[str, Any]
    startup_seconds: float

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str, str]:
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=60)
        return self.proc.returncode, out, err


def serve(state_dir: Path, home: Path, *extra: str) -> Served:
    """Start `sandbox serve` and wait for endpoints.json, which the contract says appears once it accepts."""
    endpoints_file = state_dir / "endpoints.json"
    started = time.monotonic()
    proc = subprocess.Popen(wizard_cmd("sandbox", "serve", "--state-dir", str(state_dir), *extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                            env={**os.environ, "WI_WIZARD_HOME": str(home)})
    while not endpoints_file.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"serve exited with {proc.returncode} before writing endpoints.json:\n{out}{err}")
        if time.monotonic() - started > STARTUP_TIMEOUT:
            proc.kill()
            raise AssertionError(f"no endpoints.json after {STARTUP_TIMEOUT} s")
        time.sleep(0.02)
    seconds = time.monotonic() - started
    return Served(proc, state_dir, home, json.loads(endpoints_file.read_text()), seconds)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One `sandbox serve` process shared by the tests that only look at it."""
    box = serve(tmp_path_factory.mktemp("cli-state"), tmp_path_factory.mktemp("cli-home"))
    try:
        yield box
    finally:
        if box.proc.poll() is None:
            box.stop()


def test_serve_writes_endpoints_json_per_the_contract(served: Served, record_property: Any) -> None:
    print(f"sandbox serve: endpoints.json appeared after {served.startup_seconds:.2f} s")
    record_property("endpoints_json_seconds", round(served.startup_seconds, 3))
    e = served.endpoints
    base = e["authority_host"]
    assert base.startswith("https://127.0.0.1:")
    assert e["resource_manager"] == base + "/"
    assert e["microsoft_graph"] == base + "/"
    assert Path(e["ca_bundle"]).is_absolute() and Path(e["ca_bundle"]).read_text().startswith("-----BEGIN")
    assert Path(e["kubeconfig"]).is_absolute() and Path(e["kubeconfig"]).exists()
    tenants = {t["name"]: t for t in e["tenants"]}
    assert set(tenants) == {"contoso", "fabrikam"}
    for name, t in tenants.items():
        assert t["domain"] == f"{name}.onmicrosoft.com"
        assert len(t["tenant_id"]) == 36
        assert t["subscriptions"] and all(len(s["subscription_id"]) == 36 and s["name"] for s in t["subscriptions"])
        assert t["service_principal"]["client_id"] and t["service_principal"]["client_secret"]
        assert t["user"]["username"].endswith(f"@{name}.onmicrosoft.com")
    assert tenants["contoso"]["subscriptions"][0]["name"] == "contoso-platform"
    assert tenants["fabrikam"]["subscriptions"][0]["name"] == "fabrikam-shared"


def test_endpoints_json_is_readable_by_its_owner_only(served: Served) -> None:
    assert stat.S_IMODE((served.state_dir / "endpoints.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(served.state_dir.stat().st_mode) == 0o700


def test_serve_listens_on_127_0_0_1_only(served: Served) -> None:
    port = int(served.endpoints["authority_host"].rsplit(":", 1)[1])
    assert listening_addresses(port) == ["127.0.0.1"]
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass


def test_the_sandbox_answers_a_real_client_over_its_ca(served: Served) -> None:
    """The file is written once the sandbox accepts: an OIDC discovery request over verified TLS succeeds."""
    import requests

    e = served.endpoints
    tenant = e["tenants"][0]["tenant_id"]
    answer = requests.get(f"{e['authority_host']}/{tenant}/v2.0/.well-known/openid-configuration",
                          verify=e["ca_bundle"], timeout=10)
    assert answer.status_code == 200
    assert answer.json()["token_endpoint"].startswith(e["authority_host"] + "/")


def test_env_output_can_be_evaled_by_bash(served: Served) -> None:
    script = ('eval "$(' + " ".join(wizard_cmd("sandbox", "env", "--state-dir", str(served.state_dir)))
              + ')"; echo "$AZURE_AUTHORITY_HOST|$REQUESTS_CA_BUNDLE|$KUBECONFIG|$AZURE_CONFIG_DIR"')
    result = bash(script, WI_WIZARD_HOME=str(served.home))
    assert result.returncode == 0, result.stderr
    authority, ca, kubeconfig, az_dir = result.stdout.strip().split("|")
    assert authority == served.endpoints["authority_host"]
    assert ca == served.endpoints["ca_bundle"]
    assert kubeconfig == served.endpoints["kubeconfig"]
    assert Path(az_dir).parent == served.state_dir, "az config lives in the sandbox, not in ~/.azure"


def test_env_for_a_tenant_exports_its_service_principal(served: Served) -> None:
    script = ('eval "$(' + " ".join(wizard_cmd("sandbox", "env", "--state-dir", str(served.state_dir),
                                               "--tenant", "fabrikam.onmicrosoft.com"))
              + ')"; echo "$AZURE_TENANT_ID|$AZURE_CLIENT_ID|$AZURE_CLIENT_SECRET|$AZURE_SUBSCRIPTION_ID"')
    result = bash(script)
    assert result.returncode == 0, result.stderr
    fabrikam = next(t for t in served.endpoints["tenants"] if t["name"] == "fabrikam")
    assert result.stdout.strip().split("|") == [
        fabrikam["tenant_id"], fabrikam["service_principal"]["client_id"],
        fabrikam["service_principal"]["client_secret"], fabrikam["subscriptions"][0]["subscription_id"]]


def test_env_with_az_registers_and_selects_the_sandbox_cloud(served: Served) -> None:
    """Evaluated in bash with `az` recording its arguments: the commands are well-formed shell and name this
    sandbox's endpoints; instance discovery is switched off; the user's own az config dir is not used."""
    script = ('az() { echo "az $*" >> "$AZ_LOG"; [ "$1 $2" != "cloud show" ]; }; '
              'eval "$(' + " ".join(wizard_cmd("sandbox", "env", "--az", "--state-dir", str(served.state_dir)))
              + ')"; echo "config=$AZURE_CONFIG_DIR"')
    log = served.home / "az.log"
    result = bash(script, AZ_LOG=str(log))
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    base = served.endpoints["authority_host"]
    assert calls[0] == "az config set core.instance_discovery=false --only-show-errors"
    assert calls[1] == "az cloud show -n WiWizardSandbox"
    assert calls[2].startswith("az cloud register -n WiWizardSandbox ")
    assert f"--endpoint-resource-manager {base}/" in calls[2]
    assert f"--endpoint-active-directory {base} " in calls[2]
    assert f"--endpoint-microsoft-graph-resource-id {base}/" in calls[2]
    assert calls[3] == "az cloud set -n WiWizardSandbox --only-show-errors"
    assert f"config={served.state_dir / 'azure-cli'}" in result.stdout


def test_env_for_an_unknown_tenant_says_which_tenants_exist(served: Served) -> None:
    result = run("sandbox", "env", "--state-dir", str(served.state_dir), "--tenant", "northwind", home=served.home)
    assert_clean_failure(result, 2, "northwind", "contoso", "fabrikam")


def test_a_second_serve_on_the_same_state_dir_is_refused(served: Served) -> None:
    before = (served.state_dir / "endpoints.json").read_text()
    result = run("sandbox", "serve", "--state-dir", str(served.state_dir), home=served.home)
    assert_clean_failure(result, 1, "already running", str(served.state_dir), "--state-dir")
    assert (served.state_dir / "endpoints.json").read_text() == before, "the running sandbox is left alone"


def test_reset_refuses_while_the_sandbox_runs(served: Served) -> None:
    result = run("sandbox", "reset", "--yes", "--state-dir", str(served.state_dir), home=served.home)
    assert_clean_failure(result, 1, "is running", "stop it")
    assert (served.state_dir / "world.db").exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_serve_cleanly_and_removes_endpoints_json(tmp_path: Path, sig: int) -> None:
    box = serve(tmp_path / "state", tmp_path)
    code, out, err = box.stop(sig)
    assert code == 0, err
    assert "Traceback" not in out + err
    assert "Sandbox stopped." in out
    assert not (box.state_dir / "endpoints.json").exists()
    assert (box.state_dir / "world.db").exists(), "the world is kept for the next start"


def test_reset_forgets_the_world_but_keeps_the_ca(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = serve(state, tmp_path)
    first.stop()
    ca = (state / "ca.pem").read_bytes()

    result = run("sandbox", "reset", "--yes", "--state-dir", str(state), home=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "forgotten" in result.stdout
    assert not (state / "world.db").exists()
    assert (state / "ca.pem").read_bytes() == ca
    again = run("sandbox", "reset", "--yes", "--state-dir", str(state), home=tmp_path)
    assert again.returncode == 0 and "Nothing to forget" in again.stdout


def test_serve_on_a_port_in_use_says_so(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run("sandbox", "serve", "--state-dir", str(tmp_path / "s"), "--port", str(port), home=tmp_path)
    assert_clean_failure(result, 1, f"port {port}", "already in use", "--port")


def test_serve_on_a_state_dir_that_cannot_be_created_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run("sandbox", "serve", "--state-dir", str(blocker / "state"), home=tmp_path)
    assert_clean_failure(result, 1, "state dir", "--state-dir")


@pytest.mark.parametrize(("args", "needles"), [
    (["--faults", "lightning"], ["--faults", "lightning", "throttle"]),
    (["--faults", "throttle=soon"], ["--faults", "soon"]),
    (["--faults", "drop=3"], ["--faults", "takes no time"]),
    (["--scenario", "atlantis"], ["--scenario", "atlantis", "default"]),
    (["--port", "70000"], ["--port"]),
    (["--lro-seconds", "-1"], ["--lro-seconds"]),
    (["--kubelet-speed", "0"], ["--kubelet-speed"]),
    (["--no-such-flag"], ["--no-such-flag"]),
], ids=["unknown-fault", "fault-time-not-a-number", "fault-without-time", "unknown-scenario", "port-range",
        "negative-lro", "zero-kubelet-speed", "unknown-option"])
def test_bad_serve_flags_exit_2_with_a_message(tmp_path: Path, args: list[str], needles: list[str]) -> None:
    state = tmp_path / "state"
    result = run("sandbox", "serve", "--state-dir", str(state), *args, home=tmp_path)
    assert_clean_failure(result, 2, *needles)
    assert not state.exists(), "a refused command leaves nothing behind"


def test_a_broken_scenario_file_is_refused_before_anything_starts(tmp_path: Path) -> None:
    scenario = tmp_path / "mine.toml"
    scenario.write_text('seed = "x"\n[[tenants]]\nname = "contoso"\ncolour = "blue"\n')
    result = run("sandbox", "serve", "--state-dir", str(tmp_path / "state"), "--scenario", str(scenario),
                 home=tmp_path)
    assert_clean_failure(result, 2, "--scenario", "colour")


def test_env_without_a_running_sandbox_says_how_to_start_one(tmp_path: Path) -> None:
    result = run("sandbox", "env", "--state-dir", str(tmp_path / "nothing"), home=tmp_path)
    assert_clean_failure(result, 1, "no running sandbox", "wi-wizard sandbox serve")


def test_env_refuses_a_stale_endpoints_file(tmp_path: Path) -> None:
    """endpoints.json left by a sandbox that was killed outright is not mistaken for a running one."""
    box = serve(tmp_path / "state", tmp_path)
    box.proc.kill()
    box.proc.communicate(timeout=30)
    assert (box.state_dir / "endpoints.json").exists()
    result = run("sandbox", "env", "--state-dir", str(box.state_dir), home=tmp_path)
    assert_clean_failure(result, 1, "stale", "wi-wizard sandbox serve")


def test_wi_wizard_home_relocates_the_default_state_dir(tmp_path: Path) -> None:
    result = run("sandbox", "env", home=tmp_path)
    assert_clean_failure(result, 1, str(tmp_path / "sandbox" / "endpoints.json"))


def test_wi_wizard_dash_dash_sandbox_opens_the_wizard_marked_sandbox(tmp_path: Path) -> None:
    """`make run` runs `wi-wizard --sandbox`: the wizard's screens (here on Textual's headless driver, which saves
    a screenshot and exits), with the SANDBOX banner; no sandbox is started before a session needs one."""
    shots = tmp_path / "shots"
    shots.mkdir()
    env = {**os.environ, "WI_WIZARD_HOME": str(tmp_path),
           "TEXTUAL_DRIVER": "textual.drivers.headless_driver:HeadlessDriver",
           "TEXTUAL_SCREENSHOT": "1", "TEXTUAL_SCREENSHOT_LOCATION": str(shots),
           "TEXTUAL_SCREENSHOT_FILENAME": "welcome.svg", "COLUMNS": "100", "LINES": "30"}
    result = subprocess.run(wizard_cmd("--sandbox"), capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    svg = (shots / "welcome.svg").read_text()
    assert "SANDBOX" in svg and "Traceback" not in result.stderr
    assert not (tmp_path / "sandbox" / "endpoints.json").exists()


def test_serve_reports_the_fault_profile_it_runs_with(tmp_path: Path) -> None:
    box = serve(tmp_path / "state", tmp_path, "--faults", "Throttle=2, role-propagation", "--lro-seconds", "0.5",
                "--kubelet-speed", "4")
    code, out, _ = box.stop()
    assert code == 0
    assert box.endpoints["faults"] == "role-propagation=5,throttle=2"
    assert "(faults: role-propagation=5,throttle=2)" in out


@pytest.mark.skipif(shutil.which("az") is None, reason="the Azure CLI (az) is not on PATH; it is not a dependency")
def test_the_real_azure_cli_signs_in_to_the_sandbox_after_env_az(served: Served) -> None:
    """With a real `az` installed: the printed set-up registers the cloud, and a service-principal login and a
    subscription listing go to the sandbox (verified TLS through REQUESTS_CA_BUNDLE)."""
    script = ('eval "$(' + " ".join(wizard_cmd("sandbox", "env", "--az", "--tenant", "fabrikam",
                                               "--state-dir", str(served.state_dir))) + ')" && '
              'az login --service-principal -u "$AZURE_CLIENT_ID" -p "$AZURE_CLIENT_SECRET" '
              '--tenant "$AZURE_TENANT_ID" -o none && az account list --query "[].id" -o tsv')
    result = bash(script)
    assert result.returncode == 0, result.stderr
    fabrikam = next(t for t in served.endpoints["tenants"] if t["name"] == "fabrikam")
    assert result.stdout.split() == [fabrikam["subscriptions"][0]["subscription_id"]]
    assert (served.state_dir / "azure-cli" / "azureProfile.json").exists(), "az wrote into the sandbox's config"


def test_a_state_dir_seeded_with_another_scenario_refuses_a_different_one(tmp_path: Path) -> None:
    from importlib import resources

    mine = tmp_path / "mine.toml"
    mine.write_text(resources.files("wizard.sandbox.scenarios").joinpath("default.toml").read_text())
    state = tmp_path / "state"
    code, _, err = serve(state, tmp_path, "--scenario", str(mine)).stop()
    assert code == 0, err

    result = run("sandbox", "serve", "--state-dir", str(state), "--scenario", "default", home=tmp_path)

    assert_clean_failure(result, 1, "seeded with scenario", "wi-wizard sandbox reset")


def test_stop_ends_a_background_sandbox_and_is_quiet_when_none_runs(tmp_path: Path) -> None:
    box = serve(tmp_path / "state", tmp_path)

    result = run("sandbox", "stop", "--state-dir", str(box.state_dir), home=tmp_path)

    assert result.returncode == 0, result.stderr
    assert f"pid {box.proc.pid}" in result.stdout
    assert box.proc.wait(timeout=30) == 0, "stopped cleanly (SIGTERM), not killed"
    assert not (box.state_dir / "endpoints.json").exists()
    again = run("sandbox", "stop", "--state-dir", str(box.state_dir), home=tmp_path)
    assert again.returncode == 0 and "No sandbox runs" in again.stdout


def test_stop_refuses_to_signal_a_program_that_embeds_the_sandbox(tmp_path: Path,
                                                                   make_sandbox: Any) -> None:
    """A sandbox running inside another program (here: this test process) is that program's to stop."""
    box = make_sandbox(state_dir=tmp_path / "state")
    result = run("sandbox", "stop", "--state-dir", str(box.state_dir), home=tmp_path)
    assert_clean_failure(result, 1, f"process {os.getpid()}", "not a `wi-wizard sandbox serve`")
    assert (box.state_dir / "endpoints.json").exists()
