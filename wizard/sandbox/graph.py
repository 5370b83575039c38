"""Minimal Microsoft Graph: the directory objects tools resolve principals with (`/v1.0/…`, `/beta/…`).

The Azure CLI resolves role-assignment principals through `POST directoryObjects/getByIds` and needs service
principals with a non-empty `servicePrincipalNames`; the wizard looks up users, service principals and the
service principal behind a managed identity. A caller sees only the objects of its token's tenant, as in Graph.

Routes: `POST directoryObjects/getByIds`, `GET directoryObjects/{id}`, `GET servicePrincipals[?$filter=…]`,
`GET servicePrincipals/{id}`, `GET servicePrincipals(appId='…')`, `GET users[/{id or upn}]`, `GET me`,
`GET organization`. Tokens: audience Microsoft Graph, or the sandbox's own URL (the Azure CLI recipe registers it
as the Graph resource).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from wizard.sandbox import directory, tokens
from wizard.sandbox.httputil import json_response
from wizard.sandbox.keys import b64url
from wizard.sandbox.service import Service, first_segment
from wizard.sandbox.world import World

VERSIONS = frozenset({"v1.0", "beta"})
# The tenant that owns every managed identity's application (Microsoft Services).
MANAGED_IDENTITY_APP_OWNER = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
MAX_IDS = 1000
USER = "#microsoft.graph.user"
SERVICE_PRINCIPAL = "#microsoft.graph.servicePrincipal"

GraphObject = dict[str, Any]


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def not_found(ref: str) -> GraphError:
    return GraphError(404, "Request_ResourceNotFound",
                      f"Resource '{ref}' does not exist or one of its queried reference-property objects are not "
                      "present.")


def invalid_id(ref: str) -> GraphError:
    return GraphError(400, "Request_BadRequest", f"Invalid object identifier '{ref}'.")


def bad_segment(segment: str) -> GraphError:
    return GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")


def unsupported_filter() -> GraphError:
    return GraphError(400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified.")


def invalid_token(message: str) -> GraphError:
    return GraphError(401, "InvalidAuthenticationToken", message, {
        "WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/'
                            'oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'})


# -- directory objects as Graph shows them ----------------------------------------------------------------------

def _user(u: dict[str, Any]) -> GraphObject:
    given, _, surname = str(u["display_name"]).partition(" ")
    return {
        "@odata.type": USER, "id": u["object_id"], "businessPhones": [], "displayName": u["display_name"],
        "givenName": given, "surname": surname or None, "jobTitle": None, "mail": u["username"],
        "mobilePhone": None, "officeLocation": None, "preferredLanguage": None, "userPrincipalName": u["username"],
    }


def _service_principal(*, object_id: str, app_id: str, display_name: str, kind: str, owner: str,
                       names: list[str], alternative_names: list[str], audience: str) -> GraphObject:
    return {
        "@odata.type": SERVICE_PRINCIPAL, "id": object_id, "deletedDateTime": None, "accountEnabled": True,
        "alternativeNames": alternative_names, "appDisplayName": display_name if kind == "Application" else None,
        "appDescription": None, "appId": app_id, "appOwnerOrganizationId": owner,
        "appRoleAssignmentRequired": False, "description": None, "displayName": display_name, "homepage": None,
        "servicePrincipalNames": names, "servicePrincipalType": kind, "signInAudience": audience, "tags": [],
        "appRoles": [], "oauth2PermissionScopes": [], "keyCredentials": [], "passwordCredentials": [],
    }


def _app_sp(a: dict[str, Any]) -> GraphObject:
    return _service_principal(object_id=a["object_id"], app_id=a["app_id"], display_name=a["display_name"],
                              kind="Application", owner=a["tenant_id"], names=[a["app_id"]], alternative_names=[],
                              audience="AzureADMyOrg")


def _identity_sp(body: dict[str, Any]) -> GraphObject:
    props = body["properties"]
    opaque = b64url(hashlib.sha256(body["id"].lower().encode()).digest())
    return _service_principal(
        object_id=props["principalId"], app_id=props["clientId"], display_name=body["name"], kind="ManagedIdentity",
        owner=MANAGED_IDENTITY_APP_OWNER, names=[props["clientId"], f"https://identity.azure.net/{opaque}"],
        alternative_names=["isExplicit=True", body["id"]], audience="AzureADMultipleOrgs")


def users_of(world: World, tenant_id: str) -> list[GraphObject]:
    return [_user(u) for u in directory.users(world, tenant_id)]


def service_principals_of(world: World, tenant_id: str) -> list[GraphObject]:
    apps = sorted((a for a in world.store.values("apps") if a["tenant_id"] == tenant_id),
                  key=lambda a: a["display_name"])
    identities = sorted(directory.managed_identities(world, tenant_id), key=lambda b: b["id"].lower())
    return [*(_app_sp(a) for a in apps), *(_identity_sp(b) for b in identities)]


def objects_of(world: World, tenant_id: str) -> list[GraphObject]:
    return [*users_of(world, tenant_id), *service_principals_of(world, tenant_id)]


def _by_id(objects: Iterable[GraphObject], object_id: str) -> GraphObject | None:
    wanted = object_id.lower()
    return next((o for o in objects if str(o["id"]).lower() == wanted), None)


# -- $filter -----------------------------------------------------------------------------------------------------

_LITERAL = r"'((?:[^']|'')*)'"
_EQ = re.compile(rf"^\s*(\w+)\s+eq\s+{_LITERAL}\s*$", re.IGNORECASE)
_STARTSWITH = re.compile(rf"^\s*startswith\(\s*(\w+)\s*,\s*{_LITERAL}\s*\)\s*$", re.IGNORECASE)
_ANY = re.compile(rf"^\s*(\w+)/any\(\s*(\w+)\s*:\s*(\w+)\s+eq\s+{_LITERAL}\s*\)\s*$", re.IGNORECASE)


def _property(obj: GraphObject, name: str) -> Any:
    return next((v for k, v in obj.items() if k.lower() == name.lower()), None)


def filter_predicate(text: str, allowed: frozenset[str]) -> Callable[[GraphObject], bool]:
    """`prop eq 'v'`, `startswith(prop,'v')`, `coll/any(c:c eq 'v')`; comparisons ignore case, as Entra's."""
    if m := _EQ.match(text):
        prop, value = m.group(1), m.group(2).replace("''", "'").casefold()
        if prop.lower() in allowed:
            return lambda o: str(_property(o, prop) or "").casefold() == value
    elif m := _STARTSWITH.match(text):
        prop, value = m.group(1), m.group(2).replace("''", "'").casefold()
        if prop.lower() in allowed:
            return lambda o: str(_property(o, prop) or "").casefold().startswith(value)
    elif (m := _ANY.match(text)) and m.group(2) == m.group(3):
        prop, value = m.group(1), m.group(4).replace("''", "'").casefold()
        if prop.lower() in allowed:
            return lambda o: any(str(v).casefold() == value for v in (_property(o, prop) or []))
    raise unsupported_filter()


SP_FILTERABLE = frozenset({"appid", "displayname", "id", "serviceprincipalnames", "serviceprincipaltype"})
USER_FILTERABLE = frozenset({"userprincipalname", "displayname", "mail", "id"})


# -- the service -------------------------------------------------------------------------------------------------

class GraphService(Service):
    name = "graph"

    def matches(self, path: str) -> bool:
        return first_segment(path) in VERSIONS

    def internal_error(self) -> web.Response:
        return self._error(GraphError(500, "InternalServerError",
                                      "The sandbox hit an internal error; see sandbox.log."), None)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            claims = self._authenticate(request)
            return await self._route(request, claims)
        except GraphError as error:
            return self._error(error, request)

    def _error(self, error: GraphError, request: web.Request | None) -> web.Response:
        request_id = str(uuid.uuid4())
        client_request_id = (request.headers.get("client-request-id") if request is not None else None) or request_id
        body = {"error": {"code": error.code, "message": error.message, "innerError": {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"), "request-id": request_id,
            "client-request-id": client_request_id}}}
        return json_response(body, error.status, {"request-id": request_id, "client-request-id": client_request_id,
                                                  **error.headers})

    def _authenticate(self, request: web.Request) -> dict[str, Any]:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise invalid_token("Access token is empty.")
        base = self.world.base_url
        try:
            return tokens.verify(self.world, token.strip(), tokens.GRAPH_AUDIENCES | {base, base + "/"})
        except tokens.TokenError as refusal:
            raise invalid_token({
                "expired": "Lifetime validation failed, the token is expired.",
                "audience": "Access token validation failure. Invalid audience.",
            }.get(refusal.reason, "Access token validation failure.")) from None

    def _respond(self, request: web.Request, context: str, body: dict[str, Any]) -> web.Response:
        version = first_segment(request.path)
        request_id = str(uuid.uuid4())
        return json_response({"@odata.context": self.world.url(f"/{version}/$metadata#{context}"), **body},
                             headers={"request-id": request_id,
                                      "client-request-id": request.headers.get("client-request-id") or request_id,
                                      "OData-Version": "4.0"})

    def _entity(self, request: web.Request, entity_set: str, obj: GraphObject) -> web.Response:
        return self._respond(request, f"{entity_set}/$entity", _select(request, obj))

    def _collection(self, request: web.Request, entity_set: str, objects: list[GraphObject]) -> web.Response:
        return self._respond(request, entity_set, {"value": [_select(request, o) for o in objects]})

    async def _route(self, request: web.Request, claims: dict[str, Any]) -> web.Response:
        tenant_id = str(claims["tid"])
        segments = [s for s in request.path.split("/") if s][1:]
        if not segments:
            raise bad_segment(first_segment(request.path))
        head, rest = segments[0], segments[1:]
        head_l = head.lower()
        method = request.method
        if head_l == "directoryobjects" and [s.lower() for s in rest] == ["getbyids"]:
            _only(method, "POST")
            return self._collection(request, "directoryObjects", await self._get_by_ids(request, tenant_id))
        _only(method, "GET")
        if head_l == "directoryobjects" and len(rest) == 1:
            return self._entity(request, "directoryObjects", self._lookup(objects_of(self.world, tenant_id), rest[0]))
        if head_l == "serviceprincipals" and len(rest) <= 1:
            sps = service_principals_of(self.world, tenant_id)
            if rest:
                return self._entity(request, "servicePrincipals", self._lookup(sps, rest[0]))
            return self._collection(request, "servicePrincipals", _filtered(request, sps, SP_FILTERABLE))
        if m := re.fullmatch(r"servicePrincipals\(appId='([^']*)'\)", head, re.IGNORECASE):
            if rest:
                raise bad_segment(rest[0])
            sp = next((o for o in service_principals_of(self.world, tenant_id)
                       if str(o["appId"]).lower() == m.group(1).lower()), None)
            if sp is None:
                raise not_found(m.group(1))
            return self._entity(request, "servicePrincipals", sp)
        if head_l == "users" and len(rest) <= 1:
            people = users_of(self.world, tenant_id)
            if not rest:
                return self._collection(request, "users", _filtered(request, people, USER_FILTERABLE))
            found = next((u for u in people if u["userPrincipalName"].lower() == rest[0].lower()), None)
            if found is None and "@" in rest[0]:
                raise not_found(rest[0])
            return self._entity(request, "users", found or self._lookup(people, rest[0]))
        if head_l == "me" and not rest:
            if claims.get("idtyp") != "user":
                raise GraphError(400, "BadRequest", "/me request is only valid with delegated authentication flow.")
            return self._entity(request, "users", self._lookup(users_of(self.world, tenant_id), str(claims["oid"])))
        if head_l == "organization" and not rest:
            return self._collection(request, "organization", [self._organization(tenant_id)])
        raise bad_segment(rest[-1] if head_l in {"users", "serviceprincipals", "directoryobjects"} and rest
                          else head)

    def _lookup(self, objects: list[GraphObject], ref: str) -> GraphObject:
        if not directory.is_guid(ref):
            raise invalid_id(ref)
        found = _by_id(objects, ref)
        if found is None:
            raise not_found(ref)
        return found

    async def _get_by_ids(self, request: web.Request, tenant_id: str) -> list[GraphObject]:
        try:
            body = json.loads(await request.read() or b"null")
        except (ValueError, UnicodeDecodeError):
            raise GraphError(400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type "
                                                "header is set and payload is of valid JSON format.") from None
        ids = body.get("ids") if isinstance(body, dict) else None
        types = body.get("types") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise GraphError(400, "Request_BadRequest", "The request must carry 'ids', an array of object IDs.")
        if len(ids) > MAX_IDS:
            raise GraphError(400, "Request_BadRequest", f"The 'ids' array accepts at most {MAX_IDS} object IDs.")
        if types is not None and (not isinstance(types, list) or not all(isinstance(t, str) for t in types)):
            raise GraphError(400, "Request_BadRequest", "'types' must be an array of directory object type names.")
        for ref in ids:
            if not directory.is_guid(ref):
                raise invalid_id(ref)
        wanted = {f"#microsoft.graph.{t}".lower() for t in types} if types else None
        objects = objects_of(self.world, tenant_id)
        found = (_by_id(objects, ref) for ref in ids)
        return [o for o in found if o is not None and (wanted is None or o["@odata.type"].lower() in wanted)]

    def _organization(self, tenant_id: str) -> GraphObject:
        tenant = directory.tenant(self.world, tenant_id)
        if tenant is None:
            raise not_found(tenant_id)
        return {
            "id": tenant_id, "deletedDateTime": None, "businessPhones": [], "city": None, "country": None,
            "countryLetterCode": None, "displayName": tenant["display_name"], "tenantType": "AAD",
            "verifiedDomains": [{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": True,
                                 "isInitial": True, "name": tenant["domain"], "type": "Managed"}],
        }


def _only(method: str, allowed: str) -> None:
    if method != allowed:
        raise GraphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.",
                         {"Allow": allowed})


def _filtered(request: web.Request, objects: list[GraphObject], allowed: frozenset[str]) -> list[GraphObject]:
    text = request.query.get("$filter")
    if text is None:
        return objects
    keep = filter_predicate(text, allowed)
    return [o for o in objects if keep(o)]


def _select(request: web.Request, obj: GraphObject) -> GraphObject:
    """`$select=a,b`: only those properties (and the type and ID, which Graph always sends)."""
    text = request.query.get("$select")
    if not text:
        return obj
    wanted = {p.strip().lower() for p in text.split(",")} | {"@odata.type", "id"}
    return {k: v for k, v in obj.items() if k.lower() in wanted}
