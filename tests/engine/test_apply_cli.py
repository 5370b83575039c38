"""`wi-wizard apply` from the command line, as a user runs it: the seed plan proves access from an empty sandbox and
a second run changes nothing (no new resource, no write); `--json`; the same-tenant example with the probe; reuse of
an existing identity; `sessions` and `resume --headless` of a finished session; and every kind of bad input ends
with exit 2 (unusable input) or 1 (a step failed, with its diagnosis), a message naming the value and the fix, and
never a traceback.

Each test runs the real CLI in a subprocess against its own sandbox (`make_sandbox`): the runs change the world.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Env
from tests.engine.cli_support import (
    ENGINE_WORLD,
    SAME_TENANT_PLAN,
    SEED_PLAN,
    apply,
    arm_resources,
    census,
    no_traceback,
    now,
    requests_since,
    seed_variant,
    wizard,
    writes,
)
from wizard.sandbox import Sandbox
from wizard.session import SessionStore

IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"
FIC_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"

MakeSandbox = Callable[..., Sandbox]


def evidence_json(stdout: str, prefix: str) -> dict[str, Any]:
    """The JSON document a workload log line `│ <prefix>: {…}` carries (the seed quota reader prints two)."""
    [line] = [line for line in stdout.splitlines() if line.lstrip().startswith(f"│ {prefix}: ")]
    document: dict[str, Any] = json.loads(line.split(f"{prefix}: ", 1)[1])
    return document


def failed_line(stdout: str, step: str) -> str:
    """The `✗ step  Title [Code]` line of a failed step."""
    [line] = [line for line in stdout.splitlines() if line.startswith(f"  ✗ {step:<11} ")]
    return line


# -- the seed plan, twice --------------------------------------------------------------------------------------


def test_seed_plan_proves_access_to_fabrikams_cores_quota_and_a_rerun_creates_and_writes_nothing(
        make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()

    first = apply(box, SEED_PLAN)

    assert first.returncode == 0, first.stdout + first.stderr
    no_traceback(first)
    assert "Access proven" in first.stdout
    limit = evidence_json(first.stdout, "limit")
    assert limit["name"] == "cores" and limit["properties"]["limit"]["value"] == 20  # fabrikam's, not contoso's 100
    fabrikam = Env(box).subscription_id("fabrikam")
    assert limit["id"].startswith(f"/subscriptions/{fabrikam}/")
    assert "read the quota and its usage in the identity's tenant (cores: limit 20, usage 4)" in first.stdout

    before, mark = census(box), now(box)
    second = apply(box, SEED_PLAN)

    assert second.returncode == 0, second.stdout + second.stderr
    no_traceback(second)
    assert "Access proven" in second.stdout
    assert "Nothing to change: everything was already in place." in second.stdout
    assert census(box) - before == {}  # no ARM resource, role assignment or Kubernetes object more (or less)
    assert writes(requests_since(box, mark)) == []


def test_json_output_parses_says_proven_and_lists_what_the_run_created(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()

    run = apply(box, SEED_PLAN, "--json", "--session", "seed-json")

    assert run.returncode == 0, run.stdout + run.stderr
    no_traceback(run)
    result = json.loads(run.stdout)  # stdout is only the JSON document; the step lines go to stderr
    assert result["proven"] is True and result["state"] == "done"
    assert result["session"] == "seed-json" and result["target"] == "sandbox"
    assert [s["step"] for s in result["steps"]] == ["login", "cluster", "identity", "role", "federation", "trust",
                                                     "deploy", "logs"]
    assert {s["status"] for s in result["steps"]} == {"done"}
    steps = {s["step"]: s for s in result["steps"]}
    assert steps["logs"]["values"]["verdict"] == "proven"
    assert steps["trust"]["values"]["verdict"] == "passed"
    principal = steps["identity"]["values"]["principal_id"]
    [identity] = [i for i in arm_resources(box, IDENTITY_TYPE) if i["name"] == "mi-wi-demo"]
    [assignment] = [a for a in arm_resources(box, ASSIGNMENT_TYPE) if a["properties"]["principalId"] == principal]
    [fic] = arm_resources(box, FIC_TYPE)
    assert {c.lower() for c in result["created"]} >= {identity["id"].lower(), assignment["id"].lower(),
                                                      fic["id"].lower()}
    assert "✓ logs" in run.stderr


# -- other plans -----------------------------------------------------------------------------------------------


def test_same_tenant_example_proves_access_with_the_probe_in_the_one_tenant(
        make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()

    run = apply(box, SAME_TENANT_PLAN, "--json")

    assert run.returncode == 0, run.stdout + run.stderr
    no_traceback(run)
    steps = {s["step"]: s for s in json.loads(run.stdout)["steps"]}
    contoso = Env(box).tenant_id("contoso")
    assert steps["login"]["values"]["same_tenant"] == "true"
    assert steps["identity"]["values"]["tenant_id"] == contoso
    assert steps["deploy"]["values"]["tenant_env"] == contoso  # one tenant: the pod signs in where it runs
    assert steps["cluster"]["summary"].startswith("already in place")  # aks-platform has OIDC + WI on
    logs = steps["logs"]["values"]
    assert logs["verdict"] == "proven"
    assert "wi-probe: OK" in logs["evidence"]
    assert f"wi-probe: GET /subscriptions/{Env(box).subscription_id('contoso')} -> 200" in run.stderr


def test_an_existing_identity_is_reused_not_recreated_and_not_listed_as_created(make_sandbox: MakeSandbox,
                                                                                  tmp_path: Path) -> None:
    box = make_sandbox()
    env = Env(box)
    existing = create_identity(env, "rg-shared-identities", "mi-shared")
    plan = seed_variant(tmp_path / "reuse.toml",
                        identity={"resource_group": "rg-shared-identities", "name": "mi-shared", "reuse": True})
    identities_before = len(arm_resources(box, IDENTITY_TYPE))

    run = apply(box, plan, "--json")

    assert run.returncode == 0, run.stdout + run.stderr
    no_traceback(run)
    result = json.loads(run.stdout)
    identity = next(s for s in result["steps"] if s["step"] == "identity")
    assert identity["values"]["client_id"] == existing.client_id
    assert identity["values"]["identity_id"].lower() == existing.id.lower()
    assert len(arm_resources(box, IDENTITY_TYPE)) == identities_before
    assert existing.id.lower() not in {c.lower() for c in result["created"]}
    session = SessionStore().load("reuse")
    assert session.outcomes["identity"].created == []  # not this session's: teardown must leave it alone


def create_identity(env: Env, group: str, name: str) -> Any:
    """An identity made outside the wizard, with the Azure SDKs, as an admin of fabrikam would."""
    from azure.mgmt.msi import ManagedServiceIdentityClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    credential, sub = env.sp_credential("fabrikam"), env.subscription_id("fabrikam")
    ResourceManagementClient(credential, sub, **env.client_kwargs()).resource_groups.create_or_update(
        group, {"location": "eastus"})
    return ManagedServiceIdentityClient(credential, sub, **env.client_kwargs()).user_assigned_identities \
        .create_or_update(group, name, {"location": "eastus"})


# -- sessions and resume ---------------------------------------------------------------------------------------


def test_sessions_lists_the_session_and_resume_of_a_finished_one_rechecks_and_writes_nothing(
        make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    assert apply(box, SEED_PLAN, "--session", "seed-demo").returncode == 0

    listed = wizard("sessions")
    as_json = wizard("sessions", "--json")

    assert listed.returncode == 0 and as_json.returncode == 0
    [row] = [line.split() for line in listed.stdout.splitlines() if line.startswith("seed-demo ")]
    assert row[1:3] == ["sandbox", "done"]
    assert [(s["name"], s["target"], s["state"]) for s in json.loads(as_json.stdout)] == [
        ("seed-demo", "sandbox", "done")]

    before, mark = census(box), now(box)
    resumed = wizard("resume", "seed-demo", "--headless")

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    no_traceback(resumed)
    assert "at done" in resumed.stdout.splitlines()[0]
    assert "✓ login" in resumed.stdout  # signed in again: no credential is ever saved
    assert "trust       match: passed" in resumed.stdout  # the trust is verified again, not taken on faith
    assert "Access proven" in resumed.stdout and "Nothing to change" in resumed.stdout
    assert census(box) - before == {}
    assert writes(requests_since(box, mark)) == []


# -- bad input: exit 2 -----------------------------------------------------------------------------------------


def test_invalid_plan_values_exit_2_naming_every_key_and_its_fix_before_any_call(tmp_path: Path) -> None:
    plan = tmp_path / "bad.toml"
    plan.write_text(SEED_PLAN.read_text()
                    .replace('name = "mi-wi-demo"', 'name = "mi wi demo!"')
                    .replace('namespace = "default"', 'namespace = "Wi_Demo"')
                    .replace('scope = "subscription"', 'scope = "everything"')
                    .replace('[workload]', '[workload]\nregion = "eastus"'))

    run = wizard("apply", plan, "--sandbox-endpoints", tmp_path / "no-sandbox" / "endpoints.json")

    assert run.returncode == 2
    no_traceback(run)
    assert run.stdout == ""
    err = run.stderr
    assert f"{plan} is not a usable plan" in err
    for key, value, rule in (("identity.name", "mi wi demo!", "a managed identity name is 3–128 letters"),
                             ("kubernetes.namespace", "Wi_Demo", "lower-case letters"),
                             ("roles[0].scope", "everything", "'subscription', 'resource-group', or a resource ID")):
        [line] = [line for line in err.splitlines() if line.strip().startswith(f"- {key} = {value!r}: ")]
        assert rule in line, line  # the rule says how to fix it
    assert re.search(r"- workload\.region: unknown key; allowed here: .*image", err)
    assert not SessionStore().exists("bad")  # nothing half-written


def test_sandbox_and_sandbox_endpoints_together_are_a_usage_error(tmp_path: Path) -> None:
    run = wizard("apply", SEED_PLAN, "--sandbox", "--sandbox-endpoints", tmp_path / "endpoints.json")

    assert run.returncode == 2
    no_traceback(run)
    assert "use either --sandbox or --sandbox-endpoints, not both" in run.stderr
    assert not (tmp_path / "endpoints.json").exists()


def test_endpoints_file_that_does_not_exist_exits_2_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "gone" / "endpoints.json"

    run = wizard("apply", SEED_PLAN, "--sandbox-endpoints", missing)

    assert run.returncode == 2
    no_traceback(run)
    assert str(missing) in run.stderr


# -- bad input: a step fails with its diagnosis (exit 1) -------------------------------------------------------


@pytest.mark.parametrize(("section", "values", "step", "code", "named", "fix"), [
    pytest.param("cluster", {"tenant": "nosuch.onmicrosoft.com"}, "login", "AADSTS90002",
                 "'nosuch.onmicrosoft.com' (cluster.tenant)", "Check cluster.tenant", id="unknown-tenant"),
    pytest.param("identity", {"subscription": "contoso-platform"}, "identity", "SubscriptionNotFound",
                 "cannot see a subscription 'contoso-platform'", "Set identity.subscription in the plan",
                 id="subscription-not-visible"),
    pytest.param("cluster", {"name": "aks-nope"}, "cluster", "ClusterNotFound",
                 "no AKS cluster 'aks-nope' in resource group 'rg-wi-demo'",
                 "Use one of the clusters listed", id="cluster-not-found"),
    pytest.param("cluster", {"enable_workload_identity": False}, "cluster", "WorkloadIdentityOff",
                 "On cluster aks-wi-demo, the OIDC issuer is off and workload identity is off",
                 "Set cluster.enable_workload_identity = true", id="workload-identity-off"),
])
def test_a_plan_the_world_cannot_satisfy_fails_its_step_with_a_diagnosis_naming_the_value_and_the_fix(
        make_sandbox: MakeSandbox, tmp_path: Path, section: str, values: dict[str, Any], step: str, code: str,
        named: str, fix: str) -> None:
    box = make_sandbox()
    plan = seed_variant(tmp_path / "plan.toml", **{section: values})

    run = apply(box, plan)

    assert run.returncode == 1, run.stdout + run.stderr
    no_traceback(run)
    assert failed_line(run.stdout, step).endswith(f"[{code}]")
    why = next(line for line in run.stdout.splitlines() if line.strip().startswith("why:"))
    fix_line = next(line for line in run.stdout.splitlines() if line.strip().startswith("fix:"))
    assert named in why
    assert fix in fix_line
    assert f"Not proven: stopped at the {step} step. Resume with `wi-wizard resume plan --headless`" in run.stdout
    session = SessionStore().load("plan")
    assert session.state == "failed"
    diagnosis = session.outcomes[step].diagnosis
    assert session.outcomes[step].status == "failed"
    assert diagnosis is not None and diagnosis["code"] == code


def test_cluster_not_found_lists_the_clusters_the_login_can_see(make_sandbox: MakeSandbox, tmp_path: Path) -> None:
    box = make_sandbox()

    run = apply(box, seed_variant(tmp_path / "plan.toml", cluster={"resource_group": "rg-platform"}))

    assert run.returncode == 1
    no_traceback(run)
    assert "aks-wi-demo (resource group rg-wi-demo, subscription contoso-platform)" in run.stdout
    assert "fix: Set cluster.resource_group = 'rg-wi-demo'" in run.stdout


def test_identity_name_taken_in_another_resource_group_fails_naming_that_group_and_creates_nothing(
        make_sandbox: MakeSandbox, tmp_path: Path) -> None:
    box = make_sandbox()
    create_identity(Env(box), "rg-elsewhere", "mi-wi-demo")
    before = census(box)

    run = apply(box, SEED_PLAN)

    assert run.returncode == 1
    no_traceback(run)
    assert failed_line(run.stdout, "identity").endswith("[IdentityNameTaken]")
    assert "already has a managed identity 'mi-wi-demo' in resource group 'rg-elsewhere'" in run.stdout
    assert "fix: To use that identity, set identity.resource_group = 'rg-elsewhere' and identity.reuse = true" \
        in run.stdout
    assert census(box) - before == {}  # neither a resource group nor a second identity
    assert SessionStore().load("seed-cross-tenant").outcomes["identity"].created == []


def test_reusing_an_identity_that_does_not_exist_fails_with_the_fix(make_sandbox: MakeSandbox,
                                                                    tmp_path: Path) -> None:
    box = make_sandbox()

    run = apply(box, seed_variant(tmp_path / "plan.toml", identity={"reuse": True}))

    assert run.returncode == 1
    no_traceback(run)
    assert failed_line(run.stdout, "identity").endswith("[IdentityNotFound]")
    assert "reuses the managed identity mi-wi-demo" in run.stdout
    assert "set identity.reuse = false to create it" in run.stdout
    assert not [i for i in arm_resources(box, IDENTITY_TYPE) if i["name"] == "mi-wi-demo"]


def test_a_role_the_identity_side_login_may_not_assign_fails_clearly_and_the_session_keeps_what_was_made(
        make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(scenario_ref=ENGINE_WORLD)  # fabrikam's service principal is only Contributor

    run = apply(box, SEED_PLAN)

    assert run.returncode == 1
    no_traceback(run)
    assert failed_line(run.stdout, "role").endswith("Not allowed to assign Reader [RoleAssignmentNotAllowed]")
    fabrikam = Env(box).subscription_id("fabrikam")
    assert f"may not create role assignments on /subscriptions/{fabrikam}" in run.stdout
    assert "--role Reader" in run.stdout and "az role assignment create" in run.stdout
    session = SessionStore().load("seed-cross-tenant")
    [identity] = [i for i in arm_resources(box, IDENTITY_TYPE) if i["name"] == "mi-wi-demo"]
    # The identity made before the failure is recorded as this session's, so nothing is left unexplained.
    assert identity["id"].lower() in {c.lower() for c in session.outcomes["identity"].created}
    diagnosis = session.outcomes["role"].diagnosis
    assert diagnosis is not None and diagnosis["step"] == "role"
    assert not [a for a in arm_resources(box, ASSIGNMENT_TYPE)
                if a["properties"]["principalId"] == session.outcomes["identity"].values["principal_id"]]
