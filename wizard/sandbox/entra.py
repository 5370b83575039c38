"""Entra ID (PLACEHOLDER until the Entra emulation lands)."""

from __future__ import annotations

from aiohttp import web

from wizard.sandbox.httputil import entra_error
from wizard.sandbox.service import Service


class EntraService(Service):
    name = "entra"

    def matches(self, path: str) -> bool:
        return True

    async def handle(self, request: web.Request) -> web.StreamResponse:
        return entra_error(404, "not_found", 90002, "not implemented")
