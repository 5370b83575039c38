"""Fault profiles end to end: the sandbox misbehaves like Azure, and the real SDKs cope the way they do with Azure.

Transport faults (throttle, flaky, drop) are ridden out by azure-core's default retry policy; the request log
(`world.requests`, service `fault:<name>`) shows that the retries really happened. Propagation faults are seen
the way a person sees them: 403 or AADSTS70021 for a while after the change, then success.
"""

from __future__ import annotations

import logging
import socket
import ssl
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Env
from tests.sandbox import seedflow
from wizard.sandbox import Sandbox
from wizard.sandbox.faults import DEFAULT_SECONDS, PROFILES, Faults, FaultSpecError
from wizard.sandbox.world import RequestRecord

PLATFORM_RG, PLATFORM_CLUSTER = "rg-platform", "aks-platform"  # OIDC issuer + workload identity on
ARM_SCOPE = "https://management.azure.com/.default"
SA_NAMESPACE = "default"


# -- helpers ---------------------------------------------------------------------------------------------------

def faults_seen(box: Sandbox, name: str | None = None) -> list[RequestRecord]:
    assert box.world is not None
    return [r for r in box.world.requests
            if r.service.startswith("fault:") and (name is None or r.service == f"fault:{name}")]


def assert_each_fault_was_retried_to_success(box: Sandbox) -> None:
    """After every injected fault, the same call (method + path) came back and got ARM's own answer (which may
    be a 404: `check_existence` asks with HEAD and expects one)."""
    assert box.world is not None
    records = list(box.world.requests)
    for i, fault in enumerate(records):
        if fault.service.startswith("fault:"):
            retried = [r for r in records[i + 1:] if (r.method, r.path) == (fault.method, fault.path)
                       and not r.service.startswith("fault:")]
            assert retried and retried[0].status not in {0, 429, 500, 502, 503, 504}, f"{fault} was not ridden out"


def arm_workout(env: Env) -> dict[str, Any]:
    """A dozen ordinary ARM calls of every method through the real SDK clients (fabrikam's Owner SP):
    GET, HEAD, PUT, POST, DELETE, paged lists. Returns what they answered, for checking."""
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.msi import ManagedServiceIdentityClient
    from azure.mgmt.resource.resources import ResourceManagementClient
    from azure.mgmt.resource.subscriptions import SubscriptionClient

    cred, sub = env.sp_credential("fabrikam"), env.subscription_id("fabrikam")
    kw = env.client_kwargs()
    resources = ResourceManagementClient(cred, sub, **kw)
    msi = ManagedServiceIdentityClient(cred, sub, **kw)
    rg = f"rg-faults-{uuid.uuid4().hex[:6]}"
    seen: dict[str, Any] = {}
    seen["subscriptions"] = [s.subscription_id for s in SubscriptionClient(cred, **kw).subscriptions.list()]
    seen["tenants"] = [t.tenant_id for t in SubscriptionClient(cred, **kw).tenants.list()]
    seen["exists_before"] = resources.resource_groups.check_existence(rg)
    resources.resource_groups.create_or_update(rg, {"location": "eastus"})
    seen["exists_after"] = resources.resource_groups.check_existence(rg)
    seen["group"] = resources.resource_groups.get(rg).name
    seen["groups"] = {g.name for g in resources.resource_groups.list()}
    seen["provider"] = resources.providers.register("Microsoft.KubernetesConfiguration").namespace  # POST
    identity = msi.user_assigned_identities.create_or_update(rg, "mi-faults", {"location": "eastus"})
    seen["identity_again"] = msi.user_assigned_identities.get(rg, "mi-faults").client_id == identity.client_id
    seen["identities"] = [i.name for i in msi.user_assigned_identities.list_by_resource_group(rg)]
    auth = AuthorizationManagementClient(cred, sub, **kw)
    seen["reader"] = [r.role_name for r in auth.role_definitions.list(f"/subscriptions/{sub}",
                                                                      filter="roleName eq 'Reader'")]
    msi.user_assigned_identities.delete(rg, "mi-faults")
    seen["identities_after_delete"] = [i.name for i in msi.user_assigned_identities.list_by_resource_group(rg)]
    return seen


def assert_workout_answers(env: Env, seen: dict[str, Any]) -> None:
    assert seen["subscriptions"] == [env.subscription_id("fabrikam")]
    assert env.tenant_id("fabrikam") in seen["tenants"]
    assert seen["exists_before"] is False and seen["exists_after"] is True
    assert seen["group"] in seen["groups"]
    assert seen["provider"] == "Microsoft.KubernetesConfiguration"
    assert seen["identity_again"] is True
    assert seen["identities"] == ["mi-faults"]
    assert seen["reader"] == ["Reader"]
    assert seen["identities_after_delete"] == []


def platform_issuer(env: Env) -> str:
    from azure.mgmt.containerservice import ContainerServiceClient

    aks = ContainerServiceClient(env.sp_credential("contoso"), env.subscription_id("contoso"), **env.client_kwargs())
    return str(aks.managed_clusters.get(PLATFORM_RG, PLATFORM_CLUSTER).oidc_issuer_profile.issuer_url)


def service_account_token(box: Sandbox, service_account: str, cluster: str = PLATFORM_CLUSTER) -> str:
    """A projected-volume-style token for a (new) service account, minted by the cluster's TokenRequest API."""
    from kubernetes import client, config
    from kubernetes.client.exceptions import ApiException

    v1 = client.CoreV1Api(config.new_client_from_config(config_file=box.kubeconfig, context=cluster))
    try:
        v1.create_namespaced_service_account(SA_NAMESPACE, {"metadata": {"name": service_account}})
    except ApiException as exc:
        if exc.status != 409:
            raise
    answer = v1.create_namespaced_service_account_token(service_account, SA_NAMESPACE, {
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
        "spec": {"audiences": [seedflow.AUDIENCE], "expirationSeconds": 3600}})
    return str(answer.status.token)


def subject_of(service_account: str) -> str:
    return f"system:serviceaccount:{SA_NAMESPACE}:{service_account}"


def workload_credential(env: Env, tenant: str, client_id: str, sa_token: str) -> Any:
    """What a pod's azure-identity builds: the client-assertion flow with the service-account token."""
    from azure.identity import ClientAssertionCredential

    return ClientAssertionCredential(env.tenant_id(tenant), client_id, lambda: sa_token, **env.common())


def wait_for(attempt: Callable[[], Any], accept: Callable[[BaseException], bool], timeout: float = 30) -> Any:
    """Call `attempt` until it returns; exceptions `accept` deems expected are retried, others raised."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return attempt()
        except Exception as exc:
            if not accept(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.2)


# -- profiles: parsing -----------------------------------------------------------------------------------------

def test_a_profile_list_with_times_parses_and_prints_back_canonically() -> None:
    faults = Faults.parse(" Throttle , fic-propagation=30,drop ")
    assert faults.on("throttle") and faults.on("drop") and faults.on("fic-propagation")
    assert faults.seconds("fic-propagation") == 30
    assert faults.seconds("throttle") == DEFAULT_SECONDS["throttle"]
    assert faults.seconds("role-propagation") == 0, "an inactive profile has no time"
    assert Faults.parse(faults.spec()).active == faults.active
    assert Faults.parse(None).spec() == Faults.parse("none").spec() == "none"


def test_all_switches_every_profile_on_and_all_with_a_time_sets_every_time() -> None:
    assert set(Faults.parse("all").active) == set(PROFILES)
    timed = Faults.parse("all=2")
    assert all(timed.seconds(name) == 2 for name in DEFAULT_SECONDS)
    assert timed.on("drop") and timed.on("flaky")


@pytest.mark.parametrize(("spec", "message"), [
    ("earthquake", "unknown fault profile 'earthquake'"),
    ("throttle=fast", "not a number of seconds"),
    ("slow-lro=-1", "≥ 0"),
    ("role-propagation=nan", "≥ 0"),
    ("flaky=2", "takes no time"),
])
def test_a_bad_profile_is_refused_with_what_is_allowed(spec: str, message: str) -> None:
    with pytest.raises(FaultSpecError, match=message):
        Faults.parse(spec)


def test_throttle_asks_for_whole_seconds_like_arm_unless_a_fraction_is_configured() -> None:
    assert Faults.parse("throttle").retry_after() == "1"
    assert Faults.parse("throttle=3").retry_after() == "3"
    assert Faults.parse("throttle=0").retry_after() == "1", "Retry-After: 0 would mean 'absent' to azure-core"
    assert Faults.parse("throttle=0.2").retry_after() == "0.2"


def test_one_request_is_never_faulted_more_than_twice_so_default_retries_suffice() -> None:
    faults = Faults.parse("throttle,flaky,drop")
    verdicts = [faults.arm_fault("GET", "same-request") for _ in range(30)]
    assert sum(v is not None for v in verdicts) == 2
    assert sum(faults.arm_fault("GET") is not None for _ in range(30)) > 10, "without an ID the counters rule"


def test_drop_never_touches_post_or_patch() -> None:
    faults = Faults.parse("drop")
    assert [faults.arm_fault(m) for m in ["POST", "PATCH"] * 20] == [None] * 40
    assert "drop" in [faults.arm_fault("GET") for _ in range(8)]


# -- transport faults against the real SDKs --------------------------------------------------------------------

def test_throttle_answers_429_with_retry_after_and_the_sdk_waits_and_retries(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> None:
    box = make_sandbox(faults="throttle=0.2")
    env = make_env(box)

    seen = arm_workout(env)

    assert_workout_answers(env, seen)
    throttled = faults_seen(box, "throttle")
    assert len(throttled) >= 4, f"a third of the ARM calls are throttled; saw {len(throttled)}"
    assert {r.status for r in throttled} == {429}
    assert_each_fault_was_retried_to_success(box)


def test_throttle_body_and_headers_are_arms(make_sandbox: Callable[..., Sandbox],
                                            make_env: Callable[[Sandbox], Env]) -> None:
    """With retries off, the SDK surfaces ARM's own 429: code TooManyRequests and a Retry-After in seconds."""
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.resource.subscriptions import SubscriptionClient

    box = make_sandbox(faults="throttle")
    env = make_env(box)
    client = SubscriptionClient(env.sp_credential("contoso"), **{**env.client_kwargs(), "retry_total": 0})
    errors = []
    for _ in range(3):
        try:
            list(client.subscriptions.list())
        except HttpResponseError as exc:
            errors.append(exc)
    assert len(errors) == 1
    assert errors[0].status_code == 429
    assert errors[0].error is not None and errors[0].error.code == "TooManyRequests"
    assert errors[0].response is not None and errors[0].response.headers["Retry-After"] == "1"


def test_flaky_bursts_of_503_are_retried_by_the_sdk(make_sandbox: Callable[..., Sandbox],
                                                   make_env: Callable[[Sandbox], Env]) -> None:
    box = make_sandbox(faults="flaky")
    env = make_env(box)

    seen = arm_workout(env)

    assert_workout_answers(env, seen)
    flaky = faults_seen(box, "flaky")
    assert len(flaky) >= 4 and {r.status for r in flaky} == {503}
    records = list(box.world.requests) if box.world else []
    bursts = [i for i, r in enumerate(records) if r.service == "fault:flaky"
              and (i == 0 or records[i - 1].service != "fault:flaky")]
    assert all(records[i + 1].service == "fault:flaky" for i in bursts), "503s come in bursts of two"
    assert_each_fault_was_retried_to_success(box)


def test_drop_resets_connections_of_idempotent_calls_and_the_sdk_retries_quietly(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env],
        caplog: pytest.LogCaptureFixture) -> None:
    box = make_sandbox(faults="drop")
    env = make_env(box)

    with caplog.at_level(logging.DEBUG, logger="aiohttp"):
        seen = arm_workout(env)

    assert_workout_answers(env, seen)
    dropped = faults_seen(box, "drop")
    assert len(dropped) >= 3, f"every fourth idempotent call is dropped; saw {len(dropped)}"
    assert {r.method for r in dropped} <= {"GET", "HEAD", "PUT", "DELETE"}, "POST and PATCH are never dropped"
    assert {r.status for r in dropped} == {0}, "no answer at all"
    assert_each_fault_was_retried_to_success(box)
    noisy = [r for r in caplog.records if r.name.startswith("aiohttp") and (r.exc_info or r.levelno >= logging.ERROR)]
    assert noisy == [], "a dropped connection is not a server error: aiohttp must not log a traceback"


def _raw_exchange(box: Sandbox, request: bytes) -> bytes:
    """TLS over a plain socket, so a TCP reset shows as ConnectionResetError (ssl would call it a ragged EOF)."""
    context = ssl.create_default_context(cafile=box.ca_bundle)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    with socket.create_connection(("127.0.0.1", box.port), timeout=10) as sock:
        def flush() -> None:
            data = outgoing.read()
            if data:
                sock.sendall(data)

        while True:
            try:
                tls.do_handshake()
                flush()
                break
            except ssl.SSLWantReadError:
                flush()
                incoming.write(sock.recv(65536))
        tls.write(request)
        flush()
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)  # a reset raises here
            if not chunk:
                break
            incoming.write(chunk)
            try:
                while piece := tls.read(65536):
                    received += piece
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                pass
        return received


def test_drop_is_a_real_tcp_reset_not_a_clean_close(make_sandbox: Callable[..., Sandbox]) -> None:
    box = make_sandbox(faults="drop")
    request = b"GET /subscriptions?api-version=2022-12-01 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    outcomes = []
    for _ in range(4):
        try:
            outcomes.append(_raw_exchange(box, request).split(b"\r\n", 1)[0].decode())
        except ConnectionResetError:
            outcomes.append("reset")
    assert [o.startswith("HTTP/1.1 ") for o in outcomes[:3]] == [True] * 3, outcomes
    assert outcomes[3] == "reset", "the fourth idempotent call's connection is reset, not closed"


def test_all_transport_faults_together_are_ridden_out(make_sandbox: Callable[..., Sandbox],
                                                      make_env: Callable[[Sandbox], Env]) -> None:
    box = make_sandbox(faults="throttle=0.1,flaky,drop")
    env = make_env(box)

    assert_workout_answers(env, arm_workout(env))

    assert {r.service for r in faults_seen(box)} == {"fault:throttle", "fault:flaky", "fault:drop"}
    assert_each_fault_was_retried_to_success(box)
    assert box.world is not None
    assert not any("/oauth2/" in r.path for r in faults_seen(box)), "only ARM misbehaves; Entra is left alone"


# -- time-based faults -----------------------------------------------------------------------------------------

def test_slow_lro_keeps_the_cluster_update_in_progress_longer_and_it_still_completes(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> None:
    delay = 2.0
    box = make_sandbox(faults=f"slow-lro={delay:g}")
    env = make_env(box)
    started = time.monotonic()

    issuer = seedflow.enable_workload_identity(env)

    elapsed = time.monotonic() - started
    assert issuer.startswith(box.base_url + "/oic/")
    assert elapsed >= delay, f"the update finished after {elapsed:.1f} s, before the slow-lro delay of {delay} s"
    assert box.world is not None
    polls = [r for r in box.world.requests if r.method == "GET" and "/operations/" in r.path.lower()]
    assert len(polls) >= 2, "the SDK polled the operation while it was in progress"


def test_role_propagation_a_new_reader_assignment_gives_403_until_the_delay_passes(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> None:
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
    from azure.mgmt.resource.resources import ResourceManagementClient

    delay = 3.0
    box = make_sandbox(faults=f"role-propagation={delay:g}")
    env = make_env(box)
    identity = seedflow.create_identity(env, with_reader=False)
    seedflow.federate(env, platform_issuer(env), subject_of("role-prop"))
    workload = workload_credential(env, "fabrikam", identity.client_id, service_account_token(box, "role-prop"))
    sub = env.subscription_id("fabrikam")
    as_workload = ResourceManagementClient(workload, sub, **env.client_kwargs())

    def read() -> str:
        return str(as_workload.resource_groups.get(seedflow.RG).name)

    def is_403(exc: BaseException) -> bool:
        return isinstance(exc, HttpResponseError) and exc.status_code == 403

    with pytest.raises(HttpResponseError) as before:
        read()
    assert before.value.status_code == 403 and before.value.error is not None
    assert before.value.error.code == "AuthorizationFailed"

    auth = AuthorizationManagementClient(env.sp_credential("fabrikam"), sub, **env.client_kwargs())
    scope = f"/subscriptions/{sub}"
    assigned_at = time.time()
    auth.role_assignments.create(scope, str(uuid.uuid4()), RoleAssignmentCreateParameters(
        role_definition_id=f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{seedflow.READER}",
        principal_id=identity.principal_id, principal_type="ServicePrincipal"))

    with pytest.raises(HttpResponseError) as right_after:
        read()
    assert right_after.value.status_code == 403, "the new assignment is not effective yet"
    assert wait_for(read, is_403) == seedflow.RG
    assert time.time() - assigned_at >= delay, "access came before the role-propagation delay passed"
    listed = [a.principal_id for a in auth.role_assignments.list_for_scope(scope)]
    assert identity.principal_id in listed, "the assignment itself was visible in ARM all along"


def test_fic_propagation_gives_aadsts70021_until_the_delay_passes_then_a_token(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> None:
    from azure.core.exceptions import ClientAuthenticationError
    from azure.mgmt.resource.resources import ResourceManagementClient

    delay = 3.0
    box = make_sandbox(faults=f"fic-propagation={delay:g}")
    env = make_env(box)
    identity = seedflow.create_identity(env, with_reader=True)
    sa_token = service_account_token(box, "fic-prop")
    federated_at = time.time()
    seedflow.federate(env, platform_issuer(env), subject_of("fic-prop"))

    def exchange() -> str:
        return str(workload_credential(env, "fabrikam", identity.client_id, sa_token).get_token(ARM_SCOPE).token)

    def is_70021(exc: BaseException) -> bool:
        return isinstance(exc, ClientAuthenticationError) and "AADSTS70021" in str(exc)

    with pytest.raises(ClientAuthenticationError, match="AADSTS70021"):
        exchange()
    token = wait_for(exchange, is_70021)
    assert token.count(".") == 2
    assert time.time() - federated_at >= delay, "the credential matched before the fic-propagation delay passed"
    reader = ResourceManagementClient(workload_credential(env, "fabrikam", identity.client_id, sa_token),
                                      env.subscription_id("fabrikam"), **env.client_kwargs())
    assert reader.resource_groups.get(seedflow.RG).name == seedflow.RG
