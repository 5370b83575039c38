"""The known images end to end in one tenant: contoso's aks-platform cluster (OIDC issuer + workload identity on)
runs the quota reader and the probe with a contoso managed identity that trusts the pod's ServiceAccount. The
identities, roles and credentials are made with the ARM SDKs; the pods with the kubernetes client; what is
checked is what the processes wrote to their logs."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Env
from tests.sandbox import podflow
from tests.sandbox.podflow import PROBE_IMAGE, QUOTA_IMAGE, phase_is, pod_body, wait_pod
from wizard.sandbox import Sandbox
from wizard.sandbox.images import markers

P = markers.PROBE_PREFIX


@pytest.fixture(scope="module")
def trusted(sandbox: Sandbox) -> tuple[Any, str, podflow.Identity]:
    """A namespace whose `wi` ServiceAccount is trusted by a contoso UAMI with Reader on contoso's subscription."""
    env = Env(sandbox)
    v1 = podflow.core_v1(sandbox)
    ns = podflow.new_namespace(v1, "same-tenant")
    ident = podflow.federated_identity(env, f"system:serviceaccount:{ns}:wi")
    podflow.annotated_service_account(v1, ns, "wi", ident.client_id)
    return v1, ns, ident


def quota_env(env: Env) -> dict[str, str]:
    return {"AZURE_SUBSCRIPTION_ID": env.subscription_id("contoso"), "AZURE_REGION": "eastus",
            "WI_DEMO_INTERVAL_SECONDS": "1"}


def processes_under(folder: Path) -> list[int]:
    """PIDs whose working directory is inside `folder` (the kubelet starts each container there)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cwd = os.readlink(entry / "cwd")
            except OSError:
                continue
            if cwd.startswith(str(folder)):
                found.append(int(entry.name))
    return found


def test_quota_reader_logs_limit_and_usage_json_and_dies_with_its_pod(
        trusted: tuple[Any, str, podflow.Identity], env: Env, sandbox: Sandbox) -> None:
    v1, ns, _ = trusted
    v1.create_namespaced_pod(ns, pod_body("quota", QUOTA_IMAGE, restart="Always", labels=podflow.WI_LABEL,
                                          service_account="wi", env=quota_env(env)))
    pod = wait_pod(v1, ns, "quota", phase_is("Running"))

    lines = podflow.follow(v1, ns, "quota", until=(markers.QUOTA_USAGE_PREFIX, markers.QUOTA_ERROR_PREFIX))
    limit = json.loads(next(x for x in lines if x.startswith(markers.QUOTA_LIMIT_PREFIX))
                       .removeprefix(markers.QUOTA_LIMIT_PREFIX))
    usage = json.loads(lines[-1].removeprefix(markers.QUOTA_USAGE_PREFIX))
    assert limit["properties"]["limit"]["value"] == 100, lines
    assert usage["properties"]["usages"]["value"] == 12
    assert f"/subscriptions/{env.subscription_id('contoso')}/" in limit["id"]
    again = podflow.follow(v1, ns, "quota", until=(markers.QUOTA_USAGE_PREFIX,), times=2)
    assert sum(x.startswith(markers.QUOTA_USAGE_PREFIX) for x in again) >= 2, "the reader keeps reading"

    pod_dir = sandbox.state_dir / "pods" / pod.metadata.uid
    assert processes_under(pod_dir)
    v1.delete_namespaced_pod("quota", ns)
    deadline = time.monotonic() + 30
    while (processes_under(pod_dir) or pod_dir.exists()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not processes_under(pod_dir)
    assert not pod_dir.exists()


def test_probe_signs_in_reads_the_subscription_and_succeeds(
        trusted: tuple[Any, str, podflow.Identity], env: Env) -> None:
    v1, ns, ident = trusted
    resource = f"/subscriptions/{env.subscription_id('contoso')}"
    v1.create_namespaced_pod(ns, pod_body("probe", PROBE_IMAGE, restart="Never", labels=podflow.WI_LABEL,
                                          service_account="wi", env={"WI_PROBE_RESOURCE": resource}))

    pod = wait_pod(v1, ns, "probe", phase_is("Succeeded", "Failed"))

    lines = podflow.logs(v1, ns, "probe")
    tenant = env.tenant_id("contoso")
    assert lines[:3] == [
        P + markers.PROBE_EXCHANGING.format(client_id=ident.client_id, tenant_id=tenant),
        P + markers.PROBE_SIGNED_IN.format(tenant_id=tenant),
        P + markers.PROBE_GET.format(resource=resource, status=200),
    ], lines
    body = json.loads(lines[3].removeprefix(P))
    assert body["subscriptionId"] == env.subscription_id("contoso")
    assert lines[4:] == [P + markers.PROBE_OK]
    assert pod.status.phase == "Succeeded"
    terminated = pod.status.container_statuses[0].state.terminated
    assert (terminated.exit_code, terminated.reason) == (0, "Completed")


def test_probe_with_on_failure_completes_once_and_always_restarts_after_success(
        trusted: tuple[Any, str, podflow.Identity], env: Env) -> None:
    v1, ns, _ = trusted
    for name, policy in (("once", "OnFailure"), ("again", "Always")):
        v1.create_namespaced_pod(ns, pod_body(name, PROBE_IMAGE, restart=policy, labels=podflow.WI_LABEL,
                                              service_account="wi",
                                              env={"AZURE_SUBSCRIPTION_ID": env.subscription_id("contoso")}))

    once = wait_pod(v1, ns, "once", phase_is("Succeeded", "Failed"))
    again = wait_pod(v1, ns, "again", lambda p: bool(p.status.container_statuses)
                     and p.status.container_statuses[0].restart_count >= 1)

    assert once.status.phase == "Succeeded" and once.status.container_statuses[0].restart_count == 0
    assert again.status.phase == "Running"
    assert again.status.container_statuses[0].last_state.terminated.reason == "Completed"


def test_probe_without_a_role_reports_authorization_failed_and_fails(sandbox: Sandbox, env: Env) -> None:
    v1 = podflow.core_v1(sandbox)
    ns = podflow.new_namespace(v1, "no-role")
    ident = podflow.federated_identity(env, f"system:serviceaccount:{ns}:wi", reader=False)
    podflow.annotated_service_account(v1, ns, "wi", ident.client_id)
    resource = f"/subscriptions/{env.subscription_id('contoso')}"
    v1.create_namespaced_pod(ns, pod_body("probe", PROBE_IMAGE, labels=podflow.WI_LABEL, service_account="wi",
                                          env={"WI_PROBE_RESOURCE": resource}))

    pod = wait_pod(v1, ns, "probe", phase_is("Succeeded", "Failed"))

    lines = podflow.logs(v1, ns, "probe")
    assert pod.status.phase == "Failed"
    assert lines[1] == P + markers.PROBE_SIGNED_IN.format(tenant_id=env.tenant_id("contoso"))
    assert lines[2] == P + markers.PROBE_GET.format(resource=resource, status=403)
    assert lines[-1].startswith(f"{P}{markers.PROBE_ERROR} ") and "AuthorizationFailed" in lines[-1]


def test_probe_signed_in_with_nothing_to_read_says_so_and_fails(
        trusted: tuple[Any, str, podflow.Identity], env: Env) -> None:
    v1, ns, _ = trusted
    v1.create_namespaced_pod(ns, pod_body("aimless", PROBE_IMAGE, labels=podflow.WI_LABEL, service_account="wi"))

    wait_pod(v1, ns, "aimless", phase_is("Failed"))

    assert podflow.logs(v1, ns, "aimless")[1:] == [
        P + markers.PROBE_SIGNED_IN.format(tenant_id=env.tenant_id("contoso")),
        f"{P}{markers.PROBE_ERROR} nothing to read: set WI_PROBE_RESOURCE (an ARM resource ID) or "
        "AZURE_SUBSCRIPTION_ID"]


def test_probe_with_an_untrusted_service_account_reports_the_aadsts_error(
        trusted: tuple[Any, str, podflow.Identity]) -> None:
    v1, ns, ident = trusted
    podflow.annotated_service_account(v1, ns, "stranger", ident.client_id)
    v1.create_namespaced_pod(ns, pod_body("stranger", PROBE_IMAGE, labels=podflow.WI_LABEL,
                                          service_account="stranger"))

    wait_pod(v1, ns, "stranger", phase_is("Failed"))

    last = podflow.logs(v1, ns, "stranger")[-1]
    assert last.startswith(f"{P}{markers.PROBE_ERROR} ")
    assert "AADSTS70021" in last  # 70021 or one of its 70021x subject/issuer variants


def test_running_pods_restart_after_a_sandbox_restart_as_after_a_node_reboot(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env], tmp_path: Path) -> None:
    state = tmp_path / "state"
    box = make_sandbox(state_dir=state)
    env = make_env(box)
    v1 = podflow.core_v1(box)
    ident = podflow.federated_identity(env, "system:serviceaccount:default:wi")
    podflow.annotated_service_account(v1, "default", "wi", ident.client_id)
    v1.create_namespaced_pod("default", pod_body("quota", QUOTA_IMAGE, restart="Always", labels=podflow.WI_LABEL,
                                                 service_account="wi", env=quota_env(env)))
    v1.create_namespaced_pod("default", pod_body("done", PROBE_IMAGE, restart="Never"))
    wait_pod(v1, "default", "quota", phase_is("Running"))
    assert podflow.follow(v1, "default", "quota", until=(markers.QUOTA_USAGE_PREFIX,))[-1].startswith(
        markers.QUOTA_USAGE_PREFIX)
    done = wait_pod(v1, "default", "done", phase_is("Failed"))
    box.stop()

    box = make_sandbox(state_dir=state)
    v1 = podflow.core_v1(box)
    pod = wait_pod(v1, "default", "quota", lambda p: p.status.container_statuses[0].restart_count == 1
                   and p.status.container_statuses[0].state.running is not None)

    last = pod.status.container_statuses[0].last_state.terminated
    assert (last.exit_code, last.reason) == (255, "Unknown")
    deadline = time.monotonic() + 30
    while not podflow.logs(v1, "default", "quota", previous=True) and time.monotonic() < deadline:
        time.sleep(0.1)  # the restarted instance has not written yet: its log is still the previous one's
    assert podflow.logs(v1, "default", "quota", previous=True)[-1].startswith(markers.QUOTA_USAGE_PREFIX)
    lines = podflow.follow(v1, "default", "quota", until=(markers.QUOTA_USAGE_PREFIX, markers.QUOTA_ERROR_PREFIX))
    assert lines[-1].startswith(markers.QUOTA_USAGE_PREFIX), lines
    after = v1.read_namespaced_pod("done", "default")
    assert after.status.phase == "Failed"
    assert after.status.container_statuses[0].restart_count == done.status.container_statuses[0].restart_count == 0


def test_probe_succeeds_with_the_v1_5_webhook_token_layout(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> None:
    box = make_sandbox(webhook_version="1.5")
    env = make_env(box)
    v1 = podflow.core_v1(box)
    ident = podflow.federated_identity(env, "system:serviceaccount:default:wi")
    podflow.annotated_service_account(v1, "default", "wi", ident.client_id)

    created = v1.create_namespaced_pod("default", pod_body(
        "probe", PROBE_IMAGE, labels=podflow.WI_LABEL, service_account="wi",
        env={"AZURE_SUBSCRIPTION_ID": env.subscription_id("contoso")}))
    pod = wait_pod(v1, "default", "probe", phase_is("Succeeded", "Failed"))

    injected = {e.name: e.value for e in created.spec.containers[0].env}
    assert injected["AZURE_FEDERATED_TOKEN_FILE"] == "/var/run/secrets/azure/tokens/azure-identity-token"
    assert pod.status.phase == "Succeeded", podflow.logs(v1, "default", "probe")
    assert podflow.logs(v1, "default", "probe")[-1] == P + markers.PROBE_OK
