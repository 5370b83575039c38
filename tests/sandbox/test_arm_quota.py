"""Compute quota through the Quota RP paths (read with `ResourceManagementClient.resources.get_by_id`, the
generic client the SDKs offer for any resource ID, and the raw pipeline for the list forms)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceNotFoundError

from tests.conftest import Env
from tests.sandbox.arm_support import arm, error_code

COMPUTE = "providers/Microsoft.Compute/locations"


@pytest.mark.parametrize(("location", "limit", "usage"), [("eastus", 20, 4), ("westeurope", 10, 0)])
def test_cores_quota_and_usage_are_the_seeded_values(env: Env, location: str, limit: int, usage: int) -> None:
    fabrikam = arm(env, "fabrikam")
    scope = f"{fabrikam.sub_scope}/{COMPUTE}/{location}/providers/Microsoft.Quota"
    resources = fabrikam.resources().resources
    quota = resources.get_by_id(f"{scope}/quotas/cores", api_version="2025-09-01")
    assert quota.name == "cores" and quota.type == "Microsoft.Quota/Quotas"
    assert quota.properties["limit"] == {"limitObjectType": "LimitValue", "value": limit, "limitType": "Independent"}
    assert quota.properties["name"]["localizedValue"] == "Total Regional vCPUs"
    used = resources.get_by_id(f"{scope}/usages/cores", api_version="2025-07-15")
    assert used.properties["usages"] == {"usagesType": "Individual", "value": usage}


def test_quota_lists_per_location(env: Env) -> None:
    contoso = arm(env, "contoso")
    body = contoso.raw("GET", f"{contoso.sub_scope}/{COMPUTE}/eastus/providers/Microsoft.Quota/quotas",
                       api_version="2025-09-01").json()
    assert [q["name"] for q in body["value"]] == ["cores"]
    assert body["value"][0]["properties"]["limit"]["value"] == 100


@pytest.mark.parametrize("path", [f"{COMPUTE}/eastus/providers/Microsoft.Quota/quotas/standardNDSFamily",
                                  f"{COMPUTE}/uksouth/providers/Microsoft.Quota/usages/cores"])
def test_unknown_quota_resource_or_location_is_not_found(env: Env, path: str) -> None:
    fabrikam = arm(env, "fabrikam")
    with pytest.raises(ResourceNotFoundError) as caught:
        fabrikam.resources().resources.get_by_id(f"{fabrikam.sub_scope}/{path}", api_version="2025-09-01")
    assert error_code(caught.value) == "ResourceNotFound"
