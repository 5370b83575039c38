"""The exported script, run with the real Azure CLI against a FRESH sandbox world, reproduces what the wizard made:
the same kinds and numbers of ARM resources and Kubernetes objects, the same names, tags, trust and annotations,
and the pod's logs prove access.

Needs `az` on PATH (azure-cli is not a dependency of wi-wizard; `pip install azure-cli==2.91.0` into a venv of
its own and put its `az` on PATH); skipped otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.engine.cli_support import SEED_PLAN, apply, arm_resources, census, kube_keys, world
from wizard import export
from wizard.sandbox import Sandbox
from wizard.session import SessionStore

pytestmark = pytest.mark.skipif(shutil.which("az") is None,
                                reason="the Azure CLI (az) is not on PATH; it is not a dependency of wi-wizard")

SESSION = "seed-az"
IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
FIC_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"


def run_script(box: Sandbox, script: Path) -> subprocess.CompletedProcess[str]:
    """The script as a pipeline runs it: the sandbox set up as the Azure CLI's cloud (`sandbox env --az`), both
    tenants' service principals signed in beforehand (so the script's own logins are skipped), then `bash`."""
    secrets: dict[str, str] = {}
    logins = []
    for n, tenant in enumerate(box.endpoints()["tenants"]):
        sp = tenant["service_principal"]
        secrets[f"SP_SECRET_{n}"] = sp["client_secret"]
        logins.append(f'az login --service-principal -u {sp["client_id"]} -p "$SP_SECRET_{n}" '
                      f'--tenant {tenant["tenant_id"]} -o none')
    setup = f'eval "$({sys.executable} -m wizard sandbox env --az --state-dir {box.state_dir})"'
    return subprocess.run(["bash", "-c", " && ".join([setup, *logins, f"bash {script}"])], capture_output=True,
                          text=True, timeout=300, check=False, env={**os.environ, **secrets})


def test_the_exported_script_reproduces_the_sessions_resources_on_a_fresh_world(
        make_sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    original = make_sandbox()
    before = census(original)
    made = apply(original, SEED_PLAN, "--session", SESSION)
    assert made.returncode == 0, made.stdout + made.stderr
    session = SessionStore().load(SESSION)
    wizard_made = census(original) - before
    script = export.write(session, "script", tmp_path / "setup.sh")

    fresh = make_sandbox()
    start = census(fresh)
    first = run_script(fresh, script)

    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "Access proven from pod default/wi-demo-app." in first.stdout
    assert "limit: " in first.stdout and "usage: " in first.stdout
    assert census(fresh) - start == wizard_made, "the same kinds and numbers of resources as the wizard made"
    identity_values, fic_values = session.outcomes["identity"].values, session.outcomes["federation"].values
    [identity] = [i for i in arm_resources(fresh, IDENTITY_TYPE) if i["name"] == "mi-wi-demo"]
    assert identity["tags"] == {"created-by": "wi-wizard", "wi-wizard-session": SESSION}
    principal_id = identity["properties"]["principalId"]
    [fic] = arm_resources(fresh, FIC_TYPE)
    issuer = _issuer(fresh)
    assert fic["name"] == "fc-wi-demo" and fic["properties"]["issuer"] == issuer and issuer.endswith("/")
    assert fic["properties"]["subject"] == fic_values["subject"]
    assert fic["properties"]["audiences"] == [fic_values["audience"]]
    assert issuer != fic_values["issuer"], "a fresh world's issuer differs (another port): it was read, not copied"
    assert "note: the cluster's OIDC issuer is" in first.stderr
    [assignment] = [a for a in arm_resources(fresh, ASSIGNMENT_TYPE)
                    if a["properties"]["principalId"] == principal_id]
    assert assignment["properties"]["scope"] == f"/subscriptions/{identity_values['subscription_id']}"
    assert assignment["properties"]["description"] == f"Created by wi-wizard session {SESSION}"
    assert "default/wi-demo-account" in kube_keys(fresh, "serviceaccounts")
    assert "default/wi-demo-app" in kube_keys(fresh, "pods")


def _issuer(box: Sandbox) -> str:
    """The seed cluster's OIDC issuer URL as the sandbox's ARM reports it (set when the script enabled it)."""
    from wizard.sandbox import clusters

    [record] = [r for _, r in world(box).store.items("clusters") if r.get("name") == "aks-wi-demo"]
    url = clusters.issuer_url(world(box), record)
    assert url is not None, "the script did not turn the issuer on"
    return url
