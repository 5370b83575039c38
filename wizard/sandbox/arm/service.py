"""The ARM service: every `/subscriptions…`, `/tenants`, `/providers…` and `/metadata…` request.

Each request is checked for `api-version` first, then routed (wizard.sandbox.arm.router), which authenticates
the caller, checks RBAC and provider registration, and runs the resource handler. Failures are `ArmError`s,
answered in ARM's error shape; long-running operations that fell due are settled before anything is read.
"""

from __future__ import annotations

from aiohttp import web

from wizard.sandbox.arm import lro, router
from wizard.sandbox.arm.context import Call
from wizard.sandbox.arm.errors import ArmError
from wizard.sandbox.service import Service, first_segment

ARM_ROOTS = {"subscriptions", "tenants", "providers", "metadata"}


class ArmService(Service):
    name = "arm"

    def matches(self, path: str) -> bool:
        return first_segment(path) in ARM_ROOTS

    async def handle(self, request: web.Request) -> web.StreamResponse:
        call = Call.of(self.world, request)
        try:
            call.require_api_version()
            lro.settle(self.world)
            return await router.dispatch(call)
        except ArmError as exc:
            return exc.response(request.method.upper())

    async def startup(self) -> None:
        lro.resume(self.world)
