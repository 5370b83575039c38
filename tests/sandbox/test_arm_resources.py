"""Subscriptions, tenants, locations, cloud metadata and resource groups through `SubscriptionClient` and
`ResourceManagementClient`."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.conftest import Env
from tests.sandbox.arm_support import SCENARIO, ScratchGroups, anonymous, arm, error_code, scratch_groups, unique
from wizard.sandbox import Sandbox, directory


@pytest.fixture
def scratch(env: Env) -> Iterator[ScratchGroups]:
    yield from scratch_groups(env)


def test_subscriptions_list_shows_only_the_callers_tenant(env: Env) -> None:
    subs = list(arm(env, "contoso").subscriptions().subscriptions.list())
    assert [(s.display_name, s.tenant_id, s.state) for s in subs] == [
        ("contoso-platform", env.tenant_id("contoso"), "Enabled")]
    fabrikam = list(arm(env, "fabrikam").subscriptions().subscriptions.list())
    assert [s.subscription_id for s in fabrikam] == [env.subscription_id("fabrikam")]


def test_subscriptions_list_pages_through_every_visible_subscription(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> None:
    box_env = make_env(make_sandbox(scenario_ref=SCENARIO))
    names = [s.display_name for s in arm(box_env, "contoso").subscriptions().subscriptions.list()]
    assert names == ["contoso-dev", "contoso-platform", "contoso-test"]


def test_subscription_get_and_tenants_list(env: Env) -> None:
    client = arm(env, "fabrikam").subscriptions()
    sub = client.subscriptions.get(env.subscription_id("fabrikam"))
    assert (sub.display_name, sub.tenant_id) == ("fabrikam-shared", env.tenant_id("fabrikam"))
    assert [(t.tenant_id, t.display_name, t.default_domain, t.tenant_category) for t in client.tenants.list()] == [
        (env.tenant_id("fabrikam"), "Fabrikam", "fabrikam.onmicrosoft.com", "Home")]


def test_locations_are_a_realistic_few_regions(env: Env) -> None:
    locations = {loc.name: loc for loc in
                 arm(env, "contoso").subscriptions().subscriptions.list_locations(env.subscription_id("contoso"))}
    assert {"eastus", "westeurope"} <= set(locations)
    assert locations["eastus"].display_name == "East US"
    assert locations["eastus"].metadata.paired_region[0].name == "westus"


def test_cloud_metadata_endpoints_is_one_object_naming_the_sandbox(env: Env) -> None:
    response = anonymous(env.box)("GET", "/metadata/endpoints", **{"api-version": "2022-09-01"})
    assert response.status_code == 200
    body = response.json()
    assert body["resourceManager"] == env.box.base_url + "/"
    assert body["authentication"]["loginEndpoint"] == env.box.base_url + "/"
    assert "https://management.core.windows.net/" in body["authentication"]["audiences"]


def test_resource_group_create_get_update_and_idempotent_put(env: Env, scratch: ScratchGroups) -> None:
    contoso = arm(env, "contoso")
    groups = contoso.resources().resource_groups
    name = scratch.track(contoso, unique("rg-test"))
    assert groups.check_existence(name) is False
    created = groups.create_or_update(name, {"location": "West Europe", "tags": {"owner": "wizard"}})
    assert (created.name, created.location, created.tags, created.properties.provisioning_state) == (
        name, "westeurope", {"owner": "wizard"}, "Succeeded")
    assert groups.check_existence(name) is True
    assert groups.get(name.upper()).name == name  # names are case-insensitive; the first spelling stays
    again = arm(env, "contoso").raw("PUT", f"/subscriptions/{env.subscription_id('contoso')}/resourcegroups/{name}",
                                    json={"location": "westeurope"})
    assert again.status_code == 200
    updated = groups.update(name, {"tags": {"team": "platform"}})
    assert updated.tags == {"team": "platform"}
    assert name in {g.name for g in groups.list()}


def test_resource_group_in_another_location_is_refused(env: Env) -> None:
    groups = arm(env, "contoso").resources().resource_groups
    with pytest.raises(HttpResponseError) as caught:
        groups.create_or_update("rg-wi-demo", {"location": "westeurope"})
    assert error_code(caught.value) == "InvalidResourceGroupLocation"


@pytest.mark.parametrize(("body", "code"), [({}, "LocationRequired"),
                                            ({"location": "atlantis"}, "LocationNotAvailableForResourceType")])
def test_resource_group_needs_a_real_location(env: Env, body: dict[str, str], code: str) -> None:
    contoso = arm(env, "contoso")
    response = contoso.raw("PUT", f"{contoso.sub_scope}/resourcegroups/{unique('rg-bad')}", json=body)
    assert (response.status_code, response.json()["error"]["code"]) == (400, code)


def test_missing_resource_group_is_resource_group_not_found(env: Env) -> None:
    with pytest.raises(ResourceNotFoundError) as caught:
        arm(env, "contoso").resources().resource_groups.get("rg-nope")
    assert error_code(caught.value) == "ResourceGroupNotFound"
    assert caught.value.error.message == "Resource group 'rg-nope' could not be found."


def test_resource_group_delete_is_long_running_and_takes_its_resources(env: Env) -> None:
    contoso = arm(env, "contoso")
    name = unique("rg-doomed")
    contoso.resources().resource_groups.create_or_update(name, {"location": "eastus"})
    msi = contoso.msi()
    identity = msi.user_assigned_identities.create_or_update(name, "id-doomed", {"location": "eastus"})
    accepted = contoso.raw("DELETE", f"{contoso.sub_scope}/resourcegroups/{name}")
    assert accepted.status_code == 202
    assert accepted.headers["Location"].startswith(f"{env.box.base_url}{contoso.sub_scope}/operationresults/")
    assert contoso.resources().resource_groups.get(name).properties.provisioning_state == "Deleting"
    contoso.resources().resource_groups.begin_delete(name).result()
    assert contoso.resources().resource_groups.check_existence(name) is False
    with pytest.raises(ResourceNotFoundError):
        msi.user_assigned_identities.get(name, "id-doomed")
    world = env.box.world
    assert world is not None
    assert directory.principal(world, identity.principal_id) is None
