"""User-assigned managed identities and federated identity credentials through `ManagedServiceIdentityClient`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.conftest import Env
from tests.sandbox.arm_support import Arm, ScratchGroups, arm, error_code, scratch_groups
from wizard.sandbox import armstore, directory

ISSUER = "https://eastus.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000001/11111111-2222-3333-4444-5555/"
EXCHANGE = ["api://AzureADTokenExchange"]


@pytest.fixture
def scratch(env: Env) -> Iterator[ScratchGroups]:
    yield from scratch_groups(env)


def _fic(subject: str, issuer: str = ISSUER, audiences: list[str] | None = None) -> dict[str, Any]:
    return {"issuer": issuer, "subject": subject, "audiences": audiences or EXCHANGE}


@pytest.fixture
def fabrikam_rg(env: Env, scratch: ScratchGroups) -> tuple[Arm, str]:
    fabrikam = arm(env, "fabrikam")
    return fabrikam, scratch.make(fabrikam)


def test_identity_create_fills_ids_and_a_second_put_keeps_them(env: Env, fabrikam_rg: tuple[Arm, str]) -> None:
    fabrikam, rg = fabrikam_rg
    msi = fabrikam.msi()
    created = msi.user_assigned_identities.create_or_update(rg, "mi-wi-demo", {"location": "eastus",
                                                                                "tags": {"app": "demo"}})
    assert created.tenant_id == env.tenant_id("fabrikam")
    assert directory.is_guid(created.client_id) and directory.is_guid(created.principal_id)
    assert created.isolation_scope == "None"
    assert created.tags == {"app": "demo"}
    again = msi.user_assigned_identities.create_or_update(rg, "mi-wi-demo", {"location": "eastus"})
    assert (again.client_id, again.principal_id) == (created.client_id, created.principal_id)
    status = fabrikam.raw("PUT", f"{fabrikam.sub_scope}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/"
                                 "userAssignedIdentities/mi-wi-demo", json={"location": "eastus"},
                          api_version="2024-11-30").status_code
    assert status == 200
    got = msi.user_assigned_identities.get(rg, "mi-wi-demo")
    assert got.client_id == created.client_id
    resources = fabrikam.resources().resources
    assert resources.check_existence_by_id(created.id, api_version="2024-11-30") is True  # HEAD answers 204
    assert resources.check_existence_by_id(f"{created.id}-not", api_version="2024-11-30") is False
    world = env.box.world
    assert world is not None
    principal = directory.principal(world, created.principal_id)
    assert principal is not None and principal.tenant_id == env.tenant_id("fabrikam")


def test_identity_lists_by_resource_group_and_subscription_page(fabrikam_rg: tuple[Arm, str]) -> None:
    fabrikam, rg = fabrikam_rg
    msi = fabrikam.msi()
    for name in ("mi-a", "mi-b", "mi-c"):
        msi.user_assigned_identities.create_or_update(rg, name, {"location": "eastus"})
    assert [i.name for i in msi.user_assigned_identities.list_by_resource_group(rg)] == ["mi-a", "mi-b", "mi-c"]
    assert {"mi-a", "mi-b", "mi-c"} <= {i.name for i in msi.user_assigned_identities.list_by_subscription()}


@pytest.mark.parametrize("name", ["ab", "-leading-dash", "has.dot", "x" * 129])
def test_identity_with_an_invalid_name_is_refused(fabrikam_rg: tuple[Arm, str], name: str) -> None:
    fabrikam, rg = fabrikam_rg
    with pytest.raises(HttpResponseError) as caught:
        fabrikam.msi().user_assigned_identities.create_or_update(rg, name, {"location": "eastus"})
    assert (caught.value.status_code, error_code(caught.value)) == (400, "InvalidResourceName")


def test_identity_in_a_missing_resource_group_is_resource_group_not_found(env: Env) -> None:
    with pytest.raises(ResourceNotFoundError) as caught:
        arm(env, "fabrikam").msi().user_assigned_identities.create_or_update("rg-nope", "mi-x", {"location": "eastus"})
    assert error_code(caught.value) == "ResourceGroupNotFound"


def test_missing_identity_is_resource_not_found(fabrikam_rg: tuple[Arm, str]) -> None:
    fabrikam, rg = fabrikam_rg
    with pytest.raises(ResourceNotFoundError) as caught:
        fabrikam.msi().user_assigned_identities.get(rg, "mi-missing")
    assert error_code(caught.value) == "ResourceNotFound"
    assert "Microsoft.ManagedIdentity/userAssignedIdentities/mi-missing" in caught.value.error.message


def test_fic_create_get_list_overwrite_delete(env: Env, fabrikam_rg: tuple[Arm, str]) -> None:
    fabrikam, rg = fabrikam_rg
    msi = fabrikam.msi()
    msi.user_assigned_identities.create_or_update(rg, "mi-fic", {"location": "eastus"})
    fics = msi.federated_identity_credentials
    created = fics.create_or_update(rg, "mi-fic", "fc-wi-demo", _fic("system:serviceaccount:default:wi-demo"))
    assert (created.issuer, created.subject, created.audiences) == (
        ISSUER, "system:serviceaccount:default:wi-demo", EXCHANGE)  # the issuer verbatim, trailing slash kept
    assert fics.get(rg, "mi-fic", "fc-wi-demo").subject == "system:serviceaccount:default:wi-demo"
    fics.create_or_update(rg, "mi-fic", "fc-two", _fic("system:serviceaccount:ns:two"))
    fics.create_or_update(rg, "mi-fic", "fc-three", _fic("system:serviceaccount:ns:three"))
    assert sorted(f.name for f in fics.list(rg, "mi-fic")) == ["fc-three", "fc-two", "fc-wi-demo"]
    moved = fics.create_or_update(rg, "mi-fic", "fc-two", _fic("system:serviceaccount:ns:moved"))
    assert moved.subject == "system:serviceaccount:ns:moved"
    fics.delete(rg, "mi-fic", "fc-two")
    assert sorted(f.name for f in fics.list(rg, "mi-fic")) == ["fc-three", "fc-wi-demo"]
    with pytest.raises(ResourceNotFoundError):
        fics.get(rg, "mi-fic", "fc-two")
    gone = fabrikam.raw("DELETE", f"{fabrikam.sub_scope}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/"
                                  "userAssignedIdentities/mi-fic/federatedIdentityCredentials/fc-two",
                        api_version="2024-11-30")
    assert gone.status_code == 204


def test_fic_change_of_matching_data_restamps_its_creation_time(env: Env, fabrikam_rg: tuple[Arm, str]) -> None:
    fabrikam, rg = fabrikam_rg
    msi = fabrikam.msi()
    identity = msi.user_assigned_identities.create_or_update(rg, "mi-stamp", {"location": "eastus"})
    fics = msi.federated_identity_credentials
    fics.create_or_update(rg, "mi-stamp", "fc-a", _fic("system:serviceaccount:a:a"))
    world = env.box.world
    assert world is not None
    fic_id = f"{identity.id}/federatedIdentityCredentials/fc-a"
    stored = armstore.get(world, fic_id)
    assert stored is not None
    first = armstore.internal(stored)["created"]
    fics.create_or_update(rg, "mi-stamp", "fc-a", _fic("system:serviceaccount:a:a"))
    same = armstore.get(world, fic_id)
    assert same is not None and armstore.internal(same)["created"] == first
    fics.create_or_update(rg, "mi-stamp", "fc-a", _fic("system:serviceaccount:a:b"))
    changed = armstore.get(world, fic_id)
    assert changed is not None and armstore.internal(changed)["created"] > first


@pytest.mark.parametrize(("fic", "code"), [
    (_fic("system:serviceaccount:a:a", audiences=["api://AzureADTokenExchange", "api://other"]),
     "InvalidFederatedIdentityCredentialsAudienceLength"),
    (_fic("system:serviceaccount:a:a", issuer="http://not-https.example/"), "BadRequest"),
    (_fic("system:serviceaccount:a:a", issuer="https://example/" + "x" * 600), "BadRequest"),
    (_fic("x" * 601), "BadRequest"),
    ({"issuer": ISSUER, "audiences": EXCHANGE}, "BadRequest"),
])
def test_fic_with_invalid_properties_is_refused(fabrikam_rg: tuple[Arm, str], fic: dict[str, Any],
                                                code: str) -> None:
    fabrikam, rg = fabrikam_rg
    msi = fabrikam.msi()
    msi.user_assigned_identities.create_or_update(rg, "mi-bad", {"location": "eastus"})
    with pytest.raises(HttpResponseError) as caught:
        msi.federated_identity_credentials.create_or_update(rg, "mi-bad", "fc-bad", fic)
    assert (caught.value.status_code, error_code(caught.value)) == (400, code)


@pytest.mark.parametrize("name", ["ab", "_under", "has.dot", "x" * 121])
def test_fic_with_an_invalid_name_is_refused(fabrikam_rg: tuple[Arm, str], name: str) -> None:
    fabrikam, rg = fabrikam_rg
    msi = fabrikam.msi()
    msi.user_assigned_identities.create_or_update(rg, "mi-names", {"location": "eastus"})
    with pytest.raises(HttpResponseError) as caught:
        msi.federated_identity_credentials.create_or_update(rg, "mi-names", name, _fic("system:serviceaccount:a:a"))
    assert caught.value.status_code == 400
    assert f"Federated Identity Credential name '{name}' is invalid" in caught.value.error.message


def test_same_issuer_and_subject_under_another_name_is_refused(fabrikam_rg: tuple[Arm, str]) -> None:
    fabrikam, rg = fabrikam_rg
    msi = fabrikam.msi()
    msi.user_assigned_identities.create_or_update(rg, "mi-dup", {"location": "eastus"})
    msi.federated_identity_credentials.create_or_update(rg, "mi-dup", "fc-one", _fic("system:serviceaccount:a:a"))
    with pytest.raises(HttpResponseError) as caught:
        msi.federated_identity_credentials.create_or_update(rg, "mi-dup", "fc-two", _fic("system:serviceaccount:a:a"))
    assert caught.value.status_code == 400
    assert caught.value.error.message == "Issuer and subject combination already exists for this Managed Identity."


def test_an_identity_holds_at_most_twenty_fics(fabrikam_rg: tuple[Arm, str]) -> None:
    fabrikam, rg = fabrikam_rg
    msi = fabrikam.msi()
    msi.user_assigned_identities.create_or_update(rg, "mi-full", {"location": "eastus"})
    for i in range(20):
        msi.federated_identity_credentials.create_or_update(rg, "mi-full", f"fc-{i:02}",
                                                            _fic(f"system:serviceaccount:ns:sa{i}"))
    with pytest.raises(HttpResponseError) as caught:
        msi.federated_identity_credentials.create_or_update(rg, "mi-full", "fc-20", _fic("system:serviceaccount:x:y"))
    assert caught.value.status_code == 400
    overwrite = msi.federated_identity_credentials.create_or_update(rg, "mi-full", "fc-00",
                                                                    _fic("system:serviceaccount:x:y"))
    assert overwrite.subject == "system:serviceaccount:x:y"  # replacing one of the twenty is fine


def test_concurrent_fic_writes_to_one_identity_get_409(fabrikam_rg: tuple[Arm, str]) -> None:
    fabrikam, rg = fabrikam_rg
    fabrikam.msi().user_assigned_identities.create_or_update(rg, "mi-race", {"location": "eastus"})
    path = (f"{fabrikam.sub_scope}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
            "mi-race/federatedIdentityCredentials/")

    start = threading.Barrier(6)

    def write(i: int) -> Any:
        start.wait()  # all six PUTs leave together, well inside one write's hold on the identity
        return fabrikam.raw("PUT", f"{path}fc-{i}", api_version="2024-11-30",
                            json={"properties": _fic(f"system:serviceaccount:race:{i}")})

    fabrikam.credential.get_token("https://management.azure.com/.default")  # no token fetch inside the race
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(write, range(6)))
    statuses = sorted(a.status_code for a in answers)
    assert 201 in statuses and 409 in statuses
    refused = next(a for a in answers if a.status_code == 409)
    assert refused.json()["error"]["code"] == "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity"


def test_deleting_an_identity_deletes_its_fics(env: Env, fabrikam_rg: tuple[Arm, str]) -> None:
    fabrikam, rg = fabrikam_rg
    msi = fabrikam.msi()
    identity = msi.user_assigned_identities.create_or_update(rg, "mi-gone", {"location": "eastus"})
    msi.federated_identity_credentials.create_or_update(rg, "mi-gone", "fc-gone", _fic("system:serviceaccount:a:a"))
    msi.user_assigned_identities.delete(rg, "mi-gone")
    world = env.box.world
    assert world is not None
    assert armstore.get(world, f"{identity.id}/federatedIdentityCredentials/fc-gone") is None
    with pytest.raises(ResourceNotFoundError):
        list(msi.federated_identity_credentials.list(rg, "mi-gone"))
