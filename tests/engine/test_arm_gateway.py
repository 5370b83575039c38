"""The ARM gateway (wizard/azure/arm.py) against the sandbox, through the real SDKs over HTTPS.

Read-only tests and tests that write under names of their own use the session sandbox; tests that change
shared state (provider registration, cluster updates) or need another world start their own."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

from tests.conftest import Env
from tests.engine.support import sandbox_cloud
from wizard.azure.arm import Arm, ArmProblem, all_clusters, assignment_name
from wizard.sandbox import Sandbox, clusters

READER_GUID = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
ENGINE_WORLD = str(Path(__file__).resolve().parent / "data" / "engine-world.toml")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def gateway(env: Env, tenant: str) -> Arm:
    return Arm(sandbox_cloud(env.box), env.sp_credential(tenant))


class Waits:
    """Records the waits a gateway asks for instead of sleeping them (the gateway's callers show them)."""

    def __init__(self) -> None:
        self.waits: list[tuple[float, str]] = []

    def __call__(self, seconds: float, message: str) -> None:
        self.waits.append((seconds, message))


@pytest.fixture
def fabrikam(env: Env) -> Arm:
    return gateway(env, "fabrikam")


@pytest.fixture
def identity(env: Env, fabrikam: Arm) -> Any:
    """A fresh identity in a fresh resource group of fabrikam (names no other test uses)."""
    sub = env.subscription_id("fabrikam")
    group = unique("rg-gw")
    fabrikam.groups(sub).create(group, "eastus", {"created-by": "test"})
    return fabrikam.identities(sub).create(group, unique("mi-gw"), "eastus", {}).value


def writes(box: Sandbox, since: int) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in list(box.world.requests)[since:] if r.method not in ("GET", "HEAD")]


# -- subscriptions ----------------------------------------------------------------------------------------------


def test_subscription_resolves_by_display_name_or_id(env: Env, fabrikam: Arm) -> None:
    sub_id = env.subscription_id("fabrikam")
    by_name = fabrikam.subscriptions.resolve("fabrikam-shared")
    assert by_name.id == sub_id
    assert by_name.tenant_id == env.tenant_id("fabrikam")
    assert by_name.state == "Enabled"
    assert fabrikam.subscriptions.resolve(sub_id.upper()) == by_name


def test_unknown_subscription_names_the_ones_the_login_can_see(env: Env, fabrikam: Arm) -> None:
    with pytest.raises(ArmProblem) as caught:
        fabrikam.subscriptions.resolve("contoso-platform", who="The identity-side login")
    problem = caught.value
    assert problem.code == "SubscriptionNotFound"
    assert "The identity-side login cannot see a subscription 'contoso-platform'" in problem.cause
    assert f"fabrikam-shared ({env.subscription_id('fabrikam')})" in problem.cause
    assert problem.diagnosis("identity").step == "identity"


def test_subscription_of_another_tenant_is_not_resolved_for_that_tenant(env: Env, fabrikam: Arm) -> None:
    with pytest.raises(ArmProblem, match="in tenant"):
        fabrikam.subscriptions.resolve("fabrikam-shared", tenant_id=env.tenant_id("contoso"))


def test_subscriptions_are_listed_once_per_gateway(env: Env, fabrikam: Arm) -> None:
    before = len(env.box.world.requests)
    fabrikam.subscriptions.resolve("fabrikam-shared")
    fabrikam.subscriptions.resolve(env.subscription_id("fabrikam"))
    listed = [r for r in list(env.box.world.requests)[before:] if r.path.rstrip("/").endswith("/subscriptions")]
    assert len(listed) == 1


# -- clusters ---------------------------------------------------------------------------------------------------


def test_clusters_are_listed_with_group_location_version_and_workload_identity_state(env: Env) -> None:
    contoso = gateway(env, "contoso")
    found = {c.name: c for c in all_clusters(contoso, contoso.subscriptions.list())}
    platform = found["aks-platform"]
    assert (platform.resource_group, platform.location) == ("rg-platform", "westeurope")
    assert platform.oidc_issuer and platform.workload_identity
    assert platform.kubernetes_version.count(".") == 2
    assert platform.provisioning_state == "Succeeded"
    assert not platform.aad
    record = clusters.by_arm_id(env.box.world, platform.id)
    assert record is not None
    assert platform.issuer_url == clusters.issuer_url(env.box.world, record)
    assert platform.issuer_url is not None and platform.issuer_url.endswith("/")
    assert found["aks-wi-demo"].location == "eastus"


def test_missing_cluster_is_none(env: Env) -> None:
    contoso = gateway(env, "contoso")
    view = contoso.clusters(env.subscription_id("contoso"))
    assert view.get("rg-platform", "aks-nowhere") is None
    assert view.get("rg-nowhere", "aks-platform") is None


def test_kubeconfig_is_the_clusters_yaml_with_server_and_ca(env: Env) -> None:
    contoso = gateway(env, "contoso")
    raw = contoso.clusters(env.subscription_id("contoso")).kubeconfig("rg-platform", "aks-platform")
    assert isinstance(raw, bytes)
    config = yaml.safe_load(raw)
    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"].startswith(env.box.base_url + "/k8s/")
    assert cluster["certificate-authority-data"]


def test_enabling_workload_identity_runs_the_update_with_progress_and_rereads_the_issuer(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> None:
    box = make_sandbox(faults="slow-lro=2")
    env = make_env(box)
    contoso = gateway(env, "contoso")
    view = contoso.clusters(env.subscription_id("contoso"))
    before = view.get("rg-wi-demo", "aks-wi-demo")
    assert before is not None and before.issuer_url is None and not before.workload_identity
    progress: list[str] = []
    after = view.enable_workload_identity("rg-wi-demo", "aks-wi-demo", progress.append)
    assert after.oidc_issuer and after.workload_identity
    record = clusters.by_arm_id(box.world, after.id)
    assert record is not None and after.issuer_url == clusters.issuer_url(box.world, record)
    assert len(progress) >= 2, progress  # the 2 s update was polled and reported, not waited out silently
    assert all("aks-wi-demo" in line for line in progress)


# -- providers --------------------------------------------------------------------------------------------------


def test_provider_registration_is_polled_explicitly_until_registered(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> None:
    env = make_env(make_sandbox(lro_seconds=1.5))
    fabrikam = gateway(env, "fabrikam")
    providers = fabrikam.providers(env.subscription_id("fabrikam"))
    assert providers.state("Microsoft.KubernetesConfiguration") == "NotRegistered"
    waits = Waits()
    registered = providers.ensure_registered("Microsoft.KubernetesConfiguration", wait=_sleeping(waits))
    assert registered
    assert waits.waits and all("Microsoft.KubernetesConfiguration" in m for _, m in waits.waits)
    assert providers.state("Microsoft.KubernetesConfiguration") == "Registered"
    assert not providers.ensure_registered("Microsoft.KubernetesConfiguration", wait=waits)


def _sleeping(waits: Waits) -> Callable[[float, str], None]:
    import time

    def wait(seconds: float, message: str) -> None:
        waits(seconds, message)
        time.sleep(seconds)

    return wait


# -- identities -------------------------------------------------------------------------------------------------


def test_identity_create_reports_created_then_updated(env: Env, fabrikam: Arm) -> None:
    sub = env.subscription_id("fabrikam")
    group, name = unique("rg-gw"), unique("mi-gw")
    assert fabrikam.groups(sub).get(group) is None
    assert fabrikam.groups(sub).create(group, "eastus", {"created-by": "wi-wizard"}).created
    first = fabrikam.identities(sub).create(group, name, "eastus", {"created-by": "wi-wizard"})
    assert first.outcome == "created"
    assert first.value.tenant_id == env.tenant_id("fabrikam")
    assert first.value.tags == {"created-by": "wi-wizard"}
    again = fabrikam.identities(sub).create(group, name, "eastus", {"created-by": "wi-wizard"})
    assert again.outcome == "updated"
    assert again.value.principal_id == first.value.principal_id
    assert fabrikam.identities(sub).get(group, name) == first.value


def test_identity_of_the_same_name_in_another_group_is_found(env: Env, fabrikam: Arm, identity: Any) -> None:
    sub = env.subscription_id("fabrikam")
    elsewhere = fabrikam.identities(sub).named_elsewhere(identity.name, unique("rg-other"))
    assert [i.id for i in elsewhere] == [identity.id]
    assert fabrikam.identities(sub).named_elsewhere(identity.name, identity.resource_group) == []


# -- federated credentials ----------------------------------------------------------------------------------------


ISSUER = "https://issuer.example/tenant/cluster/"
SUBJECT = "system:serviceaccount:default:app"
AUDIENCE = "api://AzureADTokenExchange"


def test_fic_is_created_then_left_unchanged_then_corrected(env: Env, fabrikam: Arm, identity: Any) -> None:
    fics = fabrikam.fics(identity.subscription_id)
    rg, name = identity.resource_group, identity.name
    created = fics.ensure(rg, name, "fc-app", ISSUER, SUBJECT, AUDIENCE)
    assert created.outcome == "created"
    assert created.value.issuer == ISSUER  # verbatim, trailing slash kept
    since = len(env.box.world.requests)
    assert fics.ensure(rg, name, "fc-app", ISSUER, SUBJECT, AUDIENCE).outcome == "unchanged"
    assert writes(env.box, since) == []
    fixed = fics.ensure(rg, name, "fc-app", ISSUER, "system:serviceaccount:default:other", AUDIENCE)
    assert fixed.outcome == "updated"
    assert [f.subject for f in fics.list(rg, name)] == ["system:serviceaccount:default:other"]


def test_fic_with_the_same_issuer_and_subject_under_another_name_is_reused(
        env: Env, fabrikam: Arm, identity: Any) -> None:
    fics = fabrikam.fics(identity.subscription_id)
    rg, name = identity.resource_group, identity.name
    fics.put(rg, name, "fc-by-someone-else", ISSUER, SUBJECT, AUDIENCE)
    reused = fics.ensure(rg, name, "fc-app", ISSUER, SUBJECT, AUDIENCE)
    assert (reused.outcome, reused.value.name) == ("reused", "fc-by-someone-else")
    assert [f.name for f in fics.list(rg, name)] == ["fc-by-someone-else"]


def test_fic_with_the_same_issuer_and_subject_but_another_audience_is_explained(
        env: Env, fabrikam: Arm, identity: Any) -> None:
    fics = fabrikam.fics(identity.subscription_id)
    rg, name = identity.resource_group, identity.name
    fics.put(rg, name, "fc-legacy", ISSUER, SUBJECT, "api://SomethingElse")
    with pytest.raises(ArmProblem) as caught:
        fics.ensure(rg, name, "fc-app", ISSUER, SUBJECT, AUDIENCE)
    assert caught.value.code == "FederatedCredentialConflict"
    assert "'fc-legacy'" in caught.value.cause and "api://SomethingElse" in caught.value.cause
    assert caught.value.diagnosis("x").step == "federation"


def test_the_twentieth_fic_is_the_last_and_the_limit_names_them(env: Env, fabrikam: Arm, identity: Any) -> None:
    fics = fabrikam.fics(identity.subscription_id)
    rg, name = identity.resource_group, identity.name
    for n in range(20):
        fics.put(rg, name, f"fc-{n:02d}", ISSUER, f"system:serviceaccount:ns:sa-{n}", AUDIENCE)
    assert fics.ensure(rg, name, "fc-07", ISSUER, "system:serviceaccount:ns:sa-7", AUDIENCE).outcome == "unchanged"
    with pytest.raises(ArmProblem) as caught:
        fics.ensure(rg, name, "fc-app", ISSUER, SUBJECT, AUDIENCE)
    assert caught.value.code == "FederatedCredentialLimit"
    assert "at most 20" in caught.value.cause and "fc-00" in caught.value.cause and "fc-19" in caught.value.cause
    assert len(fics.list(rg, name)) == 20


# -- roles ------------------------------------------------------------------------------------------------------


def test_role_definition_by_name_guid_or_id_and_unknown_role(env: Env, fabrikam: Arm) -> None:
    sub = env.subscription_id("fabrikam")
    roles = fabrikam.roles(sub)
    reader = roles.definition("Reader", f"/subscriptions/{sub}")
    assert (reader.guid, reader.role_type) == (READER_GUID, "BuiltInRole")
    assert reader.description.startswith("View all resources")
    assert roles.definition("reader", f"/subscriptions/{sub}") == reader
    assert roles.definition(READER_GUID, f"/subscriptions/{sub}").role_name == "Reader"
    assert roles.definition(reader.id, f"/subscriptions/{sub}").role_name == "Reader"
    with pytest.raises(ArmProblem, match="Role 'Readre' not found"):
        roles.definition("Readre", f"/subscriptions/{sub}")
    with pytest.raises(ArmProblem, match="not found"):
        roles.definition(str(uuid.uuid4()), f"/subscriptions/{sub}")


def test_role_assignment_has_a_deterministic_name_and_a_second_assign_writes_the_same(
        env: Env, fabrikam: Arm, identity: Any) -> None:
    scope = f"/subscriptions/{identity.subscription_id}/resourceGroups/{identity.resource_group}"
    roles = fabrikam.roles(identity.subscription_id)
    reader = roles.definition("Reader", scope)
    first = roles.assign(scope, reader, identity.principal_id, "Created by wi-wizard session t")
    assert first.created
    assert first.value.name == assignment_name(scope, identity.principal_id, reader.id)
    assert (first.value.principal_type, first.value.description) == ("ServicePrincipal",
                                                                     "Created by wi-wizard session t")
    second = roles.assign(scope, reader, identity.principal_id, "Created by wi-wizard session t")
    assert not second.created and second.value.id == first.value.id
    assert [a.id for a in roles.assignments(scope, identity.principal_id)] == [first.value.id]


def test_role_assignment_existing_under_another_name_is_success(env: Env, fabrikam: Arm, identity: Any) -> None:
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

    scope = f"/subscriptions/{identity.subscription_id}/resourceGroups/{identity.resource_group}"
    roles = fabrikam.roles(identity.subscription_id)
    reader = roles.definition("Reader", scope)
    client = AuthorizationManagementClient(env.sp_credential("fabrikam"), identity.subscription_id,
                                           **env.client_kwargs())
    other = client.role_assignments.create(scope, str(uuid.uuid4()), RoleAssignmentCreateParameters(
        role_definition_id=reader.id, principal_id=identity.principal_id, principal_type="ServicePrincipal"))
    found = roles.assign(scope, reader, identity.principal_id, "Created by wi-wizard session t")
    assert (found.outcome, found.value.name) == ("reused", other.name)
    assert len(roles.assignments(scope, identity.principal_id)) == 1


def test_assignment_inherited_from_the_subscription_applies_to_a_group(env: Env, fabrikam: Arm,
                                                                       identity: Any) -> None:
    sub = env.subscription_id("fabrikam")
    owner_sp = fabrikam.read(f"/subscriptions/{sub}")  # the SP is Owner on the subscription
    assert owner_sp["subscriptionId"] == sub
    sp = env.tenants["fabrikam"]["service_principal"]["client_id"]
    world = env.box.world
    object_id = next(a["object_id"] for a in world.store.values("apps") if a["app_id"] == sp)
    found = fabrikam.roles(sub).assignments(f"/subscriptions/{sub}/resourceGroups/{identity.resource_group}",
                                            object_id)
    assert any(a.scope == f"/subscriptions/{sub}" for a in found)


def test_principal_not_found_is_retried_with_backoff_then_raised(env: Env, fabrikam: Arm, identity: Any) -> None:
    scope = f"/subscriptions/{identity.subscription_id}/resourceGroups/{identity.resource_group}"
    roles = fabrikam.roles(identity.subscription_id)
    reader = roles.definition("Reader", scope)
    waits = Waits()
    with pytest.raises(HttpResponseError) as caught:
        roles.assign(scope, reader, str(uuid.uuid4()), "t", wait=waits, principal_timeout=5)
    assert caught.value.error is not None and caught.value.error.code == "PrincipalNotFound"
    assert [s for s, _ in waits.waits] == [2.0]  # 2 s, then 4 s would pass the 5 s budget
    assert "replicate" in waits.waits[0][1]


# -- read (probes) ----------------------------------------------------------------------------------------------


def test_read_returns_resources_and_asks_a_provider_for_an_unknown_type_once(
        env: Env, fabrikam: Arm, identity: Any) -> None:
    assert fabrikam.read(identity.id)["properties"]["clientId"] == identity.client_id
    group = fabrikam.read(f"/subscriptions/{identity.subscription_id}/resourceGroups/{identity.resource_group}")
    assert group["name"] == identity.resource_group
    fabrikam.fics(identity.subscription_id).put(identity.resource_group, identity.name, "fc-read", ISSUER, SUBJECT,
                                                AUDIENCE)
    since = len(env.box.world.requests)
    fic_id = f"{identity.id}/federatedIdentityCredentials/fc-read"
    assert fabrikam.read(fic_id)["properties"]["subject"] == SUBJECT
    assert fabrikam.read(fic_id)["name"] == "fc-read"
    provider = f"/subscriptions/{identity.subscription_id}/providers/Microsoft.ManagedIdentity"
    assert len([r for r in list(env.box.world.requests)[since:] if r.path == provider]) <= 1
    with pytest.raises(ResourceNotFoundError):
        fabrikam.read(f"/subscriptions/{identity.subscription_id}/resourceGroups/{unique('rg-none')}")


def test_read_with_a_token_of_another_tenant_is_refused_as_wrong_tenant(env: Env) -> None:
    contoso = gateway(env, "contoso")
    with pytest.raises(ClientAuthenticationError) as caught:
        contoso.read(f"/subscriptions/{env.subscription_id('fabrikam')}")
    assert caught.value.error is not None and caught.value.error.code == "InvalidAuthenticationTokenTenant"


def test_read_without_a_role_is_authorization_failed(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> None:
    env = make_env(make_sandbox(scenario_ref=ENGINE_WORLD))
    bystander = Arm(sandbox_cloud(env.box), _bystander_credential(env))
    with pytest.raises(HttpResponseError) as caught:
        bystander.read(f"/subscriptions/{env.subscription_id('fabrikam')}")
    assert caught.value.status_code == 403
    assert caught.value.error is not None and caught.value.error.code == "AuthorizationFailed"


def _bystander_credential(env: Env) -> Any:
    """The engine world's fabrikam service principal that holds no role at all."""
    from azure.identity import ClientSecretCredential

    app = next(a for a in env.box.world.store.values("apps") if a["display_name"] == "fabrikam-bystander")
    return ClientSecretCredential(env.tenant_id("fabrikam"), app["app_id"], app["secret"],
                                  disable_instance_discovery=True, **env.common())
