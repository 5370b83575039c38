"""How the logs step judges what a workload prints (pure functions: no cluster needed), and the probe's real shell
script: it prints the lines the sandbox's emulation prints, so the same judge reads both.

The script test stands an `az` shell function in for the Azure CLI binary (absent here) to drive the script's own
control flow: what it passes to `az login`/`az rest` and how it reports success and errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

from wizard.sandbox.images import markers
from wizard.workloads import (
    EVIDENCE_LIMIT,
    PROBE_COMMAND,
    PROBE_ERROR,
    PROBE_OK,
    PROBE_PREFIX,
    QUOTA_ERROR_PREFIX,
    QUOTA_LIMIT_PREFIX,
    QUOTA_USAGE_PREFIX,
    Judge,
    restart_policy,
)

PROBE, QUOTA, CUSTOM = "mcr.microsoft.com/azure-cli:2.91.0", "ttl.sh/wi-demo-app:1h", "contoso.azurecr.io/app:3"
CLIENT, TENANT = "11111111-2222-3333-4444-555555555555", "66666666-7777-8888-9999-000000000000"
SUB = "/subscriptions/s1"


def test_the_engine_reads_the_markers_the_sandbox_images_print() -> None:
    assert (PROBE_PREFIX, PROBE_OK, PROBE_ERROR) == (markers.PROBE_PREFIX, markers.PROBE_OK, markers.PROBE_ERROR)
    assert (QUOTA_LIMIT_PREFIX, QUOTA_USAGE_PREFIX, QUOTA_ERROR_PREFIX) == (
        markers.QUOTA_LIMIT_PREFIX, markers.QUOTA_USAGE_PREFIX, markers.QUOTA_ERROR_PREFIX)


def test_probe_ok_is_proof_with_the_sign_in_and_the_read_as_evidence() -> None:
    judge = Judge(PROBE)
    for line in (f"wi-probe: exchanging the federated token of client {CLIENT} in tenant {TENANT}",
                 f"wi-probe: signed in to tenant {TENANT}", f"wi-probe: GET {SUB} -> 200", 'wi-probe: {"id":"x"}'):
        assert judge.feed(line) is None
    verdict = judge.feed("wi-probe: OK")
    assert verdict is not None and verdict.proven
    assert verdict.evidence == f"wi-probe: signed in to tenant {TENANT}\nwi-probe: GET {SUB} -> 200\nwi-probe: OK"


def test_probe_error_is_diagnosed_from_its_text() -> None:
    verdict = Judge(PROBE).feed("wi-probe: ERROR (AuthorizationFailed) The client 'x' with object id 'y' does not "
                                "have authorization to perform action 'Microsoft.Resources/subscriptions/read'")
    assert verdict is not None and not verdict.proven and verdict.diagnosis is not None
    assert (verdict.diagnosis.code, verdict.diagnosis.step) == ("AuthorizationFailed", "role")


def test_probe_error_nobody_knows_points_at_the_logs() -> None:
    verdict = Judge(PROBE).feed("wi-probe: ERROR something odd happened")
    assert verdict is not None and verdict.diagnosis is not None
    assert (verdict.diagnosis.code, verdict.diagnosis.step) == ("Unexpected", "logs")
    assert verdict.diagnosis.detail == "something odd happened"


def test_probe_that_exits_without_a_verdict_fails_naming_the_exit_code() -> None:
    judge = Judge(PROBE)
    judge.feed("wi-probe: exchanging the federated token")
    verdict = judge.finish(137, running=False)
    assert not verdict.proven and verdict.diagnosis is not None
    assert "exited with code 137" in verdict.diagnosis.detail


def test_quota_reader_needs_both_limit_and_usage() -> None:
    judge = Judge(QUOTA)
    assert judge.feed('limit: {"properties":{"limit":{"value":20}}}') is None
    verdict = judge.feed('usage: {"properties":{"usages":{"value":4}}}')
    assert verdict is not None and verdict.proven
    assert verdict.evidence.splitlines()[0].startswith("limit: ")


def test_quota_reader_error_line_is_diagnosed() -> None:
    verdict = Judge(QUOTA).feed("error: (invalid_request) AADSTS700016: Application with identifier 'x' was not "
                                "found in the directory 'contoso'.")
    assert verdict is not None and verdict.diagnosis is not None
    assert (verdict.diagnosis.code, verdict.diagnosis.step) == ("AADSTS700016", "deploy")


def test_quota_reader_error_spread_over_lines_is_diagnosed_from_the_telling_line() -> None:
    judge = Judge(QUOTA)
    assert judge.feed("error: DefaultAzureCredential failed to retrieve a token from the included credentials.") is None
    assert judge.feed("Attempted credentials:") is None
    verdict = judge.feed("\tWorkloadIdentityCredential: (invalid_client) AADSTS700213: No matching federated identity "
                         "record found for presented assertion subject 'system:serviceaccount:default:app-sa'.")
    assert verdict is not None and verdict.diagnosis is not None
    assert verdict.diagnosis.code == "AADSTS700213"
    assert verdict.diagnosis.detail.startswith("WorkloadIdentityCredential: (invalid_client) AADSTS700213")
    assert verdict.evidence.startswith("error: DefaultAzureCredential failed")


def test_quota_reader_error_nobody_knows_is_reported_whole_when_the_log_ends() -> None:
    judge = Judge(QUOTA)
    assert judge.feed("error: something odd") is None
    assert judge.feed("  more about it") is None
    verdict = judge.finish(1, running=False)
    assert not verdict.proven and verdict.diagnosis is not None
    assert verdict.diagnosis.detail == "error: something odd more about it"


def test_quota_reader_exiting_with_an_error_code_fails() -> None:
    verdict = Judge(QUOTA).finish(1, running=False)
    assert not verdict.proven and "exited with code 1" in verdict.evidence


def test_custom_image_passes_only_without_known_failures_and_says_it_is_not_proof() -> None:
    judge = Judge(CUSTOM)
    assert judge.feed("listening on :8080") is None
    running = judge.finish(None, running=True)
    assert running.proven and "success is not provable for a custom image" in running.summary
    assert Judge(CUSTOM).finish(0, running=False).proven
    assert not Judge(CUSTOM).finish(2, running=False).proven
    failed = Judge(CUSTOM).feed("fatal: AADSTS700213: No matching federated identity record found")
    assert failed is not None and failed.diagnosis is not None and failed.diagnosis.code == "AADSTS700213"


def test_evidence_is_bounded_and_never_holds_a_token() -> None:
    judge = Judge(QUOTA)
    judge.feed("limit: " + "x" * 800)
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0iLCJ4IjoxfQ.c2lnbmF0dXJlc2lnbmF0dXJl"
    verdict = judge.feed(f"usage: {{\"token\":\"{token}\"}}")
    assert verdict is not None and verdict.proven
    assert len(verdict.evidence) <= EVIDENCE_LIMIT
    assert token not in verdict.evidence and "usage: " in verdict.evidence


def test_only_the_probe_runs_once() -> None:
    assert restart_policy(PROBE) == "Never"
    assert restart_policy(QUOTA) == restart_policy(CUSTOM) == "OnFailure"


# -- the probe's shell script -----------------------------------------------------------------------------------

AZ_OK = """az() {
  echo "az $*" >> "$AZ_LOG"
  case "$1 $2" in
    "login --service-principal") return 0 ;;
    "account show") echo "$AZURE_TENANT_ID" ;;
    "rest --method") printf '{\\n  "id": "%s"\\n}\\n' "$WI_PROBE_RESOURCE" ;;
  esac
}
"""
AZ_LOGIN_FAILS = """az() {
  echo "ERROR: AADSTS700016: Application with identifier 'x' was not found in the directory 'y'." >&2
  echo "Trace ID: 0000" >&2
  return 1
}
"""


def _run_probe(tmp_path: Path, az: str) -> tuple[list[str], list[str], int]:
    token = tmp_path / "token"
    token.write_text("the-projected-token")
    log = tmp_path / "az.log"
    env = {"PATH": "/usr/bin:/bin", "AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": TENANT,
           "AZURE_FEDERATED_TOKEN_FILE": str(token), "WI_PROBE_RESOURCE": SUB, "AZ_LOG": str(log)}
    shell, flag, script = PROBE_COMMAND
    done = subprocess.run([shell, flag, az + script], env=env, capture_output=True, text=True, timeout=30,
                          check=False)
    calls = log.read_text().splitlines() if log.exists() else []
    return done.stdout.splitlines(), calls, done.returncode


def test_probe_script_signs_in_with_the_federated_token_and_reads_the_resource(tmp_path: Path) -> None:
    lines, calls, code = _run_probe(tmp_path, AZ_OK)

    assert code == 0
    assert calls[0] == (f"az login --service-principal -u {CLIENT} -t {TENANT} --federated-token the-projected-token "
                        "--allow-no-subscriptions --output none")
    assert calls[-1] == f"az rest --method get --url https://management.azure.com{SUB}?api-version=2022-12-01"
    assert lines == [
        markers.PROBE_PREFIX + markers.PROBE_EXCHANGING.format(client_id=CLIENT, tenant_id=TENANT),
        markers.PROBE_PREFIX + markers.PROBE_SIGNED_IN.format(tenant_id=TENANT),
        markers.PROBE_PREFIX + markers.PROBE_GET.format(resource=SUB, status=200),
        f'wi-probe: {{ "id": "{SUB}" }}',
        "wi-probe: OK",
    ]
    judge = Judge(PROBE)
    verdicts = [v for v in map(judge.feed, lines) if v is not None]
    assert len(verdicts) == 1 and verdicts[0].proven


def test_probe_script_reports_a_failed_sign_in_on_one_error_line_and_exits_1(tmp_path: Path) -> None:
    lines, _, code = _run_probe(tmp_path, AZ_LOGIN_FAILS)

    assert code == 1
    assert lines[-1] == ("wi-probe: ERROR ERROR: AADSTS700016: Application with identifier 'x' was not found in the "
                         "directory 'y'. Trace ID: 0000")
    verdict = Judge(PROBE).feed(lines[-1])
    assert verdict is not None and verdict.diagnosis is not None and verdict.diagnosis.code == "AADSTS700016"
