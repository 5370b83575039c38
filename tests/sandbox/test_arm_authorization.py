"""Role definitions, role assignments and RBAC enforcement through `AuthorizationManagementClient`."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from tests.conftest import Env
from tests.sandbox.arm_support import (
    SCENARIO,
    Arm,
    ScratchGroups,
    app,
    arm,
    error_code,
    scratch_groups,
    service_principal_object_id,
    sp_credential,
)
from wizard.sandbox import Sandbox

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
BUILTINS = {
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Contributor": CONTRIBUTOR, "Reader": READER,
    "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "Role Based Access Control Administrator": "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
    "Managed Identity Contributor": "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59",
    "Managed Identity Operator": "f1a07417-d97a-45cb-824c-7a7467783830",
    "Azure Kubernetes Service Cluster User Role": "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
    "Azure Kubernetes Service Cluster Admin Role": "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8",
    "Azure Kubernetes Service Contributor Role": "ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8",
    "Azure Kubernetes Service RBAC Reader": "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
    "Azure Kubernetes Service RBAC Writer": "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb",
    "Azure Kubernetes Service RBAC Admin": "3498e952-d568-435e-9b2c-8d77e338d7f7",
    "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
}


@pytest.fixture
def scratch(env: Env) -> Iterator[ScratchGroups]:
    yield from scratch_groups(env)


def _role_id(sub_scope: str, guid: str) -> str:
    return f"{sub_scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def _identity(client: Arm, rg: str, name: str) -> str:
    return str(client.msi().user_assigned_identities.create_or_update(rg, name, {"location": "eastus"}).principal_id)


def test_builtin_roles_have_their_real_ids_and_descriptions(env: Env) -> None:
    contoso = arm(env, "contoso")
    found = {d.role_name: d for d in contoso.authorization().role_definitions.list(contoso.sub_scope)}
    assert {name: d.name for name, d in found.items() if name in BUILTINS} == BUILTINS
    assert all(d.description and d.role_type == "BuiltInRole" for d in found.values())
    reader = found["Reader"]
    assert reader.id == _role_id(contoso.sub_scope, READER)
    assert reader.permissions[0].actions == ["*/read"]
    assert "Microsoft.Authorization/*/Write" in found["Contributor"].permissions[0].not_actions


def test_role_definitions_filter_by_name_at_any_scope(env: Env) -> None:
    contoso = arm(env, "contoso")
    definitions = contoso.authorization().role_definitions
    at_rg = list(definitions.list(f"{contoso.sub_scope}/resourceGroups/rg-wi-demo", filter="roleName eq 'Reader'"))
    assert [(d.id, d.role_name) for d in at_rg] == [(_role_id(contoso.sub_scope, READER), "Reader")]
    cluster = f"{contoso.sub_scope}/resourceGroups/rg-wi-demo/providers/Microsoft.ContainerService/managedClusters/" \
              "aks-wi-demo"
    assert [d.name for d in definitions.list(cluster, filter="roleName eq 'Contributor' and type eq 'BuiltInRole'")] \
        == [CONTRIBUTOR]
    assert list(definitions.list(contoso.sub_scope, filter="roleName eq 'No Such Role'")) == []
    got = definitions.get(contoso.sub_scope, READER)
    assert got.role_name == "Reader"
    root = definitions.get("/", READER)
    assert root.id == f"/providers/Microsoft.Authorization/roleDefinitions/{READER}"


def test_unknown_role_definition_is_role_definition_does_not_exist(env: Env) -> None:
    contoso = arm(env, "contoso")
    with pytest.raises(ResourceNotFoundError) as caught:
        contoso.authorization().role_definitions.get(contoso.sub_scope, str(uuid.uuid4()))
    assert error_code(caught.value) == "RoleDefinitionDoesNotExist"


def test_role_assignment_create_again_duplicate_get_list_delete(env: Env, scratch: ScratchGroups) -> None:
    fabrikam = arm(env, "fabrikam")
    rg = scratch.make(fabrikam)
    principal = _identity(fabrikam, rg, "mi-reader")
    assignments = fabrikam.authorization().role_assignments
    scope = f"{fabrikam.sub_scope}/resourceGroups/{rg}"
    params = {"role_definition_id": _role_id(fabrikam.sub_scope, READER), "principal_id": principal,
              "principal_type": "ServicePrincipal"}
    name = str(uuid.uuid4())
    created = assignments.create(scope, name, params)
    assert (created.name, created.scope, created.principal_id, created.principal_type) == (
        name, scope, principal, "ServicePrincipal")
    assert created.role_definition_id == _role_id(fabrikam.sub_scope, READER)
    assert created.created_on is not None
    status = fabrikam.raw("PUT", f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
                          api_version="2022-04-01",
                          json={"properties": {"roleDefinitionId": params["role_definition_id"],
                                               "principalId": principal}}).status_code
    assert status == 200  # the same assignment again is idempotent
    with pytest.raises(ResourceExistsError) as caught:
        assignments.create(scope, str(uuid.uuid4()), params)
    assert error_code(caught.value) == "RoleAssignmentExists"
    assert caught.value.error.message == "The role assignment already exists."
    assert assignments.get(scope, name).principal_id == principal
    by_principal = list(assignments.list_for_scope(scope, filter=f"principalId eq '{principal}'"))
    assert [a.name for a in by_principal] == [name]
    at_scope = {a.name for a in assignments.list_for_scope(scope, filter="atScope()")}
    assert name in at_scope and len(at_scope) >= 2  # the Owner assignment at the subscription is above it
    everything = {a.name for a in assignments.list_for_subscription()}
    assert name in everything
    deleted = assignments.delete(scope, name)
    assert deleted is not None and deleted.name == name
    assert assignments.delete(scope, name) is None  # 204: already gone
    with pytest.raises(ResourceNotFoundError) as missing:
        assignments.get(scope, name)
    assert error_code(missing.value) == "RoleAssignmentNotFound"


def test_role_assignment_refuses_bad_names_roles_and_principals(env: Env) -> None:
    fabrikam = arm(env, "fabrikam")
    assignments = fabrikam.authorization().role_assignments
    scope = fabrikam.sub_scope
    owner_sp = service_principal_object_id(env, "fabrikam-automation")
    good = {"role_definition_id": _role_id(scope, READER), "principal_id": owner_sp,
            "principal_type": "ServicePrincipal"}
    cases = [
        ("not-a-guid", good, "InvalidRoleAssignmentId"),
        (str(uuid.uuid4()), {**good, "role_definition_id": _role_id(scope, str(uuid.uuid4()))},
         "RoleDefinitionDoesNotExist"),
        (str(uuid.uuid4()), {**good, "principal_id": str(uuid.uuid4())}, "PrincipalNotFound"),
        (str(uuid.uuid4()), {**good, "principal_id": service_principal_object_id(env, "contoso-automation")},
         "PrincipalNotFound"),  # a principal of another tenant is not in this subscription's directory
        (str(uuid.uuid4()), {**good, "principal_type": "User"}, "UnmatchedPrincipalType"),
    ]
    for name, params, code in cases:
        with pytest.raises(HttpResponseError) as caught:
            assignments.create(scope, name, params)
        assert (caught.value.status_code, error_code(caught.value)) == (400, code), code


def test_principal_not_found_message_is_arms(env: Env) -> None:
    fabrikam = arm(env, "fabrikam")
    ghost = str(uuid.uuid4())
    with pytest.raises(HttpResponseError) as caught:
        fabrikam.authorization().role_assignments.create(fabrikam.sub_scope, str(uuid.uuid4()), {
            "role_definition_id": _role_id(fabrikam.sub_scope, READER), "principal_id": ghost,
            "principal_type": "ServicePrincipal"})
    assert caught.value.error.message.startswith(
        f"Principal {ghost.replace('-', '')} does not exist in the directory {env.tenant_id('fabrikam')}. "
        "Check that you have the correct principal ID.")


@pytest.fixture
def rbac_world(make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> Callable[..., Env]:
    def start(faults: str | None = None) -> Env:
        return make_env(make_sandbox(scenario_ref=SCENARIO, faults=faults))
    return start


def _forbidden(newcomer: Arm) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as caught:
        newcomer.resources().resource_groups.get("rg-shared")
    return caught.value


def test_principal_without_a_role_is_refused_until_granted_reader(rbac_world: Callable[..., Env]) -> None:
    env = rbac_world()
    newcomer = arm(env, "fabrikam", sp_credential(env, "fabrikam", "fabrikam-newcomer"))
    refused = _forbidden(newcomer)
    assert (refused.status_code, error_code(refused)) == (403, "AuthorizationFailed")
    oid = service_principal_object_id(env, "fabrikam-newcomer")
    client_id = app(env, "fabrikam-newcomer")["app_id"]
    assert refused.error.message == (
        f"The client '{client_id}' with object id '{oid}' does not have authorization to perform action "
        f"'Microsoft.Resources/subscriptions/resourceGroups/read' over scope '{newcomer.sub_scope}/resourcegroups/"
        "rg-shared' or the scope is invalid. If access was recently granted, please refresh your credentials.")
    assert list(newcomer.subscriptions().subscriptions.list()) == []
    owner = arm(env, "fabrikam")
    owner.authorization().role_assignments.create(newcomer.sub_scope, str(uuid.uuid4()), {
        "role_definition_id": _role_id(newcomer.sub_scope, READER), "principal_id": oid,
        "principal_type": "ServicePrincipal"})
    assert newcomer.resources().resource_groups.get("rg-shared").name == "rg-shared"
    assert [s.display_name for s in newcomer.subscriptions().subscriptions.list()] == ["fabrikam-shared"]
    with pytest.raises(HttpResponseError) as write:
        newcomer.resources().resource_groups.create_or_update("rg-not-mine", {"location": "eastus"})
    assert error_code(write.value) == "AuthorizationFailed"  # Reader reads, nothing more


def test_role_propagation_fault_delays_a_new_assignment(rbac_world: Callable[..., Env]) -> None:
    delay = 2.5
    env = rbac_world(faults=f"role-propagation={delay}")
    newcomer = arm(env, "fabrikam", sp_credential(env, "fabrikam", "fabrikam-newcomer"))
    oid = service_principal_object_id(env, "fabrikam-newcomer")
    assert error_code(_forbidden(newcomer)) == "AuthorizationFailed"  # also fetches its token before the clock
    arm(env, "fabrikam").authorization().role_assignments.create(newcomer.sub_scope, str(uuid.uuid4()), {
        "role_definition_id": _role_id(newcomer.sub_scope, READER), "principal_id": oid,
        "principal_type": "ServicePrincipal"})
    granted_at = time.monotonic()
    assert error_code(_forbidden(newcomer)) == "AuthorizationFailed"
    assert time.monotonic() - granted_at < delay, "the host was too slow to observe the propagation window"
    time.sleep(max(0.0, delay + 0.1 - (time.monotonic() - granted_at)))
    assert newcomer.resources().resource_groups.get("rg-shared").name == "rg-shared"


def test_contributor_may_not_assign_roles(rbac_world: Callable[..., Env]) -> None:
    env = rbac_world()
    newcomer = arm(env, "fabrikam", sp_credential(env, "fabrikam", "fabrikam-newcomer"))
    oid = service_principal_object_id(env, "fabrikam-newcomer")
    scope = f"{newcomer.sub_scope}/resourceGroups/rg-shared"
    arm(env, "fabrikam").authorization().role_assignments.create(scope, str(uuid.uuid4()), {
        "role_definition_id": _role_id(newcomer.sub_scope, CONTRIBUTOR), "principal_id": oid,
        "principal_type": "ServicePrincipal"})
    newcomer.msi().user_assigned_identities.create_or_update("rg-shared", "mi-by-contributor", {"location": "eastus"})
    with pytest.raises(HttpResponseError) as caught:
        newcomer.authorization().role_assignments.create(scope, str(uuid.uuid4()), {
            "role_definition_id": _role_id(newcomer.sub_scope, READER), "principal_id": oid,
            "principal_type": "ServicePrincipal"})
    assert error_code(caught.value) == "AuthorizationFailed"
    assert "Microsoft.Authorization/roleAssignments/write" in caught.value.error.message
    with pytest.raises(HttpResponseError) as outside:
        newcomer.resources().resource_groups.create_or_update("rg-elsewhere", {"location": "eastus"})
    assert error_code(outside.value) == "AuthorizationFailed"  # the grant covers rg-shared only


def test_assignment_on_one_resource_grants_that_resource_only(rbac_world: Callable[..., Env]) -> None:
    env = rbac_world()
    owner = arm(env, "fabrikam")
    identities = owner.msi().user_assigned_identities
    granted = identities.create_or_update("rg-shared", "mi-granted", {"location": "westeurope"})
    identities.create_or_update("rg-shared", "mi-other", {"location": "westeurope"})
    oid = service_principal_object_id(env, "fabrikam-newcomer")
    operator = "f1a07417-d97a-45cb-824c-7a7467783830"  # Managed Identity Operator: userAssignedIdentities/*/read
    owner.authorization().role_assignments.create(granted.id, str(uuid.uuid4()), {
        "role_definition_id": _role_id(owner.sub_scope, operator), "principal_id": oid,
        "principal_type": "ServicePrincipal"})
    newcomer = arm(env, "fabrikam", sp_credential(env, "fabrikam", "fabrikam-newcomer"))
    assert newcomer.msi().user_assigned_identities.get("rg-shared", "mi-granted").client_id == granted.client_id
    with pytest.raises(HttpResponseError) as caught:
        newcomer.msi().user_assigned_identities.get("rg-shared", "mi-other")
    assert error_code(caught.value) == "AuthorizationFailed"
    mine = list(owner.authorization().role_assignments.list_for_scope(granted.id, filter=f"assignedTo('{oid}')"))
    assert [(a.scope.lower(), a.principal_id) for a in mine] == [(granted.id.lower(), oid)]
