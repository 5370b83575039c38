"""`wi-wizard doctor`: each check's verdict and fix on the sandbox's real endpoints and on broken environments."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import Env
from tests.engine.support import sandbox_cloud, seed_plan
from wizard import doctor, target
from wizard.cli import main
from wizard.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed-cross-tenant.toml"


def _by_check(findings: list[doctor.Finding]) -> dict[str, doctor.Finding]:
    return {f.check: f for f in findings}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_on_the_sandbox_the_endpoints_answer_and_the_clock_agrees(sandbox: Sandbox, tmp_path: Path) -> None:
    cloud = sandbox_cloud(sandbox)

    findings = _by_check(doctor.run(cloud, environ={"PATH": str(tmp_path), "HOME": str(tmp_path)}, timeout=5))

    assert findings["python"].status == "ok"
    assert findings["arm"].status == "ok" and cloud.arm_url in findings["arm"].summary
    assert findings["entra"].status == "ok" and cloud.authority in findings["entra"].summary
    assert findings["clock"].status == "ok"
    assert findings["az"].status == "ok" and "not needed on the sandbox" in findings["az"].summary
    assert "sandbox env" in findings["kubeconfig"].fix  # no contexts here: how to get the sandbox's
    assert findings["keyring"].status in {"ok", "warn"}


def test_a_clock_ten_minutes_off_is_a_warning_saying_tokens_will_fail(sandbox: Sandbox, tmp_path: Path) -> None:
    late = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)

    findings = _by_check(doctor.run(sandbox_cloud(sandbox), environ={"PATH": str(tmp_path), "HOME": str(tmp_path)},
                                    now=lambda: late))

    clock = findings["clock"]
    assert clock.status == "warn"
    assert "ahead of the servers" in clock.summary
    assert "Sync the clock" in clock.fix and "refuses tokens" in clock.fix


def test_an_endpoint_on_a_closed_port_fails_with_what_to_fix(sandbox: Sandbox, tmp_path: Path) -> None:
    port = _closed_port()
    cloud = dataclasses.replace(sandbox_cloud(sandbox), arm_url=f"https://127.0.0.1:{port}",
                                authority=f"https://127.0.0.1:{port}")

    findings = doctor.run(cloud, environ={"PATH": str(tmp_path), "HOME": str(tmp_path)}, timeout=2)

    checks = _by_check(findings)
    for name in ("arm", "entra"):
        assert checks[name].status == "fail"
        assert f"127.0.0.1:{port}" in checks[name].summary
        assert "wi-wizard sandbox serve" in checks[name].fix
    assert checks["clock"].status == "warn"  # nothing answered: unknown, not wrong
    assert doctor.exit_code(findings) == 1


def test_real_azure_unreachable_asks_for_network_and_proxy_not_the_sandbox() -> None:
    answer = doctor.Answer("https://management.azure.com" + doctor.ARM_METADATA, error="[Errno -2] Name unknown")

    found = doctor.reachability("arm", answer, target.real())

    assert found.status == "fail"
    assert "HTTPS_PROXY" in found.fix and "sandbox" not in found.fix
    tls = doctor.reachability("entra", dataclasses.replace(answer, error="[SSL: CERTIFICATE_VERIFY_FAILED]"),
                              target.real())
    assert "REQUESTS_CA_BUNDLE" in tls.fix and "rather than turning verification off" in tls.fix


def test_without_az_on_path_real_azure_warns_and_names_the_device_code_alternative(tmp_path: Path) -> None:
    found = doctor.az_checks(target.real(), seed_plan(), {"PATH": str(tmp_path)})

    assert [(f.check, f.status) for f in found] == [("az", "warn")]
    assert "not found on PATH" in found[0].summary
    assert "az login --tenant" in found[0].fix and "--login device-code" in found[0].fix


# What `az account list --all -o json` prints (fields trimmed to those read; it never prints tokens).
ACCOUNTS = [
    {"id": "635cd26e-7ec3-41f4-80bd-176459f11e99", "tenantId": "A28BDC64-6578-4235-9D03-5754ADE8D8B7",
     "user": {"name": "alex@contoso.com", "type": "user"}, "state": "Enabled", "isDefault": True},
    {"id": "9b3d1a2e-7ec3-41f4-80bd-176459f11e99", "tenantId": "a28bdc64-6578-4235-9d03-5754ade8d8b7",
     "user": {"name": "alex@contoso.com", "type": "user"}, "state": "Enabled", "isDefault": False},
]
TENANT_A, TENANT_B = "a28bdc64-6578-4235-9d03-5754ade8d8b7", "b61ff71d-b1d1-4b23-aa1e-52a18e70d50e"


def test_az_logins_name_which_plan_tenant_is_not_signed_in_and_the_command_to_fix_it() -> None:
    missing = doctor.az_login_check(ACCOUNTS, {"cluster.tenant": TENANT_A, "identity.tenant": TENANT_B})
    both = doctor.az_login_check([*ACCOUNTS, {"tenantId": TENANT_B, "user": {"name": "megan@fabrikam.com"}}],
                                 {"cluster.tenant": TENANT_A, "identity.tenant": TENANT_B})
    none = doctor.az_login_check([], {})
    broken = doctor.az_login_check(None, {}, "ERROR: Please run 'az login' to setup account.")

    assert missing.status == "warn"
    assert f"not to identity.tenant {TENANT_B}" in missing.summary
    assert f"`az login --tenant {TENANT_B}`" in missing.fix
    assert f"{TENANT_A} (alex@contoso.com)" in missing.summary  # one line per tenant, case-insensitive
    assert both.status == "ok" and "the plan's tenants (cluster.tenant, identity.tenant) are signed in" in both.summary
    assert none.status == "warn" and "not signed in" in none.summary
    assert broken.status == "warn" and "az login" in broken.summary


def test_a_bogus_kubeconfig_fails_and_says_to_point_kubeconfig_at_a_valid_file(tmp_path: Path) -> None:
    bogus = tmp_path / "config"
    bogus.write_text("clusters: [unclosed\n\tbad: : :")
    missing = tmp_path / "nowhere"
    not_a_config = tmp_path / "list.yaml"
    not_a_config.write_text("- just\n- a list\n")

    for value in (str(bogus), str(not_a_config), str(tmp_path), f"{missing}:{bogus}"):
        found = doctor.kubeconfig_check({"KUBECONFIG": value}, None, target.real())
        assert found.status == "fail", value
        assert value.split(":")[-1] in found.summary
        assert "KUBECONFIG" in found.fix
    # kubectl skips a missing file of the list, so that alone is no failure; the warning names it.
    alone = doctor.kubeconfig_check({"KUBECONFIG": str(missing)}, None, target.real())
    assert alone.status == "warn" and f"{missing} (absent)" in alone.summary


def test_the_sandbox_kubeconfig_lists_contexts_and_finds_the_plan_cluster(sandbox: Sandbox) -> None:
    cloud = sandbox_cloud(sandbox)
    environ = {"KUBECONFIG": sandbox.kubeconfig}

    with_cluster = doctor.kubeconfig_check(environ, seed_plan(), cloud)
    other = doctor.kubeconfig_check(environ, seed_plan(cluster={"name": "aks-elsewhere"}), cloud)

    assert with_cluster.status == "ok"
    assert "the plan's cluster aks-wi-demo has a context" in with_cluster.summary
    assert "current: " in with_cluster.summary
    assert other.status == "warn"
    assert "az aks get-credentials --resource-group rg-wi-demo --name aks-elsewhere" in other.fix


def test_json_output_has_one_entry_per_check_and_the_exit_code_follows_failures(
        sandbox: Sandbox, env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KUBECONFIG", sandbox.kubeconfig)
    endpoints = str(Path(sandbox.state_dir) / "endpoints.json")

    result = CliRunner().invoke(main, ["doctor", "--sandbox-endpoints", endpoints, "--plan", str(SEED), "--json"])

    data = json.loads(result.output)
    assert set(data) == {"target", "ok", "checks"}
    assert data["target"] == "sandbox"
    assert [c["check"] for c in data["checks"]] == ["python", "az", "kubeconfig", "arm", "entra", "clock", "keyring"]
    for check in data["checks"]:
        assert set(check) == {"check", "status", "summary", "fix"}
        assert check["status"] in {"ok", "warn", "fail"}
        assert (check["fix"] == "") == (check["status"] == "ok")
    assert data["ok"] is True and result.exit_code == 0
    assert "eyJ" not in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["doctor", "--plan", "/nonexistent/plan.toml", "--sandbox-endpoints", "{endpoints}"], "does not exist"),
    (["doctor", "--sandbox"], "wi-wizard sandbox serve"),  # no sandbox runs in this test's WI_WIZARD_HOME
    (["doctor", "--sandbox-endpoints", "/nonexistent/endpoints.json"], "does not exist"),
])
def test_bad_input_is_one_clear_message_and_exit_1_never_a_traceback(sandbox: Sandbox, args: list[str],
                                                                     message: str) -> None:
    endpoints = str(Path(sandbox.state_dir) / "endpoints.json")

    result = CliRunner().invoke(main, [a.replace("{endpoints}", endpoints) for a in args])

    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_usage_errors_exit_2_with_clicks_message() -> None:
    result = CliRunner().invoke(main, ["doctor", "--timeout", "nope"])
    both = CliRunner().invoke(main, ["doctor", "--sandbox", "--sandbox-endpoints", "x.json"])

    assert result.exit_code == 2 and "--timeout" in result.output
    assert both.exit_code == 2 and "not both" in both.output


def test_an_endpoints_file_naming_a_missing_ca_fails_the_network_checks_without_a_traceback(
        sandbox: Sandbox, tmp_path: Path) -> None:
    data = json.loads((Path(sandbox.state_dir) / "endpoints.json").read_text())
    data["ca_bundle"] = str(tmp_path / "gone.pem")
    broken = tmp_path / "endpoints.json"
    broken.write_text(json.dumps(data))

    result = CliRunner().invoke(main, ["doctor", "--sandbox-endpoints", str(broken), "--json"])

    checks = {c["check"]: c for c in json.loads(result.output)["checks"]}
    assert result.exit_code == 1
    assert checks["arm"]["status"] == checks["entra"]["status"] == "fail"
    assert "No such file" in checks["arm"]["summary"]
