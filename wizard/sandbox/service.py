"""What every sandbox service (Entra, Graph, ARM, the clusters) offers the server."""

from __future__ import annotations

from aiohttp import web

from wizard.sandbox.httputil import json_response
from wizard.sandbox.world import World


class Service:
    """A family of routes. The server asks each service in turn whether a path is its own."""

    name = "service"

    def __init__(self, world: World) -> None:
        self.world = world

    def matches(self, path: str) -> bool:
        raise NotImplementedError

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError

    def internal_error(self) -> web.Response:
        """The answer when a handler failed unexpectedly: the service's own error shape, never a traceback."""
        return json_response({"error": {"code": "InternalServerError",
                                        "message": "The sandbox hit an internal error; see sandbox.log."}}, 500)

    async def startup(self) -> None:
        """Called on the server's loop once it listens (e.g. restart kubelets of persisted pods)."""

    async def shutdown(self) -> None:
        """Called on the server's loop before it stops (e.g. stop pod processes)."""


def first_segment(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0].lower()
