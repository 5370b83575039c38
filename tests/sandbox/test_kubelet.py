"""The pod runtime seen through the kubernetes client, as a user of an AKS cluster sees it: pulls and pull
failures, status objects, restart policies and crash back-off, events, logs keyed by pod UID, the env and
volumes a process really gets, and the webhook's mutation reaching a real process."""

from __future__ import annotations

import base64
from typing import Any

import jwt
import pytest
import requests

from tests.conftest import Env
from tests.sandbox import podflow
from tests.sandbox.podflow import PROBE_IMAGE, QUOTA_IMAGE, phase_is, pod_body, wait_pod, waiting_reason
from wizard.sandbox import Sandbox
from wizard.sandbox.images import markers

NO_IDENTITY_ENV = {"AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000001", "AZURE_REGION": "eastus"}


@pytest.fixture
def v1(sandbox: Sandbox) -> Any:
    return podflow.core_v1(sandbox)


@pytest.fixture
def ns(v1: Any) -> str:
    return podflow.new_namespace(v1)


def test_unknown_image_goes_from_err_image_pull_to_image_pull_back_off_with_events(v1: Any, ns: str) -> None:
    v1.create_namespaced_pod(ns, pod_body("nope", "busybox:does-not-exist"))

    pod = wait_pod(v1, ns, "nope", lambda p: waiting_reason(p) == "ImagePullBackOff")

    assert pod.status.phase == "Pending"
    assert pod.status.container_statuses[0].state.waiting.message == 'Back-off pulling image "busybox:does-not-exist"'
    seen = podflow.events(v1, ns, "nope")
    reasons = [reason for _, reason, _ in seen]
    assert reasons[:2] == ["Scheduled", "Pulling"]
    assert ("Warning", "Failed", 'Failed to pull image "busybox:does-not-exist": rpc error: code = NotFound desc = '
            'failed to pull and unpack image "docker.io/library/busybox:does-not-exist": failed to resolve reference '
            '"docker.io/library/busybox:does-not-exist": docker.io/library/busybox:does-not-exist: not found') in seen
    assert ("Warning", "Failed", "Error: ErrImagePull") in seen
    assert ("Normal", "BackOff", 'Back-off pulling image "busybox:does-not-exist"') in seen
    assert ("Warning", "Failed", "Error: ImagePullBackOff") in seen
    v1.delete_namespaced_pod("nope", ns)
    wait_pod_gone(v1, ns, "nope", timeout=5)  # nothing runs, so the graceful deletion finishes at once


def test_failing_container_with_restart_policy_never_fails_the_pod_with_a_complete_status(v1: Any, ns: str) -> None:
    v1.create_namespaced_pod(ns, pod_body("probe", PROBE_IMAGE, restart="Never"))

    pod = wait_pod(v1, ns, "probe", phase_is("Succeeded", "Failed"))

    status = pod.status
    assert status.phase == "Failed"
    assert pod.spec.node_name.startswith("aks-nodepool1-") and pod.spec.node_name.endswith("-vmss000000")
    assert status.pod_ip.startswith("10.244.") and status.pod_ips[0].ip == status.pod_ip
    assert status.host_ip == "10.224.0.4" and status.start_time is not None
    assert status.qos_class == "BestEffort"
    conditions = {c.type: c for c in status.conditions}
    assert {t: conditions[t].status for t in conditions} == {
        "PodReadyToStartContainers": "False", "Initialized": "True", "Ready": "False", "ContainersReady": "False",
        "PodScheduled": "True"}
    assert conditions["Ready"].reason == "PodFailed"
    assert all(c.last_transition_time is not None for c in status.conditions)
    container = status.container_statuses[0]
    assert (container.state.terminated.exit_code, container.state.terminated.reason) == (1, "Error")
    assert container.restart_count == 0 and container.ready is False and container.started is False
    assert container.container_id.startswith("containerd://")
    assert container.image == PROBE_IMAGE and "@sha256:" in container.image_id
    reasons = [reason for _, reason, _ in podflow.events(v1, ns, "probe")]
    pulled_here = ["Scheduled", "Pulling", "Pulled", "Created", "Started"]
    already_on_node = ["Scheduled", "Pulled", "Created", "Started"]  # another test's pod pulled it first
    assert reasons in (pulled_here, already_on_node)
    assert podflow.logs(v1, ns, "probe")[-1].startswith(markers.PROBE_PREFIX + markers.PROBE_ERROR + " ")


def test_fallback_to_logs_on_error_puts_the_log_tail_in_the_termination_message(v1: Any, ns: str) -> None:
    body = pod_body("tail", PROBE_IMAGE, container={"terminationMessagePolicy": "FallbackToLogsOnError"})
    v1.create_namespaced_pod(ns, body)

    pod = wait_pod(v1, ns, "tail", phase_is("Failed"))

    message = pod.status.container_statuses[0].state.terminated.message
    assert message.splitlines() == podflow.logs(v1, ns, "tail")
    assert message.splitlines()[-1].startswith(markers.PROBE_PREFIX + markers.PROBE_ERROR)


@pytest.mark.parametrize("policy", ["OnFailure", "Always"])
def test_failing_container_is_restarted_then_backs_off_in_crash_loop(v1: Any, ns: str, policy: str) -> None:
    v1.create_namespaced_pod(ns, pod_body("crash", QUOTA_IMAGE, restart=policy, env=NO_IDENTITY_ENV))

    pod = wait_pod(v1, ns, "crash", lambda p: waiting_reason(p) == "CrashLoopBackOff")

    container = pod.status.container_statuses[0]
    assert pod.status.phase == "Running"
    assert container.restart_count >= 1
    assert (container.last_state.terminated.exit_code, container.last_state.terminated.reason) == (1, "Error")
    uid = pod.metadata.uid
    assert container.state.waiting.message.startswith("back-off 10s restarting failed container=app pod=crash_")
    assert container.state.waiting.message.endswith(f"({uid})")
    assert ("Warning", "BackOff", f"Back-off restarting failed container app in pod crash_{ns}({uid})") in \
        podflow.events(v1, ns, "crash")
    assert any(line.startswith(markers.QUOTA_ERROR_PREFIX) for line in podflow.logs(v1, ns, "crash"))


def test_logs_are_keyed_by_pod_uid_so_a_recreated_pod_shows_only_its_own_lines(v1: Any, ns: str) -> None:
    v1.create_namespaced_pod(ns, pod_body("again", PROBE_IMAGE, env={"AZURE_CLIENT_ID": "first-run"}))
    wait_pod(v1, ns, "again", phase_is("Failed"))
    assert any("first-run" in line for line in podflow.logs(v1, ns, "again"))
    v1.delete_namespaced_pod("again", ns)
    wait_pod_gone(v1, ns, "again")

    v1.create_namespaced_pod(ns, pod_body("again", PROBE_IMAGE, env={"AZURE_CLIENT_ID": "second-run"}))
    wait_pod(v1, ns, "again", phase_is("Failed"))

    lines = podflow.logs(v1, ns, "again")
    assert any("second-run" in line for line in lines)
    assert not any("first-run" in line for line in lines)


def wait_pod_gone(v1: Any, ns: str, name: str, timeout: float = 30) -> None:
    import time

    from kubernetes.client.exceptions import ApiException

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            v1.read_namespaced_pod(name, ns)
        except ApiException as exc:
            if exc.status == 404:
                return
            raise
        time.sleep(0.1)
    raise AssertionError(f"pod {ns}/{name} still exists after {timeout} s")


def test_env_from_config_maps_and_secret_key_refs_reach_the_process(v1: Any, ns: str) -> None:
    v1.create_namespaced_config_map(ns, {"metadata": {"name": "wi"}, "data": {"AZURE_CLIENT_ID": "cm-client"}})
    v1.create_namespaced_secret(ns, {"metadata": {"name": "wi"},
                                     "data": {"tenant": base64.b64encode(b"secret-tenant").decode()}})
    container = {"envFrom": [{"configMapRef": {"name": "wi"}}],
                 "env": [{"name": "AZURE_TENANT_ID", "valueFrom": {"secretKeyRef": {"name": "wi", "key": "tenant"}}}]}
    v1.create_namespaced_pod(ns, pod_body("envs", PROBE_IMAGE, container=container))

    wait_pod(v1, ns, "envs", phase_is("Failed"))

    assert podflow.logs(v1, ns, "envs")[0] == markers.PROBE_PREFIX + markers.PROBE_EXCHANGING.format(
        client_id="cm-client", tenant_id="secret-tenant")


def test_missing_config_map_keeps_the_container_in_create_container_config_error(v1: Any, ns: str) -> None:
    container = {"envFrom": [{"configMapRef": {"name": "absent"}}]}
    v1.create_namespaced_pod(ns, pod_body("noconf", PROBE_IMAGE, container=container))

    pod = wait_pod(v1, ns, "noconf", lambda p: waiting_reason(p) == "CreateContainerConfigError")

    assert pod.status.phase == "Pending"
    assert pod.status.container_statuses[0].state.waiting.message == 'configmap "absent" not found'
    assert ("Warning", "Failed", 'Error: configmap "absent" not found') in podflow.events(v1, ns, "noconf")


def test_failed_init_container_with_restart_policy_never_fails_the_pod_before_the_app(v1: Any, ns: str) -> None:
    body = pod_body("init", PROBE_IMAGE, initContainers=[{"name": "setup", "image": PROBE_IMAGE}])
    v1.create_namespaced_pod(ns, body)

    pod = wait_pod(v1, ns, "init", phase_is("Failed"))

    assert pod.status.init_container_statuses[0].state.terminated.exit_code == 1
    assert pod.status.container_statuses[0].state.waiting.reason == "PodInitializing"
    initialized = next(c for c in pod.status.conditions if c.type == "Initialized")
    assert (initialized.status, initialized.reason) == ("False", "ContainersNotInitialized")
    assert podflow.logs(v1, ns, "init", container="setup")[-1].startswith(markers.PROBE_PREFIX + markers.PROBE_ERROR)


def test_webhook_tenant_shadows_a_tenant_given_through_env_from_in_the_running_process(
        v1: Any, ns: str, env: Env) -> None:
    """The trap, end to end: the process sees the cluster's tenant, not the ConfigMap's."""
    podflow.annotated_service_account(v1, ns, "wi", "client-of-the-sa")
    v1.create_namespaced_config_map(ns, {"metadata": {"name": "tenant-b"},
                                         "data": {"AZURE_TENANT_ID": env.tenant_id("fabrikam")}})
    body = pod_body("trap", PROBE_IMAGE, labels=podflow.WI_LABEL, service_account="wi",
                    container={"envFrom": [{"configMapRef": {"name": "tenant-b"}}]})

    created = v1.create_namespaced_pod(ns, body)
    wait_pod(v1, ns, "trap", phase_is("Failed"))

    injected = {e.name: e.value for e in created.spec.containers[0].env}
    assert injected["AZURE_TENANT_ID"] == env.tenant_id("contoso")
    assert podflow.logs(v1, ns, "trap")[0] == markers.PROBE_PREFIX + markers.PROBE_EXCHANGING.format(
        client_id="client-of-the-sa", tenant_id=env.tenant_id("contoso"))


def test_projected_token_is_a_pod_bound_token_of_the_cluster_issuer(
        v1: Any, ns: str, sandbox: Sandbox, env: Env) -> None:
    podflow.annotated_service_account(v1, ns, "wi", "some-client")
    created = v1.create_namespaced_pod(ns, pod_body("tok", PROBE_IMAGE, restart="Always", labels=podflow.WI_LABEL,
                                                    service_account="wi"))
    pod = wait_pod(v1, ns, "tok", lambda p: bool(p.status.container_statuses)
                   and p.status.container_statuses[0].last_state.terminated is not None)

    volume = next(v for v in created.spec.volumes if v.name.startswith("azure-workload-identity-reserved-"))
    source = volume.projected.sources[0].service_account_token
    token_file = sandbox.state_dir / "pods" / pod.metadata.uid / "volumes" / volume.name / source.path
    issuer = podflow.issuer_url(env)
    jwks = requests.get(f"{issuer}openid/v1/jwks", verify=sandbox.ca_bundle, timeout=10).json()
    token = token_file.read_text()
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == jwt.get_unverified_header(token)["kid"]))
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=podflow.AUDIENCE, issuer=issuer)
    assert claims["sub"] == f"system:serviceaccount:{ns}:wi"
    assert claims["kubernetes.io"]["pod"] == {"name": "tok", "uid": pod.metadata.uid}
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["kubernetes.io"]["namespace"] == ns
