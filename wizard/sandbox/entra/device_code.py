"""The device-code flow (RFC 8628 as Entra runs it): a client asks for a code, a person approves it on the
sandbox's `/devicelogin` page (or the sandbox approves it itself after `settings.device_code_auto_approve`
seconds, as the tenant's first user), and the client's polls turn from `authorization_pending` into tokens.

Collection `device_codes`, keyed by the SHA-256 of the device code (a credential, never stored or logged as is).
A code lives 900 s; its state is pending → approved | declined → redeemed, or expired.
"""

from __future__ import annotations

import hashlib
from typing import Any

from wizard.sandbox import directory
from wizard.sandbox.entra import errors
from wizard.sandbox.entra.authority import Authority
from wizard.sandbox.entra.users import User, user
from wizard.sandbox.ids import Ids
from wizard.sandbox.world import World

DEVICE_CODES = "device_codes"
LIFETIME_SECONDS = 900
USER_CODE_LENGTH = 9

Record = dict[str, Any]


def _digest(device_code: str) -> str:
    return hashlib.sha256(device_code.encode()).hexdigest()


def normalize_user_code(text: str) -> str:
    """People type codes with spaces, dashes or in lower case."""
    return "".join(ch for ch in text if ch.isalnum()).upper()


def _live(world: World) -> list[tuple[str, Record]]:
    """Codes still worth keeping; expired ones are dropped on the way."""
    now = world.clock()
    live = []
    for key, record in world.store.items(DEVICE_CODES):
        if record["expires"] + LIFETIME_SECONDS < now:  # kept a while after expiry, so polls say "expired"
            world.store.delete(DEVICE_CODES, key)
        else:
            live.append((key, record))
    return live


# Entra's user codes are upper-case letters and digits (e.g. "GJ2Q8LHWD"); no 0/O or 1/I to misread.
USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _user_code(world: World, taken: set[str]) -> str:
    while True:  # seeded, so a fresh world's first codes are the same every time
        number = int(world.ids.new("user-code").replace("-", ""), 16)
        code = ""
        for _ in range(USER_CODE_LENGTH):
            number, digit = divmod(number, len(USER_CODE_ALPHABET))
            code += USER_CODE_ALPHABET[digit]
        if code not in taken and not code.isdigit():
            return code


def start(world: World, authority: Authority, client_id: str, client_name: str, scope: str) -> dict[str, Any]:
    """Register a new code; returns the devicecode answer."""
    now = world.clock()
    device_code = Ids.secret(48)
    user_code = _user_code(world, {r["user_code"] for _, r in _live(world)})
    delay = world.settings.device_code_auto_approve
    world.store.put(DEVICE_CODES, _digest(device_code), {
        "user_code": user_code, "client_id": client_id.lower(), "client_name": client_name,
        "authority": authority.segment, "tenant_id": authority.tenant_id, "scope": scope,
        "created": now, "expires": now + LIFETIME_SECONDS,
        "auto_approve_at": None if delay is None else now + delay,
        "state": "pending", "user": None,
    })
    uri = world.url("/devicelogin")
    return {
        "user_code": user_code, "device_code": device_code, "verification_uri": uri,
        "expires_in": LIFETIME_SECONDS, "interval": world.settings.device_code_interval,
        "message": f"To sign in, use a web browser to open the page {uri} and enter the code {user_code} to "
                   "authenticate.",
    }


def accounts(world: World, record: Record) -> list[dict[str, Any]]:
    """Who may approve: the users of the code's tenant; for organizations/common, every user of the sandbox."""
    if record["tenant_id"] is not None:
        return directory.users(world, record["tenant_id"])
    return [u for t in directory.tenants(world) for u in directory.users(world, t["tenant_id"])]


def state(world: World, key: str, record: Record) -> str:
    """The code's state now, applying automatic approval (and persisting it) when its time has come."""
    now = world.clock()
    if record["state"] in {"pending", "approved"} and now >= record["expires"]:
        return "expired"
    auto_at = record["auto_approve_at"]
    if record["state"] == "pending" and auto_at is not None and now >= auto_at:
        candidates = accounts(world, record)
        if candidates:
            set_outcome(world, key, record, "approved", candidates[0]["object_id"])
    return str(record["state"])


def set_outcome(world: World, key: str, record: Record, outcome: str, object_id: str | None) -> None:
    record["state"] = outcome
    record["user"] = object_id
    world.store.put(DEVICE_CODES, key, record)


def by_user_code(world: World, user_code: str) -> tuple[str, Record] | None:
    wanted = normalize_user_code(user_code)
    for key, record in _live(world):
        if record["user_code"] == wanted:
            return key, record
    return None


def redeem(world: World, authority: Authority, client_id: str, device_code: str) -> tuple[User, Record]:
    """A poll: the signed-in user once approved, else the refusal that tells the client what to do."""
    key = _digest(device_code)
    record = world.store.get(DEVICE_CODES, key)
    if record is None or record["client_id"] != client_id.lower() or record["authority"] != authority.segment:
        raise errors.invalid_grant()
    current = state(world, key, record)
    if current == "pending":
        raise errors.authorization_pending()
    if current == "declined":
        raise errors.authorization_declined()
    if current == "expired":
        raise errors.device_code_expired()
    if current == "redeemed":
        raise errors.grant_already_used()
    signed_in = user(world, record["user"])
    if signed_in is None:
        raise errors.invalid_grant()
    set_outcome(world, key, record, "redeemed", record["user"])
    return signed_in, record
