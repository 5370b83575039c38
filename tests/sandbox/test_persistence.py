"""The sandbox world survives a restart: what the SDKs created is read back unchanged, the port, issuer URLs,
CA and signing keys stay the same (so kubeconfigs, federated credentials and tokens issued before keep working),
and `sandbox reset` forgets the world while keeping the CA that clients already trust."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from tests.conftest import Env
from tests.sandbox import seedflow
from tests.sandbox.test_faults import (
    ARM_SCOPE,
    PLATFORM_CLUSTER,
    platform_issuer,
    service_account_token,
    subject_of,
    workload_credential,
)
from wizard.sandbox import Sandbox

SERVICE_ACCOUNT = "persisted"


class IssuedToken:
    """A TokenCredential that hands out one token obtained earlier (to replay it after a restart)."""

    def __init__(self, token: Any) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        return self._token


def verify_with_published_keys(box: Sandbox, issuer: str, token: str) -> dict[str, Any]:
    """Verify a service-account token the way Entra does: issuer discovery, then the JWKS it names."""
    discovery = requests.get(issuer + ".well-known/openid-configuration", verify=box.ca_bundle, timeout=10).json()
    assert discovery["issuer"] == issuer
    keys = requests.get(discovery["jwks_uri"], verify=box.ca_bundle, timeout=10).json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in keys if k["kid"] == kid)
    claims: dict[str, Any] = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"],
                                        audience=seedflow.AUDIENCE, issuer=issuer)
    return claims


def snapshot(env: Env, identity: seedflow.Identity) -> dict[str, Any]:
    """Everything a client could have remembered about the world, read through the SDKs."""
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.containerservice import ContainerServiceClient
    from azure.mgmt.msi import ManagedServiceIdentityClient

    cred, sub = env.sp_credential("fabrikam"), env.subscription_id("fabrikam")
    msi = ManagedServiceIdentityClient(cred, sub, **env.client_kwargs())
    uami = msi.user_assigned_identities.get(seedflow.RG, seedflow.IDENTITY)
    fic = msi.federated_identity_credentials.get(seedflow.RG, seedflow.IDENTITY, seedflow.FIC)
    auth = AuthorizationManagementClient(cred, sub, **env.client_kwargs())
    assignments = sorted((a.id, a.role_definition_id) for a in auth.role_assignments.list_for_scope(
        f"/subscriptions/{sub}", filter=f"principalId eq '{identity.principal_id}'"))
    aks = ContainerServiceClient(env.sp_credential("contoso"), env.subscription_id("contoso"), **env.client_kwargs())
    issuers = {mc.name: mc.oidc_issuer_profile.issuer_url if mc.oidc_issuer_profile else None
               for mc in aks.managed_clusters.list()}
    return {
        "identity": (uami.id, uami.client_id, uami.principal_id, uami.tenant_id),
        "fic": (fic.id, fic.issuer, fic.subject, list(fic.audiences)),
        "assignments": assignments,
        "issuers": issuers,
        "tenants": {name: (t["tenant_id"], [s["subscription_id"] for s in t["subscriptions"]])
                    for name, t in env.tenants.items()},
    }


def test_what_the_sdks_created_survives_a_restart_with_the_same_ids_port_issuers_and_keys(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env], tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = make_sandbox(state_dir=state)
    env = make_env(first)
    issuer = platform_issuer(env)
    identity = seedflow.create_identity(env, with_reader=True)
    seedflow.federate(env, issuer, subject_of(SERVICE_ACCOUNT))
    sa_token = service_account_token(first, SERVICE_ACCOUNT)
    arm_token = env.sp_credential("fabrikam").get_token(ARM_SCOPE)
    before = snapshot(env, identity)
    port, ca = first.port, Path(first.ca_bundle).read_bytes()
    kubeconfig = Path(first.kubeconfig).read_text()
    assert first.world is not None
    arm_keys = sorted(first.world.store.keys("arm"))
    first.stop()
    assert not (state / "endpoints.json").exists()

    second = make_sandbox(state_dir=state)
    env2 = make_env(second)

    assert second.port == port, "the port is reused, so issuer URLs and kubeconfigs stay valid"
    assert Path(second.ca_bundle).read_bytes() == ca, "the CA is reused: clients keep trusting the sandbox"
    assert snapshot(env2, identity) == before
    assert before["issuers"][PLATFORM_CLUSTER] == issuer
    assert Path(second.kubeconfig).read_text() == kubeconfig
    assert second.world is not None
    assert sorted(second.world.store.keys("arm")) == arm_keys, "a restart neither loses nor re-seeds resources"

    claims = verify_with_published_keys(second, issuer, sa_token)
    assert claims["sub"] == subject_of(SERVICE_ACCOUNT)
    workload = workload_credential(env2, "fabrikam", identity.client_id, sa_token)
    assert workload.get_token(ARM_SCOPE).token, "Entra still trusts a token the cluster minted before the restart"

    from azure.mgmt.resource.resources import ResourceManagementClient

    as_workload = ResourceManagementClient(workload, env2.subscription_id("fabrikam"), **env2.client_kwargs())
    assert as_workload.resource_groups.get(seedflow.RG).name == seedflow.RG
    replayed = ResourceManagementClient(IssuedToken(arm_token), env2.subscription_id("fabrikam"),
                                        **env2.client_kwargs())
    assert replayed.resource_groups.get(seedflow.RG).name == seedflow.RG, "an Entra token from before still works"


def test_the_platform_clusters_kubernetes_objects_survive_a_restart(
        make_sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    from kubernetes import client, config

    state = tmp_path / "state"
    first = make_sandbox(state_dir=state)
    service_account_token(first, SERVICE_ACCOUNT)
    v1 = client.CoreV1Api(config.new_client_from_config(config_file=first.kubeconfig, context=PLATFORM_CLUSTER))
    uid = v1.read_namespaced_service_account(SERVICE_ACCOUNT, "default").metadata.uid
    first.stop()

    second = make_sandbox(state_dir=state)
    v1 = client.CoreV1Api(config.new_client_from_config(config_file=second.kubeconfig, context=PLATFORM_CLUSTER))
    assert v1.read_namespaced_service_account(SERVICE_ACCOUNT, "default").metadata.uid == uid


def _cli_reset(state: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wizard", "sandbox", "reset", "--yes", "--state-dir", str(state)],
                          check=False, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          env={**os.environ, "WI_WIZARD_HOME": str(home)})


def test_reset_forgets_the_world_but_keeps_the_ca(make_sandbox: Callable[..., Sandbox],
                                                 make_env: Callable[[Sandbox], Env], tmp_path: Path) -> None:
    from azure.core.exceptions import ResourceNotFoundError
    from azure.mgmt.msi import ManagedServiceIdentityClient

    state = tmp_path / "state"
    first = make_sandbox(state_dir=state)
    env = make_env(first)
    seedflow.create_identity(env, with_reader=False)
    ca = Path(first.ca_bundle).read_bytes()
    tenants = {name: t["tenant_id"] for name, t in env.tenants.items()}

    refused = _cli_reset(state, tmp_path)
    assert refused.returncode == 1 and "stop it" in refused.stderr, "no reset under a running sandbox"
    first.stop()
    result = _cli_reset(state, tmp_path)
    assert result.returncode == 0, result.stderr

    second = make_sandbox(state_dir=state)
    env2 = make_env(second)
    assert Path(second.ca_bundle).read_bytes() == ca
    assert {name: t["tenant_id"] for name, t in env2.tenants.items()} == tenants, "the scenario is seeded afresh"
    msi = ManagedServiceIdentityClient(env2.sp_credential("fabrikam"), env2.subscription_id("fabrikam"),
                                       **env2.client_kwargs())
    with pytest.raises(ResourceNotFoundError):
        msi.user_assigned_identities.get(seedflow.RG, seedflow.IDENTITY)
    assert platform_issuer(env2).startswith(second.base_url + "/oic/"), "the default clusters are back"


def test_a_world_survives_many_quick_restarts(make_sandbox: Callable[..., Sandbox],
                                              make_env: Callable[[Sandbox], Env], tmp_path: Path) -> None:
    """Start/stop in a loop (what a person pressing Ctrl-C and re-running does): nothing is lost or locked."""
    from azure.mgmt.resource.resources import ResourceManagementClient

    state = tmp_path / "state"
    names = []
    for round_ in range(3):
        box = make_sandbox(state_dir=state)
        env = make_env(box)
        rm = ResourceManagementClient(env.sp_credential("fabrikam"), env.subscription_id("fabrikam"),
                                      **env.client_kwargs())
        names.append(f"rg-round-{round_}")
        rm.resource_groups.create_or_update(names[-1], {"location": "eastus"})
        assert set(names) <= {g.name for g in rm.resource_groups.list()}
        box.stop()
        assert not (state / "endpoints.json").exists()
