"""ARM routes (PLACEHOLDER until the ARM emulation lands: answers 404 in ARM's shape)."""

from __future__ import annotations

from aiohttp import web

from wizard.sandbox.httputil import arm_error
from wizard.sandbox.service import Service, first_segment

ARM_ROOTS = {"subscriptions", "tenants", "providers", "metadata"}


class ArmService(Service):
    name = "arm"

    def matches(self, path: str) -> bool:
        return first_segment(path) in ARM_ROOTS

    async def handle(self, request: web.Request) -> web.StreamResponse:
        return arm_error(404, "InvalidResourceType", "not implemented yet")
