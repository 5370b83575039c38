"""Every sandbox AKS cluster's Kubernetes API (`/k8s/{key}/…`) and public OIDC issuer (`/oic/…`).

Clusters come and go with the world's `cluster-changed` / `cluster-deleted` events (ARM creates, updates and
deletes managed clusters); each gets its bootstrap namespaces on first sight and keeps its objects in the
store across restarts. The issuer documents are public, like AKS's `{region}.oic.prod-aks.azure.com`; the API
needs the kubeconfig's token, an Entra token for the AKS server app in the cluster's tenant, or one of the
cluster's own service-account tokens (`authn.py`). Kubernetes paths at the root (`/api/…`, `/openid/v1/jwks`)
are served for the cluster the request's token belongs to, because `kubectl get --raw` drops the server URL's
path prefix.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from aiohttp import web

from wizard.sandbox import clusters
from wizard.sandbox.httputil import k8s_error
from wizard.sandbox.keys import unverified_claims
from wizard.sandbox.kube import api, satokens
from wizard.sandbox.kube.authn import ANONYMOUS, authenticate, bearer
from wizard.sandbox.kube.cluster import Cluster
from wizard.sandbox.kube.ctx import k8s_json
from wizard.sandbox.kube.errors import ApiError, resource_not_found, unauthorized
from wizard.sandbox.kube.kinds import resume_namespace_deletions
from wizard.sandbox.service import Service, first_segment
from wizard.sandbox.world import World

log = logging.getLogger("wizard.sandbox")

ISSUER_DOCS = {".well-known/openid-configuration", "openid/v1/jwks"}
# `kubectl get --raw /x` requests `/x` without the server URL's path (client-go's RequestURI replaces it), so
# Kubernetes paths also answer at the root, for the cluster whose credentials the request carries.
ROOT_SEGMENTS = frozenset({"api", "apis", "version", "openid", ".well-known", "healthz", "livez", "readyz",
                           "openapi"})


_SERVICES: dict[int, KubeService] = {}  # by id(world): the service running each live world


def live_cluster(world: World, key: str) -> Cluster | None:
    """The running cluster `key` of a started sandbox's world (its PodApi), for tools and tests that play the
    pod runtime. Call it on the sandbox's loop."""
    service = _SERVICES.get(id(world))
    record = clusters.get(world, key)
    return service.cluster(record) if service is not None and record is not None else None


class KubeService(Service):
    name = "kube"

    def __init__(self, world: World) -> None:
        super().__init__(world)
        _SERVICES[id(world)] = self
        self._clusters: dict[str, Cluster] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._pending: set[asyncio.Task[Any]] = set()
        world.on("cluster-changed", self._on_changed)
        world.on("cluster-deleted", self._on_deleted)

    def matches(self, path: str) -> bool:
        return first_segment(path) in ROOT_SEGMENTS | {"k8s", "oic"}

    def internal_error(self) -> web.Response:
        return k8s_error(500, "InternalError", "Internal error occurred: the sandbox hit an internal error; see "
                                               "sandbox.log")

    # -- cluster lifecycle -----------------------------------------------------------------------------------

    def cluster(self, record: clusters.Record) -> Cluster:
        """The live cluster for a record (created, with its bootstrap objects, on first sight)."""
        found = self._clusters.get(record["key"])
        if found is None:
            found = Cluster(self.world, record)
            self._clusters[record["key"]] = found
            found.ensure_bootstrap()
        else:
            found.refresh(record)
        return found

    def _on_loop(self) -> bool:
        return self._loop is None or self._loop_thread == threading.get_ident()

    def _on_changed(self, record: clusters.Record) -> None:
        if self._on_loop():
            self.cluster(record)
        else:
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self.cluster, record)

    def _on_deleted(self, record: clusters.Record) -> None:
        if self._on_loop() and self._loop is None:
            Cluster(self.world, record).objects.drop_all()
            self._clusters.pop(record["key"], None)
            return
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._destroy, record)

    def _destroy(self, record: clusters.Record) -> None:
        found = self._clusters.pop(record["key"], None) or Cluster(self.world, record)
        task = asyncio.ensure_future(found.destroy())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def startup(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        for record in clusters.all_records(self.world):
            found = self.cluster(record)
            found.start_kubelet()
            resume_namespace_deletions(found)

    async def shutdown(self) -> None:
        for found in list(self._clusters.values()):
            try:
                await found.shutdown()
            except Exception:
                log.exception("stopping cluster %s", found.key)
        for task in list(self._pending):
            task.cancel()
        if _SERVICES.get(id(self.world)) is self:
            del _SERVICES[id(self.world)]

    # -- requests ----------------------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        segments = request.path.strip("/").split("/")
        try:
            first = segments[0].lower()
            if first == "oic":
                return self._public_issuer(request)
            if first == "k8s":
                record = clusters.get(self.world, segments[1]) if len(segments) > 1 and segments[1] else None
                if record is None:
                    raise resource_not_found()
                return await self._cluster_request(request, record, segments[2:])
            record = self._record_for(bearer(request.headers.get("Authorization")) or "")
            if record is None:
                raise unauthorized()
            return await self._cluster_request(request, record, segments)
        except ApiError as exc:
            return exc.response()

    def _record_for(self, token: str) -> clusters.Record | None:
        """The cluster whose kubeconfig token (or service-account token) this is, for root-level paths."""
        if not token:
            return None
        records = clusters.all_records(self.world)
        for record in records:
            if clusters.authenticate(record, token):
                return record
        issuer = (unverified_claims(token) or {}).get("iss")
        for record in records:
            if issuer and clusters.token_issuer(self.world, record) == issuer \
                    and satokens.verify(self.world, record, token) is not None:
                return record
        return None

    async def _cluster_request(self, request: web.Request, record: clusters.Record, rest: list[str]) \
            -> web.StreamResponse:
        cluster = self.cluster(record)
        if rest and rest[-1] == "":
            rest = rest[:-1]
        token = bearer(request.headers.get("Authorization"))
        if token is None and api.is_public(rest):
            user = ANONYMOUS
        else:
            found = authenticate(self.world, record, token, live=cluster.objects.get) if token else None
            if found is None:
                raise unauthorized()
            user = found
        return await api.dispatch(request, cluster, rest, user)

    def _public_issuer(self, request: web.Request) -> web.Response:
        """`{issuer}.well-known/openid-configuration` and `{issuer}openid/v1/jwks`, without authentication."""
        if request.method not in {"GET", "HEAD"}:
            return web.Response(status=405, text="405: Method Not Allowed")
        path = request.path
        for record in clusters.all_records(self.world):
            prefix = record.get("issuer_path")
            if not record.get("oidc_issuer") or not prefix or not path.startswith(prefix):
                continue
            document = path[len(prefix):]
            if document not in ISSUER_DOCS:
                break
            if document == "openid/v1/jwks":
                return web.Response(body=k8s_json(satokens.jwks(self.world, record)).body,
                                    content_type="application/jwk-set+json")
            jwks_uri = self.world.url(prefix + "openid/v1/jwks")
            return k8s_json(satokens.openid_configuration(self.world, record, jwks_uri))
        return web.Response(status=404, text="404 page not found\n")
