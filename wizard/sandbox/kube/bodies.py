"""Request bodies, query parameters and content negotiation, as the API server treats them.

- A missing `Content-Type` means JSON (the v37 Python client sends none on POST); YAML and kubectl's protobuf
  bodies are accepted too; anything else is 415.
- `Accept` may ask for a `Table` (kubectl get) or `PartialObjectMetadata`; protobuf is never answered with
  protobuf (JSON is, which every client takes).
- Query values parse like Go's (`strconv.ParseBool` accepts `True`, which the v36 client sends for `watch`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any

import yaml
from aiohttp import web

from wizard.sandbox.kube import protobuf, schema
from wizard.sandbox.kube.errors import ApiError, bad_request, unsupported_media

Obj = dict[str, Any]

JSON, YAML, PROTOBUF = "application/json", "application/yaml", "application/vnd.kubernetes.protobuf"
BODY_TYPES = [JSON, YAML, PROTOBUF, "application/cbor"]
PATCH_TYPES = ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml",
               "application/strategic-merge-patch+json", "application/apply-patch+cbor"]
TYPE_META = 'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }'


def media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


def go_json_error(exc: json.JSONDecodeError) -> str:
    """A Python JSON error worded like encoding/json's."""
    if exc.pos >= len(exc.doc.rstrip()):
        return "unexpected end of JSON input"
    char = exc.doc[exc.pos]
    if exc.msg.startswith("Expecting value"):
        return f"invalid character {char!r} looking for beginning of value"
    if exc.msg.startswith("Extra data"):
        return f"invalid character {char!r} after top-level value"
    if exc.msg.startswith("Expecting property name"):
        return f"invalid character {char!r} looking for beginning of object key string"
    return f"invalid character {char!r} {exc.msg.split(':', 1)[0].lower()}"


def _jsonable(value: Any) -> Any:
    """YAML → JSON as sigs.k8s.io/yaml does it: string keys, timestamps as strings, binary as base64."""
    if isinstance(value, dict):
        return {("null" if k is None else str(k).lower() if isinstance(k, bool) else str(k)): _jsonable(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value.utcoffset() in (None, dt.timedelta(0)) \
            else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, set):
        return {str(k): None for k in value}
    if isinstance(value, float) and math.isnan(value):  # NaN has no JSON form
        raise bad_request("error converting YAML to JSON: json: unsupported value: NaN")
    return value


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise bad_request("couldn't get version/kind; json parse error: invalid character in UTF-8 input") from None
    except json.JSONDecodeError as exc:
        raise bad_request(f"couldn't get version/kind; json parse error: {go_json_error(exc)}") from None
    except RecursionError:
        raise bad_request("couldn't get version/kind; json parse error: exceeded max depth") from None


def parse_yaml(raw: bytes) -> Any:
    try:
        return _jsonable(yaml.safe_load(raw.decode("utf-8")))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else "invalid YAML"
        raise bad_request(f"error converting YAML to JSON: yaml: {problem}") from None
    except RecursionError:
        raise bad_request("error converting YAML to JSON: yaml: exceeded max depth") from None


def decode_raw(raw: bytes, content_type: str, accepted: list[str] | None = None) -> Any:
    """The body as JSON data, by its media type (empty: JSON)."""
    kind = media_type(content_type) or JSON
    if kind == JSON or kind.endswith("+json"):
        return parse_json(raw)
    if kind in {YAML, "text/yaml", "application/x-yaml"} or kind.endswith("+yaml"):
        return parse_yaml(raw)
    if kind == PROTOBUF:
        try:
            return protobuf.decode(raw)
        except protobuf.ProtobufError as exc:
            raise bad_request(f"the body of the request could not be decoded as protobuf: {exc}") from None
    raise unsupported_media(accepted or BODY_TYPES)


async def read_object(request: web.Request, kind: str, api_version: str) -> Obj:
    """The body of a create/update: decoded, its kind and apiVersion checked, its field types checked."""
    raw = await request.read()
    ctype = request.headers.get("Content-Type", "")
    if media_type(ctype) == PROTOBUF and kind not in protobuf.SUPPORTED_KINDS:
        raise unsupported_media([JSON, YAML])
    body = decode_raw(raw, ctype)
    return check_object(body, kind, api_version)


def check_object(body: Any, kind: str, api_version: str) -> Obj:
    if not isinstance(body, dict):
        found = "array" if isinstance(body, list) else "string" if isinstance(body, str) else \
            "bool" if isinstance(body, bool) else "null" if body is None else "number"
        raise bad_request(f"couldn't get version/kind; json parse error: json: cannot unmarshal {found} into Go "
                          f"value of type {TYPE_META}")
    body_version, body_kind = body.get("apiVersion"), body.get("kind")
    if body_version not in (None, "") and body_version != api_version:
        raise bad_request(f"the API version in the data ({body_version}) does not match the expected API version "
                          f"({api_version})")
    if body_kind not in (None, "") and body_kind != kind:
        raise bad_request(f'{kind} in version "{api_version}" cannot be handled as a {kind}: the kind of the '
                          f"object ({body_kind}) does not match the expected kind ({kind})")
    try:
        checked = schema.check(kind, body)
    except schema.SchemaError as exc:
        raise bad_request(f'{kind} in version "{api_version}" cannot be handled as a {kind}: {exc}') from None
    checked["apiVersion"], checked["kind"] = api_version, kind
    checked.setdefault("metadata", {})
    return checked


async def read_delete_options(request: web.Request) -> Obj:
    raw = await request.read()
    if not raw.strip():
        return {}
    body = decode_raw(raw, request.headers.get("Content-Type", ""))
    if not isinstance(body, dict):
        raise bad_request("couldn't get version/kind; json parse error: json: cannot unmarshal array into Go value "
                          f"of type {TYPE_META}")
    try:
        return schema.check("DeleteOptions", body)
    except schema.SchemaError as exc:
        raise bad_request(f'DeleteOptions in version "v1" cannot be handled as a DeleteOptions: {exc}') from None


# -- Accept --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Wanted:
    """What the response should be: the object(s) as they are, a Table, or only their metadata."""

    shape: str  # "object", "table" or "metadata"
    version: str = "v1"


def negotiate(accept: str | None) -> Wanted:
    for entry in (accept or "").split(","):
        parts = [p.strip() for p in entry.split(";")]
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        if params.get("g") != "meta.k8s.io" or parts[0] not in {JSON, "*/*", "application/*"}:
            continue
        version = params.get("v", "v1")
        if params.get("as") == "Table" and version in {"v1", "v1beta1"}:
            return Wanted("table", version)
        if params.get("as") in {"PartialObjectMetadata", "PartialObjectMetadataList"} \
                and version in {"v1", "v1beta1"}:
            return Wanted("metadata", version)
    return Wanted("object")


# -- query parameters ----------------------------------------------------------------------------------------------

def go_bool(value: str, name: str) -> bool:
    """strconv.ParseBool."""
    if value in {"1", "t", "T", "TRUE", "true", "True"}:
        return True
    if value in {"0", "f", "F", "FALSE", "false", "False"}:
        return False
    raise bad_request(f'strconv.ParseBool: parsing "{value}": invalid syntax (query parameter {name})')


class Query:
    def __init__(self, request: web.Request) -> None:
        self._q = request.query

    def get(self, name: str, default: str = "") -> str:
        return self._q.get(name, default)

    def has(self, name: str) -> bool:
        return name in self._q

    def flag(self, name: str) -> bool:
        value = self._q.get(name)
        return False if value in (None, "") else go_bool(value, name)

    def number(self, name: str) -> int | None:
        value = self._q.get(name)
        if value in (None, ""):
            return None
        try:
            return int(value)
        except ValueError:
            raise bad_request(f'strconv.ParseInt: parsing "{value}": invalid syntax (query parameter {name})') \
                from None

    def dry_run(self) -> bool:
        values = self._q.getall("dryRun", [])
        for value in values:
            if value != "All":
                raise ApiError(400, "BadRequest", f'Invalid dryRun value "{value}": supported values: "All"')
        return bool(values)
