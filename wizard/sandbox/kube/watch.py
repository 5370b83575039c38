"""Watch streams (§9): one JSON event per line, chunked, each written on its own.

- No resourceVersion (or "0"): synthetic ADDED events for what exists, then live events.
- `resourceVersion=N`: the history after N, then live events; too old → one `ERROR` event with a 410 `Expired`
  Status, then the stream ends (HTTP status stays 200, as on a real server).
- Selectors apply to both sides of a change: an object that stops matching is DELETED for this watcher, one
  that starts matching is ADDED.
- The stream closes at `timeoutSeconds` (default 30 min); `allowWatchBookmarks` brings periodic BOOKMARKs.
- Asked for a Table (`kubectl get -w`), each event's object is a one-row Table; only the first carries the
  column definitions.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from wizard.sandbox.kube import tables
from wizard.sandbox.kube.ctx import Ctx
from wizard.sandbox.kube.errors import bad_request, expired
from wizard.sandbox.kube.handlers import Selection
from wizard.sandbox.kube.objects import Change, HistoryExpired

Obj = dict[str, Any]

DEFAULT_TIMEOUT = 1800.0
BOOKMARK_INTERVAL = 10.0
POLL = 1.0  # how often an idle stream checks whether its client went away


def _transform(selection: Selection, change: Change) -> tuple[str, Obj] | None:
    was = change.old is not None and selection.matches(change.old)
    if change.type == "DELETED":
        return ("DELETED", change.new) if was else None
    now = selection.matches(change.new)
    if now and was:
        return "MODIFIED", change.new
    if now:
        return "ADDED", change.new
    if was:
        return "DELETED", change.new
    return None


class _Encoder:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.headers = True

    def encode(self, type_: str, obj: Obj) -> bytes:
        ctx = self.ctx
        if type_ in {"ERROR", "BOOKMARK"}:
            payload = obj
        elif ctx.wanted.shape == "table":
            payload = tables.table(ctx.rt.plural, [obj], ctx.cluster.now(),
                                   resource_version=obj["metadata"].get("resourceVersion", ""),
                                   include_object=ctx.query.get("includeObject", "Metadata"),
                                   headers=self.headers, version=ctx.wanted.version)
            self.headers = False
        elif ctx.wanted.shape == "metadata":
            payload = tables.partial_metadata(obj, ctx.wanted.version)
        else:
            payload = obj
        return (json.dumps({"type": type_, "object": payload}, separators=(",", ":")) + "\n").encode()


def _bookmark(ctx: Ctx, initial_end: bool = False) -> Obj:
    meta: Obj = {"resourceVersion": ctx.cluster.objects.resource_version, "creationTimestamp": None}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {"kind": ctx.rt.kind, "apiVersion": ctx.rt.api_version, "metadata": meta}


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def serve(ctx: Ctx) -> web.StreamResponse:
    selection = Selection(ctx)
    query = ctx.query
    rv_text = query.get("resourceVersion")
    if rv_text and not rv_text.isdigit():
        raise bad_request(f'resourceVersion: Invalid value: "{rv_text}": must be a valid integer')
    timeout = query.number("timeoutSeconds")
    bookmarks = query.flag("allowWatchBookmarks")
    send_initial = query.flag("sendInitialEvents")
    bus = ctx.cluster.objects.bus
    sub = bus.subscribe(ctx.rt.plural)
    try:
        first: list[tuple[str, Obj]] = []
        failure: Obj | None = None
        if rv_text in ("", "0") or send_initial:
            first = [("ADDED", o) for o in ctx.cluster.objects.list(ctx.rt.plural, selection.namespace)
                     if selection.matches(o)]
        else:
            try:
                for change in bus.since(ctx.rt.plural, int(rv_text)):
                    event = _transform(selection, change)
                    if event is not None:
                        first.append(event)
            except HistoryExpired as exc:
                failure = expired(str(exc)).status()
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json",
                                                           "Cache-Control": "no-cache, private"})
        response.enable_chunked_encoding()
        await response.prepare(ctx.request)
        encoder = _Encoder(ctx)
        if failure is not None:
            await response.write(encoder.encode("ERROR", failure))
            await response.write_eof()
            return response
        try:
            for type_, obj in first:
                await response.write(encoder.encode(type_, obj))
            if send_initial and bookmarks:
                await response.write(encoder.encode("BOOKMARK", _bookmark(ctx, initial_end=True)))
            await _live(ctx, response, encoder, selection, sub.queue, timeout, bookmarks)
            await response.write_eof()
        except (ConnectionResetError, RuntimeError):
            pass  # the client went away mid-write
        return response
    finally:
        bus.unsubscribe(sub)


async def _live(ctx: Ctx, response: web.StreamResponse, encoder: _Encoder, selection: Selection,
                queue: asyncio.Queue[Change | None], timeout: int | None, bookmarks: bool) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (timeout if timeout and timeout > 0 else DEFAULT_TIMEOUT)
    next_bookmark = loop.time() + BOOKMARK_INTERVAL
    while True:
        now = loop.time()
        if now >= deadline:
            if bookmarks:
                await response.write(encoder.encode("BOOKMARK", _bookmark(ctx)))
            return
        if bookmarks and now >= next_bookmark:
            await response.write(encoder.encode("BOOKMARK", _bookmark(ctx)))
            next_bookmark = now + BOOKMARK_INTERVAL
        wait = min(deadline - now, POLL, max(0.0, next_bookmark - now) if bookmarks else POLL)
        try:
            change = await asyncio.wait_for(queue.get(), timeout=max(wait, 0.01))
        except TimeoutError:
            if _gone(ctx.request):
                return
            continue
        if change is None:
            return
        event = _transform(selection, change)
        if event is not None:
            await response.write(encoder.encode(*event))
