"""Long-running ARM operations (cluster create/update/delete, resource-group delete).

An operation is a stored document that stays `InProgress` for the world's LRO time (or the `slow-lro` fault's)
and is then finished by the function registered for its kind, which applies the change and may fail it.
Operations settle when they fall due (a timer on the sandbox loop) and, in case the sandbox restarted
meanwhile, at the start of every ARM request — so a client never sees a stale state.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from wizard.sandbox.arm.context import Call
from wizard.sandbox.arm.errors import ArmError
from wizard.sandbox.httputil import json_response
from wizard.sandbox.world import World

log = logging.getLogger("wizard.sandbox")

COLLECTION = "arm-operations"
IN_PROGRESS, SUCCEEDED, FAILED = "InProgress", "Succeeded", "Failed"
RETRY_AFTER = "1"  # "0" would mean "absent" to the SDK, which then waits 30 s

Operation = dict[str, Any]
# A finisher applies the operation's change; it returns None on success or ARM's {"code","message"} on failure.
Finisher = Callable[[World, Operation], dict[str, str] | None]
_FINISHERS: dict[str, Finisher] = {}


def register(kind: str, finisher: Finisher) -> None:
    _FINISHERS[kind] = finisher


def duration(world: World) -> float:
    return world.faults.seconds("slow-lro") if world.faults.on("slow-lro") else world.settings.lro_seconds


def iso(epoch: float) -> str:
    """ARM's operation timestamps: `2026-11-28T15:08:02.1234567Z`."""
    t = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}0Z"


def start(world: World, kind: str, resource_id: str, *, status_path: str | None, result_path: str,
          payload: dict[str, Any] | None = None) -> Operation:
    now = world.clock()
    op_id = world.ids.new("operation")
    op: Operation = {
        "id": op_id, "kind": kind, "resource_id": resource_id, "status": IN_PROGRESS, "started": now,
        "due": now + duration(world), "ended": None, "error": None, "payload": payload or {},
        "status_path": status_path.format(id=op_id) if status_path else None,
        "result_path": result_path.format(id=op_id),
    }
    world.store.put(COLLECTION, op_id, op)
    _schedule(world, op)
    return op


def get(world: World, op_id: str) -> Operation | None:
    return world.store.get(COLLECTION, op_id.lower())


def in_progress_for(world: World, resource_id: str) -> Operation | None:
    wanted = resource_id.lower()
    for op in world.store.values(COLLECTION):
        if op["status"] == IN_PROGRESS and op["resource_id"].lower() == wanted:
            return op
    return None


def settle(world: World) -> None:
    """Finish every operation that has fallen due."""
    now = world.clock()
    for op in sorted(world.store.values(COLLECTION), key=lambda o: o["due"]):
        if op["status"] != IN_PROGRESS or op["due"] > now:
            continue
        finisher = _FINISHERS.get(op["kind"])
        try:
            error = finisher(world, op) if finisher else None
        except Exception:  # a bug must fail the operation, not every later ARM request that settles it
            log.exception("finishing ARM operation %s (%s) failed", op["id"], op["kind"])
            error = {"code": "InternalOperationError",
                     "message": "The operation failed because of an internal error. See sandbox.log."}
        op.update(status=FAILED if error else SUCCEEDED, error=error, ended=now)
        world.store.put(COLLECTION, op["id"], op)


def _settle_quietly(world: World) -> None:
    try:
        settle(world)
    except Exception:  # a timer callback must never take the loop down; the next request settles again
        log.exception("settling ARM operations failed")


def _schedule(world: World, op: Operation) -> None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not on the sandbox loop (seeding, tests): the next request settles it
        return
    loop.call_later(max(0.0, op["due"] - world.clock()) + 0.01, _settle_quietly, world)


def resume(world: World) -> None:
    """After a (re)start: finish what fell due while the sandbox was down, and time the rest."""
    settle(world)
    for op in world.store.values(COLLECTION):
        if op["status"] == IN_PROGRESS:
            _schedule(world, op)


def headers(call: Call, op: Operation) -> dict[str, str]:
    """What an accepted long-running request answers with: where to poll, and how soon."""
    found = {"Location": call.url(op["result_path"], **{"api-version": call.api_version}), "Retry-After": RETRY_AFTER}
    if op["status_path"]:
        found["Azure-AsyncOperation"] = call.url(op["status_path"], **{"api-version": call.api_version})
    return found


def _known(call: Call, op_id: str) -> Operation:
    op = get(call.world, op_id)
    if op is None or not op["result_path"].lower().startswith(f"/subscriptions/{call.subscription_id}".lower()):
        raise ArmError(404, "NotFound", f"The operation '{op_id}' could not be found.")
    return op


def status_response(call: Call, op_id: str) -> web.Response:
    """The Azure-AsyncOperation status document."""
    op = _known(call, op_id)
    body: dict[str, Any] = {"name": op["id"], "status": op["status"], "startTime": iso(op["started"])}
    if op["ended"] is not None:
        body["endTime"] = iso(op["ended"])
    if op["error"]:
        body["error"] = op["error"]
    return json_response(body, headers={"Retry-After": RETRY_AFTER} if op["status"] == IN_PROGRESS else None)


def result_response(call: Call, op_id: str) -> web.StreamResponse:
    """The Location poll: 202 while running, 200 when done, the operation's error when it failed."""
    op = _known(call, op_id)
    if op["status"] == IN_PROGRESS:
        return web.Response(status=202, headers=headers(call, op))
    if op["error"]:
        raise ArmError(400, op["error"]["code"], op["error"]["message"])
    return web.Response(status=200)
