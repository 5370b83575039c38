"""Exports of a session that used what existed before it: a reused identity (in a resource group someone else
made), a ServiceAccount someone else made (with their own annotation) in a namespace of theirs, and the probe image
(whose command is a shell script full of `${…}` and quotes). What existed is never created, claimed or rewritten
by an export; the probe's script survives every format verbatim.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.conftest import Env
from tests.engine.cli_support import applied_world, kubectl, seed_variant
from tests.engine.test_apply_cli import create_identity
from wizard import export
from wizard.kube.client import MANAGED_BY_LABEL, SESSION_ANNOTATION
from wizard.plan import PROBE_IMAGE
from wizard.sandbox import Sandbox
from wizard.session import Session, SessionStore
from wizard.workloads import PROBE_SCRIPT

SESSION = "reuse-export"
NAMESPACE, ACCOUNT = "team-apps", "app-sa"


@dataclass(frozen=True)
class Reused:
    box: Sandbox
    session: Session


def _prepare(box: Sandbox, home: Path) -> Path:
    """What existed before the session: an identity in someone else's group, their namespace and ServiceAccount."""
    create_identity(Env(box), "rg-shared-identities", "mi-shared")
    kubectl(box, "create", "namespace", NAMESPACE)
    kubectl(box, "create", "serviceaccount", ACCOUNT, "-n", NAMESPACE)
    kubectl(box, "annotate", "serviceaccount", ACCOUNT, "-n", NAMESPACE, "team.example.com/owner=apps")
    return seed_variant(home / "reuse.toml",
                        identity={"resource_group": "rg-shared-identities", "name": "mi-shared", "reuse": True},
                        kubernetes={"namespace": NAMESPACE, "service_account": ACCOUNT},
                        workload={"pod": "probe", "image": PROBE_IMAGE, "env": {}})


@pytest.fixture(scope="module")
def reused(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reused]:
    with applied_world(tmp_path_factory, "export-existing", _prepare, SESSION) as (box, home):
        yield Reused(box, SessionStore(home / "sessions").load(SESSION))


def test_the_script_creates_neither_the_group_nor_the_identity_and_only_annotates_the_account(
        reused: Reused, tmp_path: Path) -> None:
    script = export.render(reused.session, "script")
    (tmp_path / "s.sh").write_text(script)

    assert subprocess.run(["bash", "-n", str(tmp_path / "s.sh")], check=False).returncode == 0
    assert "az group create" not in script and "az identity create" not in script
    assert "az provider register" not in script  # reuse: nothing is created on the identity side
    assert "# Identity mi-shared existed before" not in script  # reuse says nothing: the plan asked for it
    assert "ServiceAccount team-apps/app-sa existed before" in script
    identity = reused.session.outcomes["identity"].values
    annotate = next(line for line in script.splitlines() if line.startswith("kubectl annotate serviceaccount"))
    assert annotate == (f"kubectl annotate serviceaccount {ACCOUNT} -n {NAMESPACE} "
                        f'azure.workload.identity/client-id="$CLIENT_ID" '
                        f"azure.workload.identity/tenant-id={identity['tenant_id']} --overwrite")
    assert "kind: ServiceAccount" not in script and "kind: Namespace" not in script
    # The probe's script sits in a quoted heredoc: bash passes its ${…} through untouched.
    assert "kubectl create -f - <<'EOF'\n" in script and "${AZURE_CLIENT_ID:-(not set)}" in script


def test_the_manifests_leave_the_existing_accounts_annotations_and_ownership_alone(reused: Reused) -> None:
    box = reused.box
    docs = [d for d in yaml.safe_load_all(export.render(reused.session, "manifests")) if d]
    assert [d["kind"] for d in docs] == ["ServiceAccount", "Pod"]
    assert "labels" not in docs[0]["metadata"] and SESSION_ANNOTATION not in docs[0]["metadata"]["annotations"]
    wizard_pod = json.loads(kubectl(box, "get", "pod", "probe", "-n", NAMESPACE, "-o", "json"))

    kubectl(box, "delete", "pod", "probe", "-n", NAMESPACE, "--wait")
    kubectl(box, "apply", "-f", "-", stdin=export.render(reused.session, "manifests"))
    pod = json.loads(kubectl(box, "get", "pod", "probe", "-n", NAMESPACE, "-o", "json"))
    account = json.loads(kubectl(box, "get", "serviceaccount", ACCOUNT, "-n", NAMESPACE, "-o", "json"))

    assert account["metadata"]["annotations"]["team.example.com/owner"] == "apps"
    assert MANAGED_BY_LABEL not in (account["metadata"].get("labels") or {})
    assert SESSION_ANNOTATION not in account["metadata"]["annotations"]
    [mine], [theirs] = pod["spec"]["containers"], wizard_pod["spec"]["containers"]
    assert mine["command"] == theirs["command"] == ["/bin/sh", "-c", PROBE_SCRIPT]
    assert mine["env"] == theirs["env"]


def test_terraform_reads_what_existed_and_keeps_the_probe_script_literal(reused: Reused, tmp_path: Path) -> None:
    text = export.render(reused.session, "terraform")

    assert 'data "azurerm_resource_group" "identity"' in text and 'resource "azurerm_resource_group"' not in text
    assert 'data "azurerm_user_assigned_identity" "workload"' in text
    assert 'resource "azurerm_user_assigned_identity"' not in text
    assert "principal_id         = data.azurerm_user_assigned_identity.workload.principal_id" in text
    assert 'resource "kubernetes_annotations" "workload"' in text
    assert 'resource "kubernetes_service_account_v1"' not in text and "kubernetes_namespace_v1" not in text
    assert "$${AZURE_CLIENT_ID:-(not set)}" in text and "${AZURE" not in text.replace("$${AZURE", "")
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not on PATH (it is not a dependency): `terraform fmt -check` cannot run")
    (tmp_path / "main.tf").write_text(text)
    check = subprocess.run([terraform, "fmt", "-check", "-diff", "-no-color", str(tmp_path / "main.tf")],
                           capture_output=True, text=True, timeout=60, check=False,
                           env={**os.environ, "TF_CLI_CONFIG_FILE": "/dev/null"})
    assert check.returncode == 0, check.stdout + check.stderr
