"""Cluster routes (PLACEHOLDER until the Kubernetes emulation lands)."""

from __future__ import annotations

from aiohttp import web

from wizard.sandbox.httputil import k8s_error
from wizard.sandbox.service import Service, first_segment


class KubeService(Service):
    name = "kube"

    def matches(self, path: str) -> bool:
        return first_segment(path) in {"k8s", "oic"}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        return k8s_error(404, "NotFound", "not implemented yet")
