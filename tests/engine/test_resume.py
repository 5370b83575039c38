"""Resuming a session (`wi-wizard resume NAME --headless`, `Engine.resume`): a run stopped by a cause fixed
outside the wizard finishes; what was changed or deleted outside the wizard since a run finished (a federated
credential, a pod, the identity, the whole cluster and so its issuer) is found by re-checking the finished steps in
parallel and made right again; login always happens again (no credential or token is ever saved) and a login that
fails stops at the login step; a session that cannot be resumed (unknown, its sandbox stopped or killed, open in
another process) is refused with exit 2 and the fix.

Every run goes through the real SDKs and the kubernetes client against a private sandbox; changes "outside the
wizard" are made the way a person would: with the Azure SDK or the kubernetes client.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Env
from tests.engine.support import sandbox_cloud
from wizard import plan as plan_mod
from wizard.engine import Engine
from wizard.flow import DONE
from wizard.sandbox import Sandbox
from wizard.session import Session, SessionStore, Target
from wizard.steps.base import Event

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "examples" / "seed-cross-tenant.toml"
RESUME_WORLD = str(Path(__file__).resolve().parent / "data" / "resume-world.toml")
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
FIC_TYPE = "microsoft.managedidentity/userassignedidentities/federatedidentitycredentials"
PROMPT = re.compile(r"^To sign in, open (?P<uri>\S+) and enter the code (?P<code>[A-Z0-9]{9}) "
                    r"\(expires \d\d:\d\d:\d\d\)\.$")


# -- helpers ----------------------------------------------------------------------------------------------------


def wizard(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`wi-wizard ARGS…` as its own process (WI_WIZARD_HOME is the test's, set by the autouse fixture)."""
    return subprocess.run([sys.executable, "-m", "wizard", *args], env=os.environ.copy(), cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


def endpoints(box: Sandbox) -> Path:
    return Path(box.state_dir) / "endpoints.json"


def apply(box: Sandbox, session: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return wizard("apply", str(PLAN), "--sandbox-endpoints", str(endpoints(box)), "--session", session, *extra)


def resume(session: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return wizard("resume", session, "--headless", *extra)


def proven(run: subprocess.CompletedProcess[str]) -> str:
    """The run's stdout, once it is sure the run exited 0 with access proven."""
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Access proven" in run.stdout
    return run.stdout


def marks(out: str, mark: str) -> list[str]:
    """The steps with a line of this mark (✓ done, ! warning, ✗ failed), in printed order."""
    return [line.split()[1] for line in out.splitlines() if line.startswith(f"  {mark} ")]


def nothing_redone(out: str) -> None:
    """Every step was re-checked and found in place (login always signs in again; trust is verified afresh, and
    the logs step says again what the pod's log proves)."""
    assert marks(out, "✓") == ["login", "cluster", "identity", "role", "federation", "trust", "deploy", "logs"]
    assert marks(out, "!") == []
    for step in ("cluster", "identity", "role", "federation", "deploy"):
        assert line_of(out, "✓", step).endswith("(unchanged)"), step
    assert line_of(out, "✓", "logs").startswith("The workload read the quota and its usage")
    assert "Nothing to change: everything was already in place." in out


def line_of(out: str, mark: str, step: str, index: int = 0) -> str:
    """The text of a step's line with this mark (' ' for information lines); `index` picks among several."""
    found = [line for line in out.splitlines() if line.startswith(f"  {mark} {step:<11} ")][index]
    return found[len(f"  {mark} {step:<11} "):]


def saved(name: str) -> Session:
    return SessionStore().load(name)


def session_text(name: str) -> str:
    return SessionStore().path(name).read_text()


def fics(box: Sandbox) -> list[dict[str, Any]]:
    """Every federated identity credential in the sandbox (the server's own state, for counting)."""
    return [doc for doc in box.world.store.values("arm") if str(doc.get("type", "")).lower() == FIC_TYPE]


def container_processes(box: Sandbox, pod_uid: str) -> list[int]:
    """PIDs of the processes the sandbox's kubelet runs for a pod (they work in the pod's directory)."""
    where = str((Path(box.state_dir) / "pods" / pod_uid).resolve())
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and os.readlink(entry / "cwd").startswith(where):
                found.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to look at
            continue
    return found


def msi_client(env: Env) -> Any:
    from azure.mgmt.msi import ManagedServiceIdentityClient

    return ManagedServiceIdentityClient(env.sp_credential("fabrikam"), env.subscription_id("fabrikam"),
                                        **env.client_kwargs())


def assert_no_secret(text: str, env: Env) -> None:
    """No access token (a JWT starts `eyJ`), refresh token or client secret anywhere in a saved session."""
    assert "eyJ" not in text
    assert "refresh_token" not in text and "access_token" not in text
    for tenant in env.tenants.values():
        assert tenant["service_principal"]["client_secret"] not in text


# -- a run stopped by a cause fixed outside the wizard ------------------------------------------------------------


def test_a_run_stopped_at_the_role_step_is_finished_by_resume_once_an_owner_granted_the_role(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> None:
    from azure.identity import DeviceCodeCredential
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    box = make_sandbox(scenario_ref=RESUME_WORLD)
    env = make_env(box)
    failed = apply(box, "role-later")  # the identity side signs in as a Contributor: it may not assign roles

    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert marks(failed.stdout, "✓") == ["login", "cluster", "identity"]
    assert line_of(failed.stdout, "✗", "role") == "Not allowed to assign Reader [RoleAssignmentNotAllowed]"
    sub = env.subscription_id("fabrikam")
    assert f"may not create role assignments on /subscriptions/{sub}" in failed.stdout
    assert "fix: Sign in on the identity side with an account that may assign roles" in failed.stdout
    assert "Resume with `wi-wizard resume role-later --headless` once fixed." in failed.stdout
    stopped = saved("role-later")
    assert stopped.state == "failed"
    assert stopped.outcomes["role"].status == "failed"
    assert stopped.outcomes["role"].diagnosis is not None
    principal = stopped.outcomes["identity"].values["principal_id"]

    # An Owner of the identity's subscription (megan, signing in with a device code) grants the role herself.
    megan = DeviceCodeCredential(tenant_id=env.tenant_id("fabrikam"), prompt_callback=lambda *_: None,
                                 disable_instance_discovery=True, **env.common())
    scope = f"/subscriptions/{sub}"
    granted = AuthorizationManagementClient(megan, sub, **env.client_kwargs()).role_assignments.create(
        scope, str(uuid.uuid4()), RoleAssignmentCreateParameters(
            role_definition_id=f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
            principal_id=principal, principal_type="ServicePrincipal"))

    out = proven(resume("role-later"))

    assert marks(out, "✓") == ["login", "cluster", "identity", "role", "federation", "trust", "deploy", "logs"]
    assert marks(out, "✗") == []
    finished = saved("role-later")
    role = finished.outcomes["role"]
    assert (finished.state, role.status, role.diagnosis) == (DONE, "done", None)
    assert role.values["assignment_ids"] == granted.id
    assert role.created == []  # the Owner made it, not this session: teardown must leave it
    readers = [doc for doc in box.world.store.values("arm")
               if str(doc.get("type", "")).lower() == "microsoft.authorization/roleassignments"
               and doc["properties"]["principalId"] == principal]
    assert len(readers) == 1
    assert len(fics(box)) == 1


# -- what changed outside the wizard after a run finished -------------------------------------------------------


@pytest.mark.parametrize("change", ["deleted", "subject changed"])
def test_a_federated_credential_changed_outside_the_wizard_is_made_right_again_on_resume(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env], change: str) -> None:
    box = make_sandbox()
    env = make_env(box)
    proven(apply(box, "fic-drift"))
    before = saved("fic-drift")
    federation = before.outcomes["federation"].values
    msi = msi_client(env).federated_identity_credentials
    if change == "deleted":
        msi.delete("rg-wi-demo", "mi-wi-demo", "fc-wi-demo")
        why = "the identity mi-wi-demo has no federated credential fc-wi-demo"
        redone = "Created federated credential fc-wi-demo"
    else:
        msi.create_or_update("rg-wi-demo", "mi-wi-demo", "fc-wi-demo", {
            "issuer": federation["issuer"], "subject": "system:serviceaccount:default:someone-else",
            "audiences": ["api://AzureADTokenExchange"]})
        why = ("subject differs: the credential has 'system:serviceaccount:default:someone-else', the "
               "ServiceAccount's is 'system:serviceaccount:default:wi-demo-account'")
        redone = "Corrected federated credential fc-wi-demo"

    run = resume("fic-drift")

    out = proven(run)
    assert run.stderr == ""  # the trust re-check's refused exchange is reported as a link, not logged by the SDK
    assert line_of(out, "!", "federation") == f"changed outside the wizard: {why}; doing it again"
    # Only federation changed (the trust re-check, run alongside, says which of its links fails until it is redone).
    assert set(marks(out, "!")) <= {"federation", "trust"}
    # The steps before it are re-checked and unchanged; federation is redone, and the later steps run after it.
    assert marks(out, "✓") == ["login", "cluster", "identity", "role", "federation", "trust", "deploy", "logs"]
    for step in ("cluster", "identity", "role"):
        assert line_of(out, "✓", step).endswith("(unchanged)")
    assert line_of(out, "✓", "federation").startswith(redone)
    assert "Nothing to change" not in out
    assert out.index("  ! federation") < out.index("  ✓ federation") < out.index("  ✓ trust")
    [fic] = list(msi.list("rg-wi-demo", "mi-wi-demo"))
    assert (fic.name, fic.issuer, fic.subject) == ("fc-wi-demo", federation["issuer"], federation["subject"])
    assert len(fics(box)) == 1
    after = saved("fic-drift")
    assert after.state == DONE
    assert after.outcomes["federation"].values == federation
    assert after.outcomes["federation"].created == [fic.id]


def test_an_equal_role_assignment_made_outside_under_another_name_is_kept_and_reported_on_resume(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> None:
    """A finished step whose check still passes but observes something new (here the assignment's ID) says so and
    keeps the new observation; nothing is redone."""
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    box = make_sandbox()
    env = make_env(box)
    proven(apply(box, "same-role"))
    before = saved("same-role")
    old_id = before.outcomes["role"].values["assignment_ids"]
    principal = before.outcomes["identity"].values["principal_id"]
    sub = env.subscription_id("fabrikam")
    scope = f"/subscriptions/{sub}"
    auth = AuthorizationManagementClient(env.sp_credential("fabrikam"), sub, **env.client_kwargs()).role_assignments
    auth.delete_by_id(old_id)
    equal = auth.create(scope, str(uuid.uuid4()), RoleAssignmentCreateParameters(
        role_definition_id=f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
        principal_id=principal, principal_type="ServicePrincipal"))

    out = proven(resume("same-role"))

    assert line_of(out, "!", "role") == (f"changed outside the wizard: assignment_ids was {old_id!r}, "
                                         f"is now {equal.id!r}")
    assert marks(out, "!") == ["role"]
    assert marks(out, "✓") == ["login", "cluster", "identity", "role", "federation", "trust", "deploy", "logs"]
    assert "Nothing to change: everything was already in place." in out
    assert saved("same-role").outcomes["role"].values["assignment_ids"] == equal.id


def test_a_pod_deleted_outside_the_wizard_is_deployed_again_and_proves_access_on_resume(
        make_sandbox: Callable[..., Sandbox]) -> None:
    from kubernetes import client, config

    box = make_sandbox()
    proven(apply(box, "pod-gone"))
    old_uid = saved("pod-gone").outcomes["deploy"].values["pod_uid"]
    core = client.CoreV1Api(config.new_client_from_config(config_file=str(box.kubeconfig), context="aks-wi-demo"))
    core.delete_namespaced_pod("wi-demo-app", "default", grace_period_seconds=0)
    deadline = time.monotonic() + 30
    while any(p.metadata.name == "wi-demo-app" for p in core.list_namespaced_pod("default").items):
        assert time.monotonic() < deadline, "the deleted pod never went away"
        time.sleep(0.1)

    out = proven(resume("pod-gone"))

    assert line_of(out, "!", "deploy") == ("changed outside the wizard: pod default/wi-demo-app does not exist; "
                                           "doing it again")
    assert "created pod default/wi-demo-app" in line_of(out, "✓", "deploy").lower()
    assert not line_of(out, "✓", "logs").endswith("(unchanged)")  # the new pod proved it again
    new_uid = saved("pod-gone").outcomes["deploy"].values["pod_uid"]
    assert new_uid != old_uid
    pod = core.read_namespaced_pod("wi-demo-app", "default")
    assert pod.metadata.uid == new_uid


def test_a_cluster_recreated_outside_the_wizard_gets_its_new_issuer_trusted_on_resume(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> None:
    """Re-creating the cluster gives it a new OIDC issuer URL: the re-checked cluster step reports it, and the
    federated credential (checked in parallel against the old issuer) is re-checked against the new one."""
    from azure.mgmt.containerservice import ContainerServiceClient

    box = make_sandbox()
    env = make_env(box)
    proven(apply(box, "new-cluster"))
    before = saved("new-cluster")
    old_issuer = before.outcomes["cluster"].values["issuer_url"]
    old_pod = before.outcomes["deploy"].values["pod_uid"]
    assert container_processes(box, old_pod) != []  # the quota reader keeps reading
    aks = ContainerServiceClient(env.sp_credential("contoso"), env.subscription_id("contoso"),
                                 **env.client_kwargs()).managed_clusters
    aks.begin_delete("rg-wi-demo", "aks-wi-demo").result()
    deadline = time.monotonic() + 15
    while container_processes(box, old_pod):  # a deleted cluster's containers are stopped, not left running
        assert time.monotonic() < deadline, "the deleted cluster's container is still running"
        time.sleep(0.1)
    recreated = aks.begin_create_or_update("rg-wi-demo", "aks-wi-demo", {
        "location": "eastus", "identity": {"type": "SystemAssigned"},
        "properties": {"dnsPrefix": "wi", "agentPoolProfiles": [
            {"name": "nodepool1", "count": 1, "vmSize": "Standard_DS2_v2", "mode": "System", "osType": "Linux"}],
            "oidcIssuerProfile": {"enabled": True}, "securityProfile": {"workloadIdentity": {"enabled": True}}},
    }).result()
    new_issuer = recreated.oidc_issuer_profile.issuer_url
    assert new_issuer != old_issuer

    out = proven(resume("new-cluster"))

    cluster = line_of(out, "!", "cluster")
    assert cluster.startswith("changed outside the wizard: ") and old_issuer in cluster and new_issuer in cluster
    # The cluster step is redone, and each later step is checked against what it observes now.
    assert line_of(out, " ", "federation") == (
        f"issuer differs: the credential has {old_issuer!r}, the cluster reports {new_issuer!r}")
    assert line_of(out, "✓", "federation").startswith("Corrected federated credential fc-wi-demo")
    assert "The ServiceAccount does not exist: ServiceAccount default/wi-demo-account is not on the cluster" \
        in line_of(out, " ", "trust")  # the new cluster has none yet: the trust step makes it
    assert "Unexpected error" not in out
    assert "created pod default/wi-demo-app" in line_of(out, "✓", "deploy").lower()  # the new cluster had no pod
    [fic] = fics(box)
    assert fic["properties"]["issuer"] == new_issuer
    after = saved("new-cluster")
    assert after.outcomes["cluster"].values["issuer_url"] == new_issuer
    assert after.outcomes["federation"].values["issuer"] == new_issuer


def test_an_identity_recreated_outside_the_wizard_gets_its_role_credential_and_pod_again_on_resume(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> None:
    """Same name, new principal: its role assignment and federated credential did not survive, and the pod and
    ServiceAccount still name the old client ID."""
    box = make_sandbox()
    env = make_env(box)
    proven(apply(box, "new-identity"))
    before = saved("new-identity")
    old, old_assignment = before.outcomes["identity"].values, before.outcomes["role"].values["assignment_ids"]
    msi = msi_client(env)
    msi.user_assigned_identities.delete("rg-wi-demo", "mi-wi-demo")
    new = msi.user_assigned_identities.create_or_update("rg-wi-demo", "mi-wi-demo", {"location": "eastus"})
    assert fics(box) == []

    out = proven(resume("new-identity"))

    warning = line_of(out, "!", "identity")
    assert warning.startswith("changed outside the wizard: ") and old["principal_id"] in warning
    assert new.principal_id in warning
    for step in ("role", "federation", "deploy"):
        assert not line_of(out, "✓", step).endswith("(unchanged)"), step
    scope = f"/subscriptions/{env.subscription_id('fabrikam')}"
    assert line_of(out, "✓", "trust") == (f"Trust proven: the ServiceAccount's token becomes identity {new.client_id} "
                                          f"and may read {scope}")  # said afresh, not the old identity's summary
    assert f"AZURE_CLIENT_ID {new.client_id}" in line_of(out, "✓", "deploy")
    after = saved("new-identity")
    assert after.outcomes["identity"].values["client_id"] == new.client_id
    assignment = after.outcomes["role"].values["assignment_ids"]
    assert assignment != old_assignment
    stored = box.world.store.get("arm", assignment.lower())
    assert stored is not None and stored["properties"]["principalId"] == new.principal_id
    [fic] = fics(box)
    assert fic["id"].lower().startswith(new.id.lower() + "/")


# -- how resume re-checks: login first, then the finished steps in parallel -----------------------------------


@dataclass
class Stamped:
    event: Event
    at: float
    thread: str


def test_resume_signs_in_again_then_rechecks_the_finished_steps_in_parallel_and_saves_no_token(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> None:
    box = make_sandbox()
    env = make_env(box)
    store = SessionStore()
    cloud = sandbox_cloud(box)
    first = Engine(Session("parallel", plan_mod.load(PLAN), Target("sandbox", cloud.endpoints_path)), store, cloud)
    assert first.run() == DONE, first.session.outcomes

    # A new process's engine: the saved session, no credential. Each re-check blocks when it starts until four
    # have started, so a resume that re-checked one step at a time could not get past the first (no timing luck).
    session = store.load("parallel")
    gate = threading.Barrier(4, timeout=20)
    stamped: list[Stamped] = []
    broken: list[str] = []
    lock = threading.Lock()

    def report(event: Event) -> None:
        with lock:
            stamped.append(Stamped(event, time.monotonic(), threading.current_thread().name))
            gated = event.message.startswith("re-checking") and \
                sum(s.event.message.startswith("re-checking") for s in stamped) <= 4
        if gated:
            try:
                gate.wait()
            except threading.BrokenBarrierError:
                broken.append(event.step)

    again = Engine(session, store, cloud, report=report)
    assert again.ctx.credentials == {}
    since = len(box.world.requests)

    assert again.resume() == DONE

    assert broken == []
    rechecks = [s for s in stamped if s.event.message.startswith("re-checking")]
    assert all(s.event.kind == "progress" for s in rechecks)
    assert {s.event.step for s in rechecks} == {"cluster", "identity", "role", "federation", "trust", "deploy",
                                                "logs"}
    assert len({s.thread for s in rechecks}) >= 4 and all(s.thread.startswith("recheck") for s in rechecks)
    # Login ran first, for real (tokens were requested again), before any re-check started.
    done = [s for s in stamped if s.event.kind == "done"]
    assert done[0].event.step == "login"
    assert done[0].at < min(s.at for s in rechecks)
    assert set(again.ctx.credentials) == {"cluster", "identity"}
    token_posts = [r for r in list(box.world.requests)[since:] if r.method == "POST" and r.path.endswith("/token")]
    assert len(token_posts) >= 2
    assert [s.event.step for s in done] == ["login", "cluster", "identity", "role", "federation", "trust", "deploy",
                                            "logs"]
    assert all(s.event.message.endswith("(unchanged)") for s in done[1:] if s.event.step != "trust")
    assert next(s for s in done if s.event.step == "trust").event.message.startswith("Trust proven")
    assert [step for step in again.stats.applied if step != "login"] == []  # re-checked, nothing redone
    assert_no_secret(session_text("parallel"), env)


# -- device-code login, headless ---------------------------------------------------------------------------------


def test_device_code_login_prompts_on_stderr_only_and_resume_prompts_again(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> None:
    box = make_sandbox(device_code_auto_approve=0.3)
    env = make_env(box)

    run = apply(box, "by-code", "--login", "device-code")

    out = proven(run)
    prompts = [PROMPT.match(line) for line in run.stderr.splitlines()]
    assert all(prompts), run.stderr  # nothing but the prompt lines on stderr (azure-identity prints nothing)
    assert [m["uri"] for m in prompts if m] == [f"{box.base_url}/devicelogin"] * 2  # one per tenant
    assert len({m["code"] for m in prompts if m}) == 2
    assert "devicelogin" not in out and "enter the code" not in out
    session = saved("by-code")
    logins = {side: (login.method, login.account) for side, login in session.logins.items()}
    assert logins == {"cluster": ("device-code", "alex@contoso.onmicrosoft.com"),
                      "identity": ("device-code", "megan@fabrikam.onmicrosoft.com")}
    assert_no_secret(session_text("by-code"), env)

    again = resume("by-code")  # no --login: it signs in the way the session did, so it prompts again

    nothing_redone(proven(again))
    assert len([line for line in again.stderr.splitlines() if PROMPT.match(line)]) == 2
    assert all(PROMPT.match(line) for line in again.stderr.splitlines()), again.stderr
    assert {side: login.method for side, login in saved("by-code").logins.items()} == {
        "cluster": "device-code", "identity": "device-code"}
    assert_no_secret(session_text("by-code"), env)


# -- sessions that cannot be resumed ----------------------------------------------------------------------------


def test_resume_of_an_unknown_session_exits_2_and_says_how_to_list_sessions() -> None:
    run = resume("no-such-session")
    assert run.returncode == 2
    assert run.stdout == ""
    assert "no session named 'no-such-session'" in run.stderr
    assert "`wi-wizard sessions` lists the saved ones" in run.stderr


@pytest.mark.parametrize("how", ["stopped", "killed"])
def test_resume_after_the_sandbox_went_away_exits_2_naming_the_command_that_restarts_it(
        make_sandbox: Callable[..., Sandbox], tmp_path: Path, how: str) -> None:
    from wizard.sandbox.launcher import running

    state_dir = tmp_path / "box"
    serve = subprocess.Popen(
        [sys.executable, "-m", "wizard", "sandbox", "serve", "--state-dir", str(state_dir), "--lro-seconds", "0.5",
         "--kubelet-speed", "4"], env=os.environ.copy(), cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while (found := running(state_dir)) is None:
            assert serve.poll() is None and time.monotonic() < deadline, "the sandbox did not start"
            time.sleep(0.1)
        proven(wizard("apply", str(PLAN), "--sandbox-endpoints", str(found), "--session", "box-gone"))
    finally:
        # A clean stop (SIGTERM) removes the endpoints file; a killed sandbox leaves it, naming a dead process.
        serve.send_signal(signal.SIGTERM if how == "stopped" else signal.SIGKILL)
        serve.wait(timeout=30)
    endpoints_file = state_dir / "endpoints.json"
    assert endpoints_file.exists() == (how == "killed")

    refused = resume("box-gone")

    assert refused.returncode == 2, refused.stdout + refused.stderr
    why = f"its process {serve.pid} is gone" if how == "killed" else f"{endpoints_file} does not exist"
    assert f"which is not running ({why})" in refused.stderr
    assert f"Start it again with `wi-wizard sandbox serve --state-dir {state_dir}`" in refused.stderr
    assert saved("box-gone").state == DONE  # refused before anything was touched

    make_sandbox(state_dir=state_dir)  # what `wi-wizard sandbox serve --state-dir DIR` does: same world, same port
    nothing_redone(proven(resume("box-gone")))


def test_a_login_that_fails_on_resume_stops_at_the_login_step_with_its_diagnosis(
        make_sandbox: Callable[..., Sandbox]) -> None:
    box = make_sandbox()
    proven(apply(box, "no-login"))

    failed = resume("no-login", "--login", "service-principal")  # AZURE_CLIENT_ID/SECRET are not set

    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Traceback" not in failed.stderr
    assert line_of(failed.stdout, "✗", "login") == "Service principal not configured [ServicePrincipalNotConfigured]"
    assert "Not proven: stopped at the login step." in failed.stdout
    stopped = saved("no-login")
    assert (stopped.state, stopped.outcomes["login"].status) == ("failed", "failed")
    assert {login.method for login in stopped.logins.values()} == {"sandbox"}  # a failed login replaces nothing

    nothing_redone(proven(resume("no-login")))  # signs in as before, and everything is still there
    assert saved("no-login").state == DONE


def test_resume_while_another_process_holds_the_session_exits_2_naming_its_pid(
        make_sandbox: Callable[..., Sandbox]) -> None:
    box = make_sandbox(device_code_auto_approve=None)  # the apply below waits for a sign-in nobody approves
    holder = subprocess.Popen(
        [sys.executable, "-m", "wizard", "apply", str(PLAN), "--sandbox-endpoints", str(endpoints(box)),
         "--session", "busy", "--login", "device-code"],
        env=os.environ.copy(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stderr is not None
        prompt = holder.stderr.readline()  # printed once the session is locked and the login is waiting
        assert PROMPT.match(prompt.strip()), prompt

        refused = resume("busy")

        assert refused.returncode == 2
        assert f"session 'busy' is open in another wi-wizard (pid {holder.pid}); close that one first" \
            in refused.stderr
        assert refused.stdout == ""
    finally:
        holder.send_signal(signal.SIGINT)
        try:
            holder.wait(timeout=30)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait()
    assert holder.returncode == 130
    assert not (SessionStore().directory / "busy.lock").exists()

