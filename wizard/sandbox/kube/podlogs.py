"""`GET …/pods/{name}/log` (§10): the API server's checks, then the kubelet's, then the lines.

Errors are the real ones, because the wizard and kubectl users meet them: no container named for a
multi-container pod, an unscheduled pod, a container still waiting (`… is waiting to start:
ContainerCreating`, or `trying and failing to pull image`). `follow=true` streams new lines as the runtime
appends them and ends when the container terminates or the pod goes away.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from wizard.sandbox.kube.ctx import Ctx
from wizard.sandbox.kube.errors import Cause, bad_request, invalid, not_found
from wizard.sandbox.kube.logs import Line
from wizard.sandbox.kube.meta import parse_time

Obj = dict[str, Any]
POLL = 1.0


def _options(ctx: Ctx) -> dict[str, Any]:
    q = ctx.query
    opts: dict[str, Any] = {"container": q.get("container"), "follow": q.flag("follow"), "previous": q.flag("previous"),
            "timestamps": q.flag("timestamps"), "tail": q.number("tailLines"), "since": q.number("sinceSeconds"),
            "since_time": q.get("sinceTime"), "limit": q.number("limitBytes")}
    causes = []
    if opts["tail"] is not None and opts["tail"] < 0:
        causes.append(Cause("tailLines", "Invalid value", "must be greater than or equal to 0", opts["tail"]))
    if opts["since"] is not None and opts["since"] < 1:
        causes.append(Cause("sinceSeconds", "Invalid value", "must be greater than 0", opts["since"]))
    if opts["limit"] is not None and opts["limit"] < 1:
        causes.append(Cause("limitBytes", "Invalid value", "must be greater than 0", opts["limit"]))
    if opts["since"] is not None and opts["since_time"]:
        causes.append(Cause("", "Forbidden", "at most one of `sinceTime` or `sinceSeconds` may be specified"))
    if opts["since_time"] and parse_time(opts["since_time"]) is None:
        raise bad_request(f'parsing time "{opts["since_time"]}" as "2006-01-02T15:04:05Z07:00": cannot parse')
    if causes:
        raise invalid("PodLogOptions", "", causes)
    return opts


def _names(containers: list[Obj]) -> str:
    return " ".join(c.get("name", "") for c in containers)


def _container(pod: Obj, wanted: str) -> str:
    spec, name = pod.get("spec") or {}, pod["metadata"]["name"]
    containers, inits = spec.get("containers") or [], spec.get("initContainers") or []
    if not wanted:
        if len(containers) == 1:
            return str(containers[0].get("name", ""))
        if not containers:
            raise bad_request(f"a container name must be specified for pod {name}")
        message = f"a container name must be specified for pod {name}, choose one of: [{_names(containers)}]"
        if inits:
            message += f" or one of the init containers: [{_names(inits)}]"
        raise bad_request(message)
    if not any(c.get("name") == wanted for c in containers + inits):
        raise bad_request(f"container {wanted} is not valid for pod {name}")
    return wanted


def _check_status(pod: Obj, container: str, previous: bool) -> None:
    """The kubelet's validateContainerLogStatus."""
    name = pod["metadata"]["name"]
    status = pod.get("status") or {}
    found = next((cs for field in ("containerStatuses", "initContainerStatuses")
                  for cs in status.get(field) or [] if cs.get("name") == container), None)
    state = (found or {}).get("state") or {}
    last = ((found or {}).get("lastState") or {}).get("terminated")
    if previous:
        if not last:
            raise bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
        return
    if state.get("running") or state.get("terminated") or last:
        return
    reason = (state.get("waiting") or {}).get("reason") or "ContainerCreating"
    if reason in {"ErrImagePull", "ImagePullBackOff"}:
        raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: trying and failing to '
                          "pull image")
    raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: {reason}')


class _Writer:
    """Formats lines and enforces limitBytes across what was already sent."""

    def __init__(self, response: web.StreamResponse, timestamps: bool, limit: int | None) -> None:
        self.response = response
        self.timestamps = timestamps
        self.left = limit

    async def write(self, line: Line) -> bool:
        """False once limitBytes is used up."""
        data = (f"{line.timestamp} {line.text}\n" if self.timestamps else f"{line.text}\n").encode()
        if self.left is not None:
            data = data[:self.left]
            self.left -= len(data)
        if data:
            await self.response.write(data)
        return self.left is None or self.left > 0


async def serve(ctx: Ctx) -> web.StreamResponse:
    assert ctx.name is not None and ctx.namespace is not None
    opts = _options(ctx)
    pod = ctx.cluster.objects.get("pods", ctx.namespace, ctx.name)
    if pod is None:
        raise not_found("pods", ctx.name)
    container = _container(pod, opts["container"])
    if not (pod.get("spec") or {}).get("nodeName"):
        raise bad_request(f"pod {ctx.name} does not have a host assigned")
    _check_status(pod, container, opts["previous"])
    uid = pod["metadata"]["uid"]
    logs = ctx.cluster.logs
    follow = opts["follow"] and not opts["previous"]
    follower = logs.follow(uid, container) if follow else None
    try:
        lines = logs.lines(uid, container, previous=opts["previous"])
        since = opts["since"]
        cutoff = ctx.cluster.now() - since if since else parse_time(opts["since_time"]) if opts["since_time"] \
            else None
        if cutoff is not None:
            lines = [line for line in lines if line.at >= cutoff]
        if opts["tail"] is not None:
            lines = lines[len(lines) - opts["tail"]:] if opts["tail"] else []
        response = web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(ctx.request)
        writer = _Writer(response, opts["timestamps"], opts["limit"])
        try:
            more = True
            for line in lines:
                more = await writer.write(line)
                if not more:
                    break
            if follower is not None and more and not logs.closed(uid, container):
                await _follow(ctx, writer, follower.queue)
            await response.write_eof()
        except (ConnectionResetError, RuntimeError):
            pass  # the client went away
        return response
    finally:
        if follower is not None:
            logs.unfollow(follower)


async def _follow(ctx: Ctx, writer: _Writer, queue: asyncio.Queue[Line | None]) -> None:
    while True:
        try:
            line = await asyncio.wait_for(queue.get(), timeout=POLL)
        except TimeoutError:
            transport = ctx.request.transport
            if transport is None or transport.is_closing():
                return
            continue
        if line is None or not await writer.write(line):
            return
