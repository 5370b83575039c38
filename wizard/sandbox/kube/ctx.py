"""What one resource request is about, as parsed from its path, query and headers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from wizard.sandbox.kube.bodies import Query, Wanted
from wizard.sandbox.kube.cluster import Cluster
from wizard.sandbox.kube.resources import ResourceType

Obj = dict[str, Any]


@dataclass
class Ctx:
    request: web.Request
    cluster: Cluster
    rt: ResourceType
    namespace: str | None  # None: cluster-scoped, or a namespaced list/watch across all namespaces
    name: str | None
    subresource: str | None
    query: Query
    wanted: Wanted
    user: str


def k8s_json(body: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=json.dumps(body, separators=(",", ":")).encode(),
                        content_type="application/json")
