"""Exports of the same-tenant example (examples/same-tenant.toml: one tenant, the probe image, a namespace the
session creates): one login, no tenant-id annotation or AZURE_TENANT_ID, and the namespace exported with the
wizard's marks because the session created it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.engine.cli_support import SAME_TENANT_PLAN, applied_world
from wizard import export
from wizard.session import Session, SessionStore

SESSION = "same-export"


@pytest.fixture(scope="module")
def same(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    with applied_world(tmp_path_factory, "export-same", SAME_TENANT_PLAN, SESSION) as (_, home):
        yield SessionStore(home / "sessions").load(SESSION)


def test_one_tenant_means_one_login_and_no_tenant_overrides(same: Session, tmp_path: Path) -> None:
    script = export.render(same, "script")
    (tmp_path / "s.sh").write_text(script)

    assert subprocess.run(["bash", "-n", str(tmp_path / "s.sh")], check=False).returncode == 0
    assert script.count("az login") == 1
    tenant = same.outcomes["login"].values["cluster_tenant_id"]
    assert f"# -- 1. Sign in to tenant {tenant} (the cluster's and the identity's), unless already signed in" in script
    env_entry = {"script": "- name: AZURE_TENANT_ID", "manifests": "- name: AZURE_TENANT_ID",
                 "terraform": 'name  = "AZURE_TENANT_ID"'}
    for fmt in export.FORMATS:
        text = export.render(same, fmt)
        assert "azure.workload.identity/tenant-id" not in text and env_entry[fmt] not in text, fmt
        assert env_entry[fmt].replace("AZURE_TENANT_ID", "WI_PROBE_RESOURCE") in text, fmt  # the pattern is right


def test_a_namespace_the_session_created_is_exported_with_the_wizards_marks(same: Session, tmp_path: Path) -> None:
    namespace, account, pod = (d for d in yaml.safe_load_all(export.render(same, "manifests")) if d)
    assert namespace == {"apiVersion": "v1", "kind": "Namespace",
                         "metadata": {"name": "wi-demo", "labels": {"app.kubernetes.io/managed-by": "wi-wizard"},
                                      "annotations": {"wi-wizard/session": SESSION}}}
    assert account["metadata"]["namespace"] == pod["metadata"]["namespace"] == "wi-demo"
    assert pod["spec"]["containers"][0]["command"][:2] == ["/bin/sh", "-c"]  # the probe
    script = export.render(same, "script")
    assert "kind: Namespace" in script.split("kubectl apply -f - <<EOF", 1)[1].split("\nEOF\n", 1)[0]
    text = export.render(same, "terraform")
    assert 'resource "kubernetes_namespace_v1" "workload"' in text
    assert "namespace = kubernetes_namespace_v1.workload.metadata[0].name" in text
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not on PATH (it is not a dependency): `terraform fmt -check` cannot run")
    (tmp_path / "main.tf").write_text(text)
    check = subprocess.run([terraform, "fmt", "-check", "-diff", "-no-color", str(tmp_path / "main.tf")],
                           capture_output=True, text=True, timeout=60, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
