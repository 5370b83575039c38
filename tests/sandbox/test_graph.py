"""The minimal Microsoft Graph: resolving users, service principals and managed identities' service principals
the way the Azure CLI and the wizard do, seeing only the token's tenant, with Graph's error shapes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
from azure.identity import DeviceCodeCredential

from tests.conftest import Env
from tests.sandbox.entra_support import ARM_SCOPE, GRAPH_SCOPE, create_identity
from wizard.sandbox import directory


def graph_token(env: Env, tenant: str, scope: str = GRAPH_SCOPE) -> str:
    return str(env.sp_credential(tenant).get_token(scope).token)


def graph(env: Env, method: str, path: str, token: str | None, headers: dict[str, str] | None = None,
          **kwargs: Any) -> requests.Response:
    headers = {**({"Authorization": f"Bearer {token}"} if token is not None else {}), **(headers or {})}
    return requests.request(method, f"{env.box.base_url}/v1.0/{path}", headers=headers, verify=env.ca, timeout=10,
                            **kwargs)


def graph_refusal(answer: requests.Response, status: int, code: str) -> str:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert {"date", "request-id", "client-request-id"} <= set(error["innerError"])
    return str(error["message"])


def user_id(env: Env, username: str) -> str:
    found = directory.user_by_name(env.box.world, username)
    assert found is not None
    return str(found["object_id"])


def sp_object_id(env: Env, tenant: str) -> str:
    app = directory.app(env.box.world, env.tenants[tenant]["service_principal"]["client_id"])
    assert app is not None
    return str(app["object_id"])


@pytest.fixture
def identity(env: Env) -> dict[str, Any]:
    return create_identity(env, f"id-graph-{uuid.uuid4().hex[:8]}")


def test_get_by_ids_resolves_a_user_a_service_principal_and_a_managed_identity(
        env: Env, identity: dict[str, Any]) -> None:
    megan, sp = user_id(env, "megan@fabrikam.onmicrosoft.com"), sp_object_id(env, "fabrikam")
    principal_id, client_id = identity["properties"]["principalId"], identity["properties"]["clientId"]

    answer = graph(env, "POST", "directoryObjects/getByIds", graph_token(env, "fabrikam"),
                   json={"ids": [megan, sp, principal_id], "types": ["user", "servicePrincipal"]})

    assert answer.status_code == 200, answer.text
    by_id = {o["id"]: o for o in answer.json()["value"]}
    assert set(by_id) == {megan, sp, principal_id}
    user = by_id[megan]
    assert user["@odata.type"] == "#microsoft.graph.user"
    assert user["userPrincipalName"] == user["mail"] == "megan@fabrikam.onmicrosoft.com"
    assert user["displayName"] == "Megan Bowen"
    app_sp = by_id[sp]
    assert app_sp["@odata.type"] == "#microsoft.graph.servicePrincipal"
    assert app_sp["servicePrincipalType"] == "Application"
    assert app_sp["appId"] == env.tenants["fabrikam"]["service_principal"]["client_id"]
    assert app_sp["servicePrincipalNames"] and app_sp["appOwnerOrganizationId"] == env.tenant_id("fabrikam")
    mi_sp = by_id[principal_id]
    assert mi_sp["servicePrincipalType"] == "ManagedIdentity"
    assert mi_sp["appId"] == client_id and mi_sp["displayName"] == identity["name"]
    assert mi_sp["alternativeNames"] == ["isExplicit=True", identity["id"]]
    assert client_id in mi_sp["servicePrincipalNames"]


def test_get_by_ids_filters_by_type(env: Env) -> None:
    megan, sp = user_id(env, "megan@fabrikam.onmicrosoft.com"), sp_object_id(env, "fabrikam")

    answer = graph(env, "POST", "directoryObjects/getByIds", graph_token(env, "fabrikam"),
                   json={"ids": [megan, sp], "types": ["user"]})

    assert [o["id"] for o in answer.json()["value"]] == [megan]


def test_objects_of_the_other_tenant_are_invisible(env: Env, identity: dict[str, Any]) -> None:
    contoso_token = graph_token(env, "contoso")
    megan = user_id(env, "megan@fabrikam.onmicrosoft.com")
    principal_id = identity["properties"]["principalId"]

    listed = graph(env, "POST", "directoryObjects/getByIds", contoso_token,
                   json={"ids": [megan, principal_id, sp_object_id(env, "fabrikam")]})
    direct = graph(env, "GET", f"directoryObjects/{principal_id}", contoso_token)
    by_upn = graph(env, "GET", "users/megan@fabrikam.onmicrosoft.com", contoso_token)

    assert listed.status_code == 200 and listed.json()["value"] == []
    assert graph_refusal(direct, 404, "Request_ResourceNotFound") == (
        f"Resource '{principal_id}' does not exist or one of its queried reference-property objects are not present.")
    graph_refusal(by_upn, 404, "Request_ResourceNotFound")


def test_request_without_a_token_is_unauthenticated(env: Env) -> None:
    answer = graph(env, "GET", "organization", None)

    assert graph_refusal(answer, 401, "InvalidAuthenticationToken") == "Access token is empty."
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_arm_token_has_the_wrong_audience_for_graph(env: Env) -> None:
    answer = graph(env, "GET", "organization", graph_token(env, "contoso", ARM_SCOPE))

    assert "Invalid audience" in graph_refusal(answer, 401, "InvalidAuthenticationToken")


def test_forged_token_is_refused(env: Env) -> None:
    token = graph_token(env, "contoso")
    header, payload, signature = token.split(".")
    forged = ".".join([header, payload, signature[::-1]])

    graph_refusal(graph(env, "GET", "organization", forged), 401, "InvalidAuthenticationToken")


def test_token_for_the_sandbox_url_is_accepted_as_the_cli_recipe_registers_it(env: Env) -> None:
    """`az cloud register --endpoint-microsoft-graph-resource-id https://127.0.0.1:PORT/`: scope `{url}//.default`."""
    token = graph_token(env, "contoso", f"{env.box.base_url}//.default")

    answer = graph(env, "GET", "organization", token)

    assert answer.status_code == 200
    [org] = answer.json()["value"]
    assert org["id"] == env.tenant_id("contoso") and org["displayName"] == "Contoso"
    assert org["verifiedDomains"][0]["name"] == "contoso.onmicrosoft.com"


def test_service_principal_lookups_by_app_id(env: Env, identity: dict[str, Any]) -> None:
    token = graph_token(env, "fabrikam")
    client_id, principal_id = identity["properties"]["clientId"], identity["properties"]["principalId"]

    filtered = graph(env, "GET", "servicePrincipals", token, params={"$filter": f"appId eq '{client_id}'"})
    by_name = graph(env, "GET", "servicePrincipals", token,
                    params={"$filter": f"servicePrincipalNames/any(c:c eq '{client_id}')"})
    keyed = graph(env, "GET", f"servicePrincipals(appId='{client_id}')", token)
    direct = graph(env, "GET", f"servicePrincipals/{principal_id}", token)

    assert [o["id"] for o in filtered.json()["value"]] == [principal_id]
    assert [o["id"] for o in by_name.json()["value"]] == [principal_id]
    assert keyed.json()["id"] == direct.json()["id"] == principal_id
    assert direct.json()["@odata.context"].endswith("/v1.0/$metadata#servicePrincipals/$entity")


def test_unsupported_filter_and_bad_ids_get_graphs_bad_request(env: Env) -> None:
    token = graph_token(env, "fabrikam")

    graph_refusal(graph(env, "GET", "servicePrincipals", token, params={"$filter": "tags/any(t:t eq 'x') or 1"}),
                  400, "Request_UnsupportedQuery")
    assert graph_refusal(graph(env, "GET", "directoryObjects/not-a-guid", token), 400, "Request_BadRequest") == \
        "Invalid object identifier 'not-a-guid'."
    graph_refusal(graph(env, "POST", "directoryObjects/getByIds", token, data=b"{not json",
                        headers={"Content-Type": "application/json"}),
                  400, "BadRequest")
    graph_refusal(graph(env, "POST", "directoryObjects/getByIds", token, json={"ids": "x"}),
                  400, "Request_BadRequest")
    graph_refusal(graph(env, "GET", "groups", token), 400, "BadRequest")


def test_users_by_id_and_upn(env: Env) -> None:
    token = graph_token(env, "contoso")
    alex = user_id(env, "alex@contoso.onmicrosoft.com")

    by_upn = graph(env, "GET", "users/ALEX@contoso.onmicrosoft.com", token)
    by_id = graph(env, "GET", f"users/{alex}", token)

    assert by_upn.json()["id"] == by_id.json()["id"] == alex
    assert by_id.json()["userPrincipalName"] == "alex@contoso.onmicrosoft.com"


def test_me_is_the_signed_in_user_and_only_for_user_tokens(env: Env) -> None:
    credential = DeviceCodeCredential(tenant_id=env.tenant_id("contoso"), disable_instance_discovery=True,
                                      prompt_callback=lambda *_: None, **env.common())
    user_token = credential.get_token(GRAPH_SCOPE).token

    me = graph(env, "GET", "me", user_token)
    as_app = graph(env, "GET", "me", graph_token(env, "contoso"))

    assert me.status_code == 200 and me.json()["userPrincipalName"] == "alex@contoso.onmicrosoft.com"
    assert graph_refusal(as_app, 400, "BadRequest") == "/me request is only valid with delegated authentication flow."


def test_beta_serves_the_same_objects_and_select_trims_them(env: Env) -> None:
    token = graph_token(env, "contoso")
    alex = user_id(env, "alex@contoso.onmicrosoft.com")

    answer = requests.get(f"{env.box.base_url}/beta/users/{alex}", params={"$select": "displayName"},
                          headers={"Authorization": f"Bearer {token}"}, verify=env.ca, timeout=10)

    body = answer.json()
    assert body["@odata.context"].endswith("/beta/$metadata#users/$entity")
    assert {k: v for k, v in body.items() if k != "@odata.context"} == {
        "@odata.type": "#microsoft.graph.user", "id": alex, "displayName": "Alex Wilber"}
