"""Label and field selectors (`labelSelector=`, `fieldSelector=`) with the API server's grammar and errors.

Label selectors: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, `k>1`, `k<1`, comma-joined.
Field selectors: `f=v`, `f==v`, `f!=v` over the fields each resource type supports (anything else is a 400
`field label not supported`, as on a real cluster).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wizard.sandbox.kube.errors import ApiError, bad_request

Obj = dict[str, Any]

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_NAME_PART = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def label_key_problem(key: str) -> str | None:
    """Why `key` is not a qualified name (`[prefix/]name`), or None when it is valid."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, " \
               "'-' or '.', and must start and end with an alphanumeric character"
    if not name:
        return "name part must be non-empty"
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    if not _NAME_PART.match(name):
        return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with " \
               "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for " \
               "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    return None


def label_value_problem(value: str) -> str | None:
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _LABEL_VALUE.match(value):
        return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and " \
               "must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', " \
               "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    return None


# -- label selectors -------------------------------------------------------------------------------------------

_SPECIAL = set(" \t\n,()=!<>")


def _lex(text: str) -> list[str]:
    tokens: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif text.startswith(("==", "!="), i):
            tokens.append(text[i:i + 2])
            i += 2
        elif c in ",()=!<>":
            tokens.append(c)
            i += 1
        else:
            j = i
            while j < len(text) and text[j] not in _SPECIAL:
                j += 1
            tokens.append(text[i:j])
            i = j
    return tokens


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!", "gt", "lt"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op in {"=", "in"}:
            return present and value in self.values
        if self.op in {"!=", "notin"}:
            return not present or value not in self.values
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        try:
            number, bound = int(str(value)), int(self.values[0])
        except ValueError:
            return False
        return present and (number > bound if self.op == "gt" else number < bound)


def _unable(detail: str) -> ApiError:
    return bad_request(f"unable to parse requirement: {detail}")


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str | None:
        token = self.peek()
        self.pos += 1
        return token

    def identifier(self, what: str) -> str:
        token = self.take()
        if token is None or token in {",", "(", ")", "=", "==", "!=", "!", "<", ">"}:
            raise bad_request(f"found '{token or ''}', expected: {what}")
        return token

    def requirement(self) -> Requirement:
        if self.peek() == "!":
            self.take()
            return self._checked(Requirement(self.identifier("identifier"), "!"))
        key = self.identifier("identifier")
        op = self.peek()
        if op is None or op == ",":
            return self._checked(Requirement(key, "exists"))
        self.take()
        if op in {"=", "=="}:
            return self._checked(Requirement(key, "=", (self._value(),)))
        if op == "!=":
            return self._checked(Requirement(key, "!=", (self._value(),)))
        if op in {">", "<"}:
            bound = self.identifier("integer")
            if not re.fullmatch(r"-?[0-9]+", bound):
                raise _unable(f"for 'Gt', 'Lt' operators, the value must be an integer, found {bound!r}")
            return self._checked(Requirement(key, "gt" if op == ">" else "lt", (bound,)))
        if op in {"in", "notin"}:
            if self.take() != "(":
                raise bad_request("found '', expected: '('")
            values: list[str] = []
            while True:
                token = self.peek()
                if token == ")":
                    self.take()
                    break
                if token == ",":
                    self.take()
                    values.append("")
                    continue
                if token is None:
                    raise bad_request("found '', expected: ',' or ')'")
                values.append(self.identifier("identifier"))
                if self.peek() == ",":
                    self.take()
            return self._checked(Requirement(key, op, tuple(values)))
        raise bad_request(f"found '{op}', expected: in, notin, =, ==, !=, gt, lt")

    def _value(self) -> str:
        token = self.peek()
        if token is None or token == ",":
            return ""
        return self.identifier("identifier")

    @staticmethod
    def _checked(req: Requirement) -> Requirement:
        problem = label_key_problem(req.key)
        if problem:
            raise _unable(f'key: Invalid value: "{req.key}": {problem}')
        if req.op in {"=", "!=", "in", "notin"}:
            for i, value in enumerate(req.values):
                problem = label_value_problem(value)
                if problem:
                    raise _unable(f'values[{i}][{req.key}]: Invalid value: "{value}": {problem}')
        return req


def parse_labels(text: str) -> list[Requirement]:
    parser = _Parser(text)
    requirements: list[Requirement] = []
    while parser.peek() is not None:
        requirements.append(parser.requirement())
        token = parser.take()
        if token not in {None, ","}:
            raise bad_request(f"found '{token}', expected: ',' or 'end of string'")
    return requirements


def labels_match(requirements: list[Requirement], obj: Obj) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(r.matches(labels) for r in requirements)


# -- field selectors -------------------------------------------------------------------------------------------

def _get(path: str) -> Callable[[Obj], str]:
    parts = path.split(".")

    def read(obj: Obj) -> str:
        value: Any = obj
        for part in parts:
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)

    return read


_COMMON = ("metadata.name", "metadata.namespace")
FIELDS: dict[str, tuple[str, ...]] = {
    "pods": (*_COMMON, "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
             "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"),
    "events": (*_COMMON, "involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
               "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
               "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"),
    "secrets": (*_COMMON, "type"),
    "namespaces": ("metadata.name", "status.phase"),
}


def _field_reader(resource: str, field: str) -> Callable[[Obj], str]:
    if field == "source":
        return lambda obj: str((obj.get("source") or {}).get("component") or "")
    if field == "spec.hostNetwork":
        return lambda obj: "true" if (obj.get("spec") or {}).get("hostNetwork") else "false"
    return _get(field)


@dataclass(frozen=True)
class FieldTerm:
    field: str
    negate: bool
    value: str
    read: Callable[[Obj], str]

    def matches(self, obj: Obj) -> bool:
        return (self.read(obj) == self.value) != self.negate


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, current, i = [], "", 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            current += text[i:i + 2]
            i += 2
            continue
        if text[i] == sep:
            parts.append(current)
            current = ""
        else:
            current += text[i]
        i += 1
    parts.append(current)
    return parts


def _unescape(value: str) -> str:
    out, i = "", 0
    while i < len(value):
        if value[i] == "\\":
            if i + 1 >= len(value) or value[i + 1] not in "\\,=":
                raise bad_request(f"invalid field selector: invalid escape sequence in {value!r}")
            out += value[i + 1]
            i += 2
        else:
            out += value[i]
            i += 1
    return out


def parse_fields(text: str, resource: str) -> list[FieldTerm]:
    terms: list[FieldTerm] = []
    supported = FIELDS.get(resource, _COMMON)
    for part in _split_unescaped(text, ","):
        if not part.strip():
            continue
        match = re.match(r"^([^=!]*?)(==|!=|=)(.*)$", part)
        if not match:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        field, op, value = match.group(1).strip(), match.group(2), match.group(3)
        if field not in supported:
            raise bad_request(f"field label not supported: {field}")
        terms.append(FieldTerm(field, op == "!=", _unescape(value), _field_reader(resource, field)))
    return terms


def fields_match(terms: list[FieldTerm], obj: Obj) -> bool:
    return all(t.matches(obj) for t in terms)
