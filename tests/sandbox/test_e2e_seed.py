"""The seed walkthrough end to end on the sandbox, through the SDKs only: a pod in contoso's AKS cluster reads
fabrikam's compute quota through workload identity federation, and the failure cases people actually hit."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.conftest import Env
from tests.sandbox import seedflow
from wizard.sandbox import Sandbox

SUBJECT = f"system:serviceaccount:{seedflow.NAMESPACE}:{seedflow.SERVICE_ACCOUNT}"


@pytest.fixture
def world(make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> Env:
    return make_env(make_sandbox())


def test_cross_tenant_pod_logs_fabrikam_quota_limit_and_usage(world: Env) -> None:
    issuer = seedflow.enable_workload_identity(world)
    assert issuer.startswith(world.box.base_url + "/") and issuer.endswith("/")
    ident = seedflow.create_identity(world)
    assert ident.tenant_id == world.tenant_id("fabrikam")
    seedflow.federate(world, issuer, SUBJECT)
    v1 = seedflow.kube_client(world)

    pod = seedflow.deploy(v1, ident.client_id, "wi-demo-app", seedflow.demo_env(world))

    env = {e.name: e.value for e in pod.spec.containers[0].env}
    assert env["AZURE_TENANT_ID"] == world.tenant_id("fabrikam"), "the explicit env entry beats the webhook's tenant"
    assert env["AZURE_CLIENT_ID"] == ident.client_id
    assert env["AZURE_FEDERATED_TOKEN_FILE"].startswith("/var/run/secrets/azure/")
    assert seedflow.wait_started(v1, "wi-demo-app") == "Running"
    lines = seedflow.follow_logs(v1, "wi-demo-app", until=("usage:",))
    limit = json.loads(next(line for line in lines if line.startswith("limit: ")).removeprefix("limit: "))
    usage = json.loads(lines[-1].removeprefix("usage: "))
    assert limit["properties"]["limit"]["value"] == 20
    assert usage["properties"]["usages"]["value"] == 4
    assert world.subscription_id("fabrikam") in limit["id"]


def test_pod_without_tenant_override_fails_with_aadsts700016_in_its_logs(world: Env) -> None:
    issuer = seedflow.enable_workload_identity(world)
    ident = seedflow.create_identity(world)
    seedflow.federate(world, issuer, SUBJECT)
    v1 = seedflow.kube_client(world)

    seedflow.deploy(v1, ident.client_id, "wi-demo-app", seedflow.demo_env(world, tenant_override=False))

    seedflow.wait_started(v1, "wi-demo-app")
    lines = seedflow.follow_logs(v1, "wi-demo-app", until=("usage:",))
    assert any("AADSTS700016" in line for line in lines), lines
    assert not any(line.startswith("usage:") for line in lines)


def test_subject_mismatch_fails_with_no_matching_federated_identity_record(world: Env) -> None:
    issuer = seedflow.enable_workload_identity(world)
    ident = seedflow.create_identity(world)
    seedflow.federate(world, issuer, SUBJECT)
    v1 = seedflow.kube_client(world)

    seedflow.deploy(v1, ident.client_id, "wi-other-app", seedflow.demo_env(world), service_account="other-account")

    seedflow.wait_started(v1, "wi-other-app")
    lines = seedflow.follow_logs(v1, "wi-other-app", until=("usage:",))
    assert any("AADSTS700213" in line or "AADSTS70021" in line for line in lines), lines


def test_identity_without_role_fails_with_authorization_failed(world: Env) -> None:
    issuer = seedflow.enable_workload_identity(world)
    ident = seedflow.create_identity(world, with_reader=False)
    seedflow.federate(world, issuer, SUBJECT)
    v1 = seedflow.kube_client(world)

    seedflow.deploy(v1, ident.client_id, "wi-demo-app", seedflow.demo_env(world))

    seedflow.wait_started(v1, "wi-demo-app")
    lines = seedflow.follow_logs(v1, "wi-demo-app", until=("usage:",))
    assert any("AuthorizationFailed" in line for line in lines), lines
