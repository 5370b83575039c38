"""One ARM request as the handlers see it: the normalised path, its parts, the query, the caller and the body.

ARM paths are case-insensitive (`resourcegroups` and `resourceGroups` both arrive), so everything that
compares path parts lower-cases them; names keep the caller's casing for the bodies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from wizard.sandbox.arm.errors import bad_request, invalid_request_content
from wizard.sandbox.world import World

API_VERSION = "api-version"


@dataclass(frozen=True)
class Target:
    """A provider path split ARM's way: `{scope}/providers/{namespace}/{type}/{name}/{type}/{name}…`.

    `scope` is everything before the last `/providers/` (a subscription, a resource group, or a resource when
    the target is an extension resource such as a role assignment or a quota). `names` is one shorter than
    `types` for a collection (or a POST action), as long for one resource."""

    scope: str
    namespace: str
    types: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def is_collection(self) -> bool:
        return len(self.names) < len(self.types)

    @property
    def name(self) -> str:
        return self.names[-1] if self.names else ""


def parse_target(segments: list[str]) -> Target | None:
    """The provider part of a path, or None when the path has no `/providers/{namespace}`."""
    lowered = [s.lower() for s in segments]
    for i in range(len(segments) - 2, -1, -1):
        if lowered[i] == "providers":
            rest = segments[i + 2:]
            return Target("/" + "/".join(segments[:i]) if i else "", segments[i + 1],
                          tuple(rest[0::2]), tuple(rest[1::2]))
    return None


@dataclass
class Call:
    world: World
    request: web.Request
    method: str
    path: str  # leading slash, no trailing slash, repeated slashes collapsed, original casing
    segments: list[str]
    query: dict[str, str]
    claims: dict[str, Any] = field(default_factory=dict)
    subscription: dict[str, Any] | None = None

    @classmethod
    def of(cls, world: World, request: web.Request) -> Call:
        segments = [s for s in request.path.split("/") if s]
        query = {k: v for k, v in request.query.items()}
        return cls(world, request, request.method.upper(), "/" + "/".join(segments), segments, query)

    # -- query -------------------------------------------------------------------------------------------------

    def param(self, name: str) -> str | None:
        """A query parameter by case-insensitive name (`$filter` and `$Filter` both occur in the wild)."""
        wanted = name.lower()
        for key, value in self.query.items():
            if key.lower() == wanted:
                return value
        return None

    @property
    def api_version(self) -> str:
        return self.param(API_VERSION) or ""

    def require_api_version(self) -> None:
        if not self.api_version:
            raise bad_request("MissingApiVersionParameter",
                              "The api-version query parameter (?api-version=) is required for all requests.")

    # -- path --------------------------------------------------------------------------------------------------

    @property
    def lowered(self) -> list[str]:
        return [s.lower() for s in self.segments]

    @property
    def subscription_id(self) -> str | None:
        if len(self.segments) >= 2 and self.lowered[0] == "subscriptions":
            return self.segments[1]
        return None

    @property
    def tenant_id(self) -> str:
        """The caller's tenant (the token's `tid`)."""
        return str(self.claims.get("tid", ""))

    @property
    def caller_id(self) -> str:
        return str(self.claims.get("oid", ""))

    def url(self, path: str, **params: str) -> str:
        """An absolute URL on the sandbox host (LRO headers, nextLink): clients follow them verbatim."""
        query = urlencode(params, quote_via=quote, safe="$'()") if params else ""
        return self.world.url(path) + (f"?{query}" if query else "")

    # -- body --------------------------------------------------------------------------------------------------

    async def json_body(self) -> dict[str, Any]:
        """The JSON object sent; an absent body counts as `{}`. Anything else is ARM's InvalidRequestContent."""
        raw = await self.request.read()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise invalid_request_content("The request content is not valid UTF-8.") from None
        except json.JSONDecodeError as exc:
            raise invalid_request_content(
                f"{exc.msg}. Path '', line {exc.lineno}, position {exc.colno}.") from None
        if not isinstance(body, dict):
            raise invalid_request_content(
                f"Cannot deserialize the current JSON {type(body).__name__} into an object. Path '', line 1.")
        return body


def object_member(body: dict[str, Any], name: str) -> dict[str, Any]:
    """`body[name]` when it is an object, `{}` when absent; a wrong JSON type is InvalidRequestContent."""
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_request_content(f"Error converting value to type 'Object'. Path '{name}'.")
    return value


def tags_member(body: dict[str, Any]) -> dict[str, str]:
    """`tags`: an object of strings (ARM refuses anything else while reading the request)."""
    tags = object_member(body, "tags")
    for key, value in tags.items():
        if not isinstance(value, str):
            raise invalid_request_content(f"Error converting value {json.dumps(value)} to type 'String'. "
                                          f"Path 'tags.{key}'.")
    return tags


def bool_member(body: dict[str, Any], name: str, path: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise invalid_request_content(f"Could not convert {json.dumps(value)} to boolean. Path '{path}'.")
    return value


def string_member(body: dict[str, Any], name: str, path: str | None = None) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_request_content(f"Error converting value {json.dumps(value)} to type 'String'. "
                                      f"Path '{path or name}'.")
    return value
