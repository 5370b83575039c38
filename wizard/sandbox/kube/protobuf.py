"""Decoding the protobuf request bodies kubectl's typed clients send (§12 of sandbox-kubernetes.md).

`kubectl create token|serviceaccount|namespace|configmap|secret` and `kubectl auth whoami` POST
`application/vnd.kubernetes.protobuf` and never fall back to JSON, so a 415 would break them. A body is the magic
`k8s\\0` followed by a `runtime.Unknown` {1: TypeMeta{1 apiVersion, 2 kind}, 2: raw, 3: contentEncoding,
4: contentType}; `raw` is the object's message. Only the messages (and fields) those commands send are
described; unknown fields are skipped, as protobuf decoders do. Output is the object's JSON form (bytes fields
base64, as JSON carries them).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

MAGIC = b"k8s\x00"

Obj = dict[str, Any]


class ProtobufError(Exception):
    pass


@dataclass(frozen=True)
class F:
    """One field: JSON name, type (`string`, `bytes`, `int`, `bool`, `map`, `map_bytes` or a Message)."""

    name: str
    type: Any
    repeated: bool = False


Message = dict[int, F]

OBJECT_META: Message = {
    1: F("name", "string"), 2: F("generateName", "string"), 3: F("namespace", "string"), 5: F("uid", "string"),
    6: F("resourceVersion", "string"), 7: F("generation", "int"), 11: F("labels", "map"),
    12: F("annotations", "map"), 14: F("finalizers", "string", True),
}
OBJECT_REFERENCE: Message = {1: F("kind", "string"), 2: F("namespace", "string"), 3: F("name", "string"),
                             4: F("uid", "string"), 5: F("apiVersion", "string")}
LOCAL_OBJECT_REFERENCE: Message = {1: F("name", "string")}
MESSAGES: dict[str, Message] = {
    "ServiceAccount": {1: F("metadata", OBJECT_META), 2: F("secrets", OBJECT_REFERENCE, True),
                       3: F("imagePullSecrets", LOCAL_OBJECT_REFERENCE, True),
                       4: F("automountServiceAccountToken", "bool")},
    "Namespace": {1: F("metadata", OBJECT_META), 2: F("spec", {1: F("finalizers", "string", True)})},
    "ConfigMap": {1: F("metadata", OBJECT_META), 2: F("data", "map"), 3: F("binaryData", "map_bytes"),
                  4: F("immutable", "bool")},
    "Secret": {1: F("metadata", OBJECT_META), 2: F("data", "map_bytes"), 3: F("type", "string"),
               4: F("stringData", "map"), 5: F("immutable", "bool")},
    "TokenRequest": {1: F("metadata", OBJECT_META), 2: F("spec", {
        1: F("audiences", "string", True), 4: F("expirationSeconds", "int"),
        3: F("boundObjectRef", {1: F("kind", "string"), 2: F("apiVersion", "string"), 3: F("name", "string"),
                                4: F("uid", "string")})})},
    "TokenReview": {1: F("metadata", OBJECT_META), 2: F("spec", {1: F("token", "string"),
                                                              2: F("audiences", "string", True)})},
    "SelfSubjectReview": {1: F("metadata", OBJECT_META)},
    "DeleteOptions": {1: F("gracePeriodSeconds", "int"),
                      2: F("preconditions", {1: F("uid", "string"), 2: F("resourceVersion", "string")}),
                      3: F("orphanDependents", "bool"), 4: F("propagationPolicy", "string"),
                      5: F("dryRun", "string", True)},
}
SUPPORTED_KINDS = frozenset(MESSAGES)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def done(self) -> bool:
        return self.pos >= len(self.data)

    def varint(self) -> int:
        result = shift = 0
        while True:
            if self.pos >= len(self.data):
                raise ProtobufError("unexpected EOF")
            byte = self.data[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise ProtobufError("integer overflow")

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ProtobufError("unexpected EOF")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def fields(self) -> list[tuple[int, int, Any]]:
        """(field number, wire type, value): varints as int, length-delimited as bytes, fixed as bytes."""
        found = []
        while not self.done():
            tag = self.varint()
            number, wire = tag >> 3, tag & 7
            if number == 0:
                raise ProtobufError("illegal tag 0")
            if wire == 0:
                value: Any = self.varint()
            elif wire == 1:
                value = self.take(8)
            elif wire == 2:
                value = self.take(self.varint())
            elif wire == 5:
                value = self.take(4)
            else:
                raise ProtobufError(f"illegal wireType {wire} for field {number}")
            found.append((number, wire, value))
        return found


def _text(raw: Any) -> str:
    if not isinstance(raw, bytes):
        raise ProtobufError("wrong wireType for a string field")
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise ProtobufError("invalid UTF-8 in a string field") from None


def _signed(value: Any) -> int:
    if not isinstance(value, int):
        raise ProtobufError("wrong wireType for an integer field")
    return value - (1 << 64) if value >= 1 << 63 else value


def _map_entry(raw: Any, as_bytes: bool) -> tuple[str, str]:
    if not isinstance(raw, bytes):
        raise ProtobufError("wrong wireType for a map field")
    key, value = "", b""
    for number, _, item in _Reader(raw).fields():
        if number == 1:
            key = _text(item)
        elif number == 2:
            if not isinstance(item, bytes):
                raise ProtobufError("wrong wireType for a map value")
            value = item
    if as_bytes:
        return key, base64.b64encode(value).decode()
    return key, _text(value)


def decode_message(data: bytes, message: Message) -> Obj:
    out: Obj = {}
    for number, _, raw in _Reader(data).fields():
        field = message.get(number)
        if field is None:
            continue
        if field.type in ("map", "map_bytes"):
            key, value = _map_entry(raw, field.type == "map_bytes")
            out.setdefault(field.name, {})[key] = value
            continue
        if field.type == "string":
            value_: Any = _text(raw)
        elif field.type == "int":
            value_ = _signed(raw)
        elif field.type == "bool":
            value_ = bool(_signed(raw))
        elif field.type == "bytes":
            value_ = base64.b64encode(raw if isinstance(raw, bytes) else b"").decode()
        else:
            if not isinstance(raw, bytes):
                raise ProtobufError(f"wrong wireType for field {field.name}")
            value_ = decode_message(raw, field.type)
        if field.repeated:
            out.setdefault(field.name, []).append(value_)
        else:
            out[field.name] = value_
    return out


def decode(body: bytes) -> Obj:
    """A protobuf-encoded Kubernetes object as its JSON dict (with apiVersion and kind)."""
    if not body.startswith(MAGIC):
        raise ProtobufError("provided data does not appear to be a protobuf message, expected prefix "
                            "[107 56 115 0]")
    unknown = decode_message(body[len(MAGIC):], {
        1: F("typeMeta", {1: F("apiVersion", "string"), 2: F("kind", "string")}),
        2: F("raw", "bytes"), 3: F("contentEncoding", "string"), 4: F("contentType", "string")})
    type_meta = unknown.get("typeMeta") or {}
    kind = type_meta.get("kind", "")
    message = MESSAGES.get(kind)
    if message is None:
        raise ProtobufError(f"no protobuf decoding for kind {kind!r}")
    if unknown.get("contentEncoding"):
        raise ProtobufError(f"unsupported content encoding {unknown['contentEncoding']!r}")
    raw = base64.b64decode(unknown.get("raw", ""))
    obj = decode_message(raw, message)
    obj["apiVersion"] = type_meta.get("apiVersion", "")
    obj["kind"] = kind
    return obj


# -- encoding (tests use it to build the bodies kubectl sends) ---------------------------------------------------

def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, wire: int, payload: bytes | int) -> bytes:
    tag = _varint(number << 3 | wire)
    if wire == 0:
        assert isinstance(payload, int)
        return tag + _varint(payload)
    assert isinstance(payload, bytes)
    return tag + _varint(len(payload)) + payload


def encode_message(obj: Obj, message: Message) -> bytes:
    out = b""
    for number, field in sorted(message.items()):
        if field.name not in obj:
            continue
        value = obj[field.name]
        if field.type in ("map", "map_bytes"):
            for key, item in sorted(value.items()):
                data = base64.b64decode(item) if field.type == "map_bytes" else item.encode()
                out += _field(number, 2, _field(1, 2, key.encode()) + _field(2, 2, data))
            continue
        for item in value if field.repeated else [value]:
            if field.type == "string":
                out += _field(number, 2, item.encode())
            elif field.type in ("int", "bool"):
                out += _field(number, 0, int(item))
            elif field.type == "bytes":
                out += _field(number, 2, base64.b64decode(item))
            else:
                out += _field(number, 2, encode_message(item, field.type))
    return out


def encode(obj: Obj) -> bytes:
    """The envelope kubectl would send for `obj` (one of SUPPORTED_KINDS)."""
    raw = encode_message(obj, MESSAGES[obj["kind"]])
    type_meta = _field(1, 2, obj["apiVersion"].encode()) + _field(2, 2, obj["kind"].encode())
    return MAGIC + _field(1, 2, type_meta) + _field(2, 2, raw)
