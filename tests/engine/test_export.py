"""`wizard.export` on a real finished seed session (one `wi-wizard apply` of the seed plan on a private sandbox for
the module): the bash script is valid bash whose every command carries the session's values; the manifests,
applied with kubectl after deleting the wizard's pod, give the pod and ServiceAccount the wizard applied; the
Terraform is what `terraform fmt -check` accepts and holds the exact values; no export carries a secret.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.engine.cli_support import ROOT, SEED_PLAN, applied_world, kubectl
from wizard import export
from wizard.export.hcl import Attr, Block, Map, document, string
from wizard.sandbox import Sandbox
from wizard.session import Session, SessionStore

SESSION = "seed-export"


@dataclass(frozen=True)
class Seeded:
    box: Sandbox
    home: Path  # WI_WIZARD_HOME holding the finished session
    session: Session

    def values(self, step: str) -> dict[str, str]:
        return self.session.outcomes[step].values

    def secrets(self) -> list[str]:
        return [t["service_principal"]["client_secret"] for t in self.box.endpoints()["tenants"]
                if t.get("service_principal")]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    with applied_world(tmp_path_factory, "export", SEED_PLAN, SESSION) as (box, home):
        yield Seeded(box, home, SessionStore(home / "sessions").load(SESSION))


def commands(script: str) -> list[str]:
    """The script's commands, one per logical line (heredoc bodies and comments left out)."""
    found, heredoc = [], None
    for line in script.splitlines():
        if heredoc is not None:
            heredoc = None if line == heredoc else heredoc
            continue
        if match := re.search(r"<<'?(\w+)'?$", line):
            heredoc = match.group(1)
        if line.strip() and not line.lstrip().startswith("#"):
            found.append(line.strip())
    return found


def words_after(command: str, flag: str) -> list[str]:
    """Every value given to `flag` in a command line (shell words, quotes removed)."""
    words = shlex.split(command.split(" #", 1)[0], posix=True) if "$(" not in command else command.split()
    return [words[n + 1] for n, word in enumerate(words[:-1]) if word == flag]


# -- the script -----------------------------------------------------------------------------------------------


def test_the_script_is_valid_bash_with_strict_mode_and_a_header_naming_session_target_and_dates(
        seeded: Seeded, tmp_path: Path) -> None:
    script = export.render(seeded.session, "script")
    path = tmp_path / "setup.sh"
    path.write_text(script)

    check = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)

    assert check.returncode == 0, check.stderr
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in script
    header = script.split("set -euo pipefail", 1)[0]
    assert f"session {SESSION}" in header and "Target: sandbox" in header
    assert seeded.session.created_at in header and seeded.session.updated_at in header


def test_every_az_command_of_the_script_names_the_sessions_subscriptions_tenants_and_values(seeded: Seeded) -> None:
    script = export.render(seeded.session, "script")
    lines = commands(script)
    cluster_sub = seeded.values("cluster")["subscription_id"]
    identity_sub = seeded.values("identity")["subscription_id"]
    login = seeded.values("login")
    identity, fic = seeded.values("identity"), seeded.values("federation")
    plan = seeded.session.plan

    # Every subscription named is one of the session's two, and each side's commands name its own.
    subs = {s for line in lines for s in words_after(line, "--subscription")}
    assert subs == {cluster_sub, identity_sub}
    assert all(cluster_sub in line for line in lines if line.startswith(("az aks", "ENABLED=", "ISSUER=")))
    assert all(identity_sub in line for line in lines
               if line.startswith(("az identity", "az group", "az provider", "IDS=")))
    # Two logins, one per tenant, each skipped when that subscription is already signed in; no secret, only its name.
    logins = [line for line in lines if " az login " in line]
    assert [words_after(line, "--tenant") for line in logins] == [[login["cluster_tenant_id"]],
                                                                   [login["identity_tenant_id"]]]
    assert [words_after(line, "--subscription") for line in logins] == [[cluster_sub], [identity_sub]]
    assert all('--password "$AZURE_CLIENT_SECRET"' in line for line in logins)
    assert [f"az account set --subscription {s}" for s in (cluster_sub, identity_sub)] == \
        [line for line in lines if line.startswith("az account set")]
    # In the seed's order.
    order = ["az login", "az aks update", "ISSUER=", "az group create", "az identity create", "IDS=",
             "az role assignment create", "az identity federated-credential create", "az aks get-credentials",
             "kubectl apply", "kubectl delete pod", "kubectl create -f", "kubectl logs"]
    positions = [next(n for n, line in enumerate(lines) if step in line) for step in order]
    assert positions == sorted(positions), list(zip(order, positions, strict=True))
    # The issuer, client and principal IDs are read live and compared with the session's, verbatim.
    assert f"expect \"the cluster's OIDC issuer\" \"$ISSUER\" {fic['issuer']}" in lines
    assert fic["issuer"].endswith("/") and fic["issuer"] == seeded.values("cluster")["issuer_url"]
    assert f"expect \"the identity's client ID\" \"$CLIENT_ID\" {identity['client_id']}" in lines
    assert f"expect \"the identity's principal ID\" \"$PRINCIPAL_ID\" {identity['principal_id']}" in lines
    [role] = [line for line in lines if line.startswith("az role assignment create")]
    assert words_after(role, "--scope") == [f"/subscriptions/{identity_sub}"]
    assert words_after(role, "--role") == ["Reader"] and '--assignee-object-id "$PRINCIPAL_ID"' in role
    assert "--assignee-principal-type ServicePrincipal" in role
    [guard] = [line for line in lines if line.startswith("ASSIGNED=\"$(az role assignment list")]
    assert f"--scope /subscriptions/{identity_sub} --role Reader" in guard
    [federation] = [line for line in lines if line.startswith("az identity federated-credential create")]
    assert '--issuer "$ISSUER"' in federation
    assert words_after(federation, "--subject") == [fic["subject"]] == [plan.subject]
    assert words_after(federation, "--audiences") == [fic["audience"]] == ["api://AzureADTokenExchange"]
    assert words_after(federation, "--name") == ["fc-wi-demo"]
    # The ServiceAccount and pod in their heredocs are the manifests export's, the client ID filled in at run time.
    assert "azure.workload.identity/client-id: ${CLIENT_ID}" in script
    assert f"azure.workload.identity/tenant-id: {identity['tenant_id']}" in script
    assert export.render(seeded.session, "manifests").split("---\n")[-1] in script  # the pod, byte for byte


def test_no_export_carries_a_secret_and_each_names_the_session(seeded: Seeded) -> None:
    secrets = seeded.secrets()
    assert secrets
    for fmt in export.FORMATS:
        text = export.render(seeded.session, fmt)
        assert not [s for s in secrets if s in text], fmt
        assert SESSION in text


# -- the manifests --------------------------------------------------------------------------------------------


def test_the_manifests_applied_with_kubectl_give_the_pod_and_service_account_the_wizard_applied(
        seeded: Seeded) -> None:
    box, k = seeded.box, seeded.session.plan.kubernetes
    pod_name = seeded.session.plan.workload.pod
    text = export.render(seeded.session, "manifests")
    docs = [d for d in yaml.safe_load_all(text) if d]
    assert [d["kind"] for d in docs] == ["ServiceAccount", "Pod"]  # default namespace: not the session's to export
    wizard_pod = json.loads(kubectl(box, "get", "pod", pod_name, "-n", k.namespace, "-o", "json"))
    wizard_account = json.loads(kubectl(box, "get", "serviceaccount", k.service_account, "-n", k.namespace,
                                        "-o", "json"))

    kubectl(box, "delete", "pod", pod_name, "-n", k.namespace, "--wait")
    kubectl(box, "apply", "-f", "-", stdin=text)
    pod = json.loads(kubectl(box, "get", "pod", pod_name, "-n", k.namespace, "-o", "json"))
    account = json.loads(kubectl(box, "get", "serviceaccount", k.service_account, "-n", k.namespace,
                                 "-o", "json"))

    assert pod["metadata"]["uid"] != wizard_pod["metadata"]["uid"], "a new pod was created from the export"
    for key in ("labels",):
        assert pod["metadata"][key] == wizard_pod["metadata"][key]
    annotations = {n: v for n, v in pod["metadata"]["annotations"].items() if "last-applied" not in n}
    assert annotations == wizard_pod["metadata"]["annotations"]
    for key in ("serviceAccountName", "restartPolicy"):
        assert pod["spec"][key] == wizard_pod["spec"][key]
    [mine], [theirs] = pod["spec"]["containers"], wizard_pod["spec"]["containers"]
    for key in ("name", "image", "command", "env"):  # env as the webhook injected it
        assert mine.get(key) == theirs.get(key), key
    mounts = [[(m["mountPath"], m.get("readOnly")) for m in c["volumeMounts"]] for c in (mine, theirs)]
    assert mounts[0] == mounts[1]  # the projected token where the webhook puts it (volume names are random)
    env = {e["name"]: e.get("value") for e in mine["env"]}
    assert env["AZURE_CLIENT_ID"] == seeded.values("identity")["client_id"]
    assert env["AZURE_TENANT_ID"] == seeded.values("identity")["tenant_id"]
    account_annotations = {n: v for n, v in account["metadata"]["annotations"].items() if "last-applied" not in n}
    assert account_annotations == wizard_account["metadata"]["annotations"]
    assert account["metadata"]["labels"] == wizard_account["metadata"]["labels"]


# -- terraform ------------------------------------------------------------------------------------------------


def terraform_fmt_check(text: str, tmp_path: Path) -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not on PATH (it is not a dependency): `terraform fmt -check` cannot run")
    path = tmp_path / "main.tf"
    path.write_text(text)
    result = subprocess.run([terraform, "fmt", "-check", "-diff", "-no-color", str(path)], capture_output=True,
                            text=True, timeout=60, check=False, env={**os.environ, "TF_CLI_CONFIG_FILE": "/dev/null"})
    assert result.returncode == 0, result.stdout + result.stderr


def canonical_problems(text: str) -> list[str]:
    """The layout rules of `terraform fmt` the export relies on, checked without terraform: two spaces per open
    brace, no trailing space, one blank line between top-level blocks and none inside them, and the `=` of each
    run of consecutive single-line attributes aligned one space after the longest name."""
    problems: list[str] = []
    depth = 0
    run: list[tuple[int, str, int]] = []  # the current alignment run: (line number, name, spaces before '=')
    lines = text.split("\n")

    def close_run() -> None:
        width = max((len(name) for _, name, _ in run), default=0)
        problems.extend(f"line {n}: {spaces} space(s) before '=', expected {width - len(name) + 1}"
                        for n, name, spaces in run if spaces != width - len(name) + 1)
        run.clear()

    for n, line in enumerate(lines, 1):
        stripped = line.strip()
        if line != line.rstrip():
            problems.append(f"line {n}: trailing whitespace")
        if stripped.startswith("}"):
            depth -= 1
        if stripped and not stripped.startswith("#") and line[:len(line) - len(line.lstrip())] != "  " * depth:
            problems.append(f"line {n}: indented {len(line) - len(line.lstrip())}, expected {2 * depth}")
        if not stripped:
            if depth:
                problems.append(f"line {n}: blank line inside a block")
            elif n > 1 and lines[n - 2].strip() != "}" and not lines[n - 2].startswith("#"):
                problems.append(f"line {n}: blank line not after a block")
        single = re.match(r"^\s*(\"[^\"]*\"|[\w-]+)(\s*)= (?!\{$)", line)
        if single:
            run.append((n, single.group(1), len(single.group(2))))
        else:
            close_run()
        if stripped.endswith("{"):
            depth += 1
    close_run()
    if depth:
        problems.append(f"unbalanced braces (depth {depth} at the end)")
    return problems


def resource(text: str, kind: str, name: str, data: bool = False) -> str:
    """The body of one top-level block."""
    head = f'{"data" if data else "resource"} "{kind}" "{name}" {{\n'
    assert head in text, head
    return text.split(head, 1)[1].split("\n}\n", 1)[0]


def test_terraform_is_formatted_as_terraform_fmt_writes_it(seeded: Seeded, tmp_path: Path) -> None:
    text = export.render(seeded.session, "terraform")
    assert canonical_problems(text) == []
    terraform_fmt_check(text, tmp_path)


def test_the_layout_check_catches_misaligned_and_misindented_hcl() -> None:
    """The check that runs where terraform is absent finds what `terraform fmt -check` would reject."""
    good = 'resource "x" "y" {\n  name     = "a"\n  location = "b"\n  tags = {\n    a = "b"\n  }\n}\n'
    assert canonical_problems(good) == []
    assert canonical_problems(good.replace('name     = "a"', 'name = "a"')) == [
        "line 2: 1 space(s) before '=', expected 5"]
    assert canonical_problems(good.replace('    a = "b"', '   a = "b"')) == ["line 5: indented 3, expected 4"]


def test_terraform_holds_the_sessions_exact_values_with_one_provider_per_tenant(seeded: Seeded) -> None:
    text = export.render(seeded.session, "terraform")
    login, identity = seeded.values("login"), seeded.values("identity")
    fic, cluster = seeded.values("federation"), seeded.values("cluster")

    cluster_provider, identity_provider = text.split('provider "azurerm" {\n')[1:3]
    assert 'alias           = "cluster"' in cluster_provider
    assert f'tenant_id       = "{login["cluster_tenant_id"]}"' in cluster_provider
    assert f'subscription_id = "{cluster["subscription_id"]}"' in cluster_provider
    assert f'tenant_id       = "{login["identity_tenant_id"]}"' in identity_provider
    assert f'subscription_id = "{identity["subscription_id"]}"' in identity_provider
    group = resource(text, "azurerm_resource_group", "identity")  # the session created it
    assert 'name     = "rg-wi-demo"' in group and '"wi-wizard-session" = "seed-export"' in group
    mi = resource(text, "azurerm_user_assigned_identity", "workload")
    assert 'name                = "mi-wi-demo"' in mi and "provider            = azurerm.identity" in mi
    assert f"client ID {identity['client_id']}, principal ID {identity['principal_id']}" in text
    role = resource(text, "azurerm_role_assignment", "reader")
    assert f'scope                = "/subscriptions/{identity["subscription_id"]}"' in role
    assert 'role_definition_name = "Reader"' in role
    assert "principal_id         = azurerm_user_assigned_identity.workload.principal_id" in role
    trust = resource(text, "azurerm_federated_identity_credential", "trust")
    assert f'issuer              = "{fic["issuer"]}"' in trust and fic["issuer"].endswith("/")
    assert f'subject             = "{fic["subject"]}"' in trust
    assert 'audience            = ["api://AzureADTokenExchange"]' in trust
    assert "parent_id           = azurerm_user_assigned_identity.workload.id" in trust
    account = resource(text, "kubernetes_service_account_v1", "workload")
    assert '"azure.workload.identity/client-id" = azurerm_user_assigned_identity.workload.client_id' in account
    assert f'"azure.workload.identity/tenant-id" = "{identity["tenant_id"]}"' in account
    pod = resource(text, "kubernetes_pod_v1", "workload")
    assert 'image = "ttl.sh/wi-demo-app:1h"' in pod and '"azure.workload.identity/use"  = "true"' in pod
    assert 'service_account_name = "wi-demo-account"' in pod
    for name, value in (("AZURE_SUBSCRIPTION_ID", identity["subscription_id"]), ("AZURE_REGION", "eastus"),
                        ("AZURE_RESOURCE_NAME", "cores"), ("AZURE_TENANT_ID", identity["tenant_id"])):
        assert f'name  = "{name}"\n        value = "{value}"' in pod
    assert 'data "azurerm_kubernetes_cluster" "cluster"' in text


def test_hcl_strings_keep_interpolation_markers_quotes_and_newlines_literal(tmp_path: Path) -> None:
    """The probe's command is a shell script full of `${…}` and quotes: Terraform must see it as plain text."""
    raw = 'say() { printf "%s\\n" "${AZURE_CLIENT_ID:-x}"; }\n%{ not a directive }\\'
    text = document([Block("locals", body=[Attr("script", string(raw)), Attr("n", "1"),
                                           Map("m", {"a/b": string("c")})])])

    terraform_fmt_check(text, tmp_path)
    assert string(raw) == ('"say() { printf \\"%s\\\\n\\" \\"$${AZURE_CLIENT_ID:-x}\\"; }\\n%%{ not a directive }'
                           '\\\\"')


# -- the contract ---------------------------------------------------------------------------------------------


def test_default_file_names_and_write_gives_0644_text(seeded: Seeded, tmp_path: Path) -> None:
    names = [export.default_filename(seeded.session, fmt) for fmt in export.FORMATS]
    assert names == [f"{SESSION}-setup.sh", f"{SESSION}-manifests.yaml", f"{SESSION}-main.tf"]
    written = export.write(seeded.session, "terraform", tmp_path / "x.tf")
    assert written == tmp_path / "x.tf" and oct(written.stat().st_mode & 0o777) == "0o644"
    assert written.read_text() == export.render(seeded.session, "terraform")


def unfinished(session: Session, step: str, status: str = "pending") -> Session:
    """A copy of the session as if it had stopped at `step`."""
    copy = Session.from_json(session.to_json(), "test")
    copy.outcomes[step].status = status
    copy.state = step
    return copy


@pytest.mark.parametrize("fmt", export.FORMATS)
def test_an_unfinished_session_is_refused_naming_the_step_and_how_to_finish(seeded: Seeded, fmt: str) -> None:
    with pytest.raises(export.ExportError, match=r"its deploy step has not run .*`wi-wizard resume seed-export`"):
        export.render(unfinished(seeded.session, "deploy"), fmt)
    with pytest.raises(export.ExportError, match="its federation step has failed"):
        export.render(unfinished(seeded.session, "federation", "failed"), fmt)


def test_an_unknown_format_is_refused_listing_the_formats(seeded: Seeded) -> None:
    with pytest.raises(export.ExportError, match="unknown export format 'yaml'; use one of: script, manifests, "
                                                 "terraform"):
        export.render(seeded.session, "yaml")


# -- the command line -----------------------------------------------------------------------------------------


def run_export(home: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`wi-wizard export ARGS` as a user runs it, in `cwd`, with the sessions of `home`."""
    return subprocess.run([sys.executable, "-m", "wizard", "export", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60, check=False, env={**os.environ, "WI_WIZARD_HOME": str(home),
                                                                   "PYTHONPATH": str(ROOT)})


def test_cli_writes_the_default_file_in_the_current_directory_and_prints_its_path(
        seeded: Seeded, tmp_path: Path) -> None:
    result = run_export(seeded.home, tmp_path, SESSION, "--format", "script")

    assert result.returncode == 0, result.stderr
    path = tmp_path / f"{SESSION}-setup.sh"
    assert result.stdout == f"Wrote {path.name} (script of session {SESSION}).\n"
    assert path.read_text() == export.render(seeded.session, "script")


def test_cli_writes_to_a_named_file_a_directory_or_stdout(seeded: Seeded, tmp_path: Path) -> None:
    to_file = run_export(seeded.home, tmp_path, SESSION, "--format", "terraform", "-o", "infra.tf")
    to_dir = run_export(seeded.home, tmp_path, SESSION, "--format", "manifests", "--output", str(tmp_path))
    to_stdout = run_export(seeded.home, tmp_path, SESSION, "--format", "manifests", "-o", "-")

    assert [r.returncode for r in (to_file, to_dir, to_stdout)] == [0, 0, 0], to_file.stderr + to_dir.stderr
    assert (tmp_path / "infra.tf").read_text() == export.render(seeded.session, "terraform")
    assert (tmp_path / f"{SESSION}-manifests.yaml").read_text() == export.render(seeded.session, "manifests")
    assert to_stdout.stdout == export.render(seeded.session, "manifests") and to_stdout.stderr == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["infra.tf", f"{SESSION}-manifests.yaml"]


def assert_refused(result: subprocess.CompletedProcess[str], *phrases: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("wi-wizard export: ")
    for phrase in phrases:
        assert phrase in line, line


def test_cli_refuses_a_missing_session_a_bad_name_and_a_bad_format_with_exit_2(
        seeded: Seeded, tmp_path: Path) -> None:
    assert_refused(run_export(seeded.home, tmp_path, "nope", "--format", "script"),
                   "no session named 'nope'", "`wi-wizard sessions` lists the saved ones")
    assert_refused(run_export(seeded.home, tmp_path, "../etc", "--format", "script"),
                   "no session '../etc'", "a session name is 1–64 letters")
    assert_refused(run_export(seeded.home, tmp_path, SESSION, "--format", "yaml"),
                   "unknown export format 'yaml'", "script, manifests, terraform")
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_an_unfinished_session_naming_the_step(seeded: Seeded, tmp_path: Path) -> None:
    home = tmp_path / "home"
    SessionStore(home / "sessions").save(unfinished(seeded.session, "federation", "failed"))

    result = run_export(home, tmp_path, SESSION, "--format", "terraform")

    assert_refused(result, "its federation step has failed", f"wi-wizard resume {SESSION}")
    assert not (tmp_path / f"{SESSION}-main.tf").exists()


def test_cli_names_an_unwritable_output_with_exit_2(seeded: Seeded, tmp_path: Path) -> None:
    result = run_export(seeded.home, tmp_path, SESSION, "--format", "script", "-o", str(tmp_path / "no" / "x.sh"))

    assert_refused(result, f"cannot write {tmp_path / 'no' / 'x.sh'}", "choose another file with -o")


@pytest.mark.parametrize(("step", "key", "value"), [
    ("cluster", "issuer_url", "https://x/$(touch /tmp/pwned)/"),
    ("identity", "client_id", "1234\nrm -rf ~"),
    ("federation", "subject", "system:serviceaccount:default:sa'; echo '"),
])
def test_a_session_value_no_cloud_returns_is_refused_before_it_reaches_a_command(
        seeded: Seeded, step: str, key: str, value: str) -> None:
    edited = Session.from_json(seeded.session.to_json(), "test")
    edited.outcomes[step].values[key] = value

    for fmt in export.FORMATS:
        with pytest.raises(export.ExportError, match=rf"its {step}\.{key} value .* \(the session file was damaged"):
            export.render(edited, fmt)


def test_a_session_whose_plan_was_edited_into_an_invalid_one_is_refused(seeded: Seeded) -> None:
    edited = Session.from_json(seeded.session.to_json(), "test")
    edited.plan.kubernetes.namespace = "default; rm -rf ~"

    with pytest.raises(export.ExportError,
                       match=r"(?s)cannot be exported: .*kubernetes\.namespace = .default; rm -rf ~.: a namespace is"):
        export.render(edited, "script")
