"""Minimal Microsoft Graph (PLACEHOLDER until the Graph emulation lands)."""

from __future__ import annotations

from aiohttp import web

from wizard.sandbox.httputil import json_response
from wizard.sandbox.service import Service, first_segment


class GraphService(Service):
    name = "graph"

    def matches(self, path: str) -> bool:
        return first_segment(path) in {"v1.0", "beta"}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        return json_response({"error": {"code": "Request_ResourceNotFound", "message": "not implemented"}}, 404)
