"""Entra ID routes of the sandbox (every path no other service claims):

- `GET /{tenant}/v2.0/.well-known/openid-configuration`, `GET /{tenant}/.well-known/openid-configuration`
- `GET /{tenant}/discovery/v2.0/keys`, `GET /{tenant}/discovery/keys`
- `POST /{tenant}/oauth2/v2.0/devicecode`
- `POST /{tenant}/oauth2/v2.0/token`: client_credentials (secret or federated assertion), device_code,
  refresh_token
- `GET|POST /devicelogin`: the approval page
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from wizard.sandbox import tokens
from wizard.sandbox.entra import (
    authority,
    client_secret,
    device_code,
    discovery,
    errors,
    federation,
    forms,
    page,
    scopes,
    users,
)
from wizard.sandbox.entra.authority import Authority
from wizard.sandbox.httputil import json_response
from wizard.sandbox.service import Service
from wizard.sandbox.world import World

log = logging.getLogger("wizard.sandbox")

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class EntraService(Service):
    name = "entra"

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.issuer_keys = federation.IssuerKeys(world)

    def matches(self, path: str) -> bool:
        return True

    def internal_error(self) -> web.Response:
        return errors.server_error().response()

    async def shutdown(self) -> None:
        await self.issuer_keys.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        route = "/".join(p.lower() for p in parts[1:])
        try:
            if [p.lower() for p in parts] == ["devicelogin"]:
                return await self._device_login(request)
            if len(parts) < 2:
                return _not_found()
            if route in {"v2.0/.well-known/openid-configuration", ".well-known/openid-configuration",
                         "discovery/v2.0/keys", "discovery/keys"}:
                if request.method not in {"GET", "HEAD"}:
                    return _not_found()
                return self._metadata(parts[0], route)
            if route in {"oauth2/v2.0/token", "oauth2/v2.0/devicecode"}:
                if request.method != "POST":
                    raise errors.post_only(request.method)
                where = authority.resolve(self.world, parts[0])
                form = await forms.read(request)
                if route.endswith("devicecode"):
                    return json_response(self._device_authorization(where, form), headers=NO_STORE)
                return json_response(await self._token(where, forms.with_basic_credentials(request, form)),
                                     headers=NO_STORE)
        except errors.EntraError as refusal:
            return refusal.response()
        return _not_found()

    # -- metadata ----------------------------------------------------------------------------------------------

    def _metadata(self, segment: str, route: str) -> web.Response:
        where = authority.resolve(self.world, segment, error="invalid_tenant")
        if route.endswith("keys"):
            return json_response(discovery.jwks(self.world))
        if route.startswith("v2.0"):
            return json_response(discovery.openid_configuration_v2(self.world, where))
        return json_response(discovery.openid_configuration_v1(self.world, where))

    # -- device code -------------------------------------------------------------------------------------------

    def _device_authorization(self, where: Authority, form: dict[str, str]) -> dict[str, Any]:
        client_id = forms.required(form, "client_id")
        scope_text = forms.required(form, "scope")
        client_name = users.check_public_client(self.world, client_id, where.display_name)
        scopes.parse(self.world, scope_text, where.display_name)  # refuse a bad scope now, not at the first poll
        return device_code.start(self.world, where, client_id, client_name, scope_text)

    async def _device_login(self, request: web.Request) -> web.Response:
        if request.method == "POST":
            return await page.submit(self.world, request)
        if request.method in {"GET", "HEAD"}:
            return await page.show(self.world, request)
        return web.Response(status=405, text="Method Not Allowed", headers={"Allow": "GET, POST"})

    # -- token -------------------------------------------------------------------------------------------------

    async def _token(self, where: Authority, form: dict[str, str]) -> dict[str, Any]:
        grant_type = forms.required(form, "grant_type")
        client_id = forms.required(form, "client_id")
        if grant_type == "client_credentials":
            return await self._client_credentials(where, form, client_id)
        if grant_type == DEVICE_CODE_GRANT:
            return self._device_code(where, form, client_id)
        if grant_type == "refresh_token":
            return self._refresh_token(where, form, client_id)
        raise errors.unsupported_grant_type(grant_type)

    async def _client_credentials(self, where: Authority, form: dict[str, str], client_id: str) -> dict[str, Any]:
        tenant = where.require_tenant()
        scope_text = forms.required(form, "scope")
        if "client_assertion" in form or "client_assertion_type" in form:
            if forms.required(form, "client_assertion_type") != federation.ASSERTION_TYPE:
                raise errors.invalid_assertion_type()
            principal = await federation.exchange(self.world, self.issuer_keys, tenant, client_id,
                                                  forms.required(form, "client_assertion"))
        elif form.get("client_secret"):
            principal = client_secret.authenticate(self.world, tenant, client_id, form["client_secret"])
        else:
            raise errors.credential_required()
        scope = scopes.parse(self.world, scope_text, where.display_name)
        if not scope.is_default:
            raise errors.default_scope_required(" ".join(scope.resource_scopes))
        access_token, expires_in = tokens.issue(self.world, principal, scope.audience, tenant_id=tenant["tenant_id"])
        log.info("entra: issued an app token for %s in tenant %s (aud %s)", principal.object_id,
                 tenant["tenant_id"], scope.audience)
        return {"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in,
                "access_token": access_token}

    def _device_code(self, where: Authority, form: dict[str, str], client_id: str) -> dict[str, Any]:
        code = forms.required(form, "device_code")
        users.check_public_client(self.world, client_id, where.display_name)
        signed_in, record = device_code.redeem(self.world, where, client_id, code)
        tenant_id = record["tenant_id"] or signed_in.home_tenant_id
        scope = scopes.parse(self.world, record["scope"], where.display_name)
        log.info("entra: device-code sign-in of %s in tenant %s", signed_in.username, tenant_id)
        return users.token_answer(self.world, signed_in, client_id, tenant_id, scope)

    def _refresh_token(self, where: Authority, form: dict[str, str], client_id: str) -> dict[str, Any]:
        refresh_token = forms.required(form, "refresh_token")
        scope_text = forms.required(form, "scope")
        client_name = users.check_public_client(self.world, client_id, where.display_name)
        signed_in = users.redeem_refresh_token(self.world, refresh_token, client_id)
        tenant_id = where.tenant_id or signed_in.home_tenant_id
        if tenant_id != signed_in.home_tenant_id:
            raise errors.user_not_in_tenant(signed_in.username, signed_in.home_tenant_id, where.display_name,
                                            client_id, client_name)
        scope = scopes.parse(self.world, scope_text, where.display_name)
        return users.token_answer(self.world, signed_in, client_id, tenant_id, scope)


def _not_found() -> web.Response:
    return web.Response(status=404, text="The requested resource was not found on the wi-wizard sandbox's "
                                         "Entra ID.\n", content_type="text/plain")
