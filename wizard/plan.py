"""The plan: what the user wants, nothing observed.

Loaded from TOML for headless runs or built by the screens; validated strictly (unknown keys are refused, every
name is checked against Azure's and Kubernetes' rules) with messages that name the key and the fix. Derived values
are computed, never stored: the subject, the federated credential's default name, whether the tenants differ.
"""

from __future__ import annotations

import json
import re
import reprlib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from wizard import names

DEFAULT_AUDIENCE = "api://AzureADTokenExchange"
# The probe runs on the public Azure CLI image: nothing to build or push (the sandbox runs its emulation).
PROBE_IMAGE = "mcr.microsoft.com/azure-cli:2.91.0"
# Values the workload identity webhook injects; setting them by hand breaks the federation.
WEBHOOK_ENV = ("AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST")
# `${identity.subscription_id}` and friends in workload env values are filled in at deploy time.
PLACEHOLDERS = ("identity.subscription_id", "identity.tenant_id", "identity.location", "identity.client_id",
                "identity.resource_group", "cluster.subscription_id")
# Any `${…}` is read as a placeholder, so a misspelt one (`${identity.subscriptionId}`) is refused, not passed on.
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
MAX_PLAN_BYTES = 1_000_000
# Wrong values are quoted in messages, shortened: a 1 MB string or a deeply nested list must not become the message.
_QUOTE = reprlib.Repr()
_QUOTE.maxstring = _QUOTE.maxother = 60
_QUOTE.maxlevel = 2


@dataclass(frozen=True)
class Problem:
    key: str
    message: str
    value: str | None = None  # the offending value, when the rule is about a value (shown, shortened)

    def __str__(self) -> str:
        if self.value is None:
            return f"{self.key}: {self.message}"
        shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
        return f"{self.key} = {shown!r}: {self.message}"


class PlanError(Exception):
    """A plan that cannot be used, with every problem found (not just the first)."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source} is not a usable plan:\n{lines}")


@dataclass
class ClusterSide:
    tenant: str = ""
    subscription: str = ""
    resource_group: str = ""
    name: str = ""
    # Turn on the OIDC issuer and workload identity when they are off (a cluster update; it cannot be undone).
    enable_workload_identity: bool = True


@dataclass
class IdentitySide:
    tenant: str = ""
    subscription: str = ""
    resource_group: str = ""
    location: str = ""
    name: str = ""
    # Reuse an identity that must already exist, instead of creating it when missing.
    reuse: bool = False


@dataclass
class RoleGrant:
    role: str = "Reader"
    # "subscription" / "resource-group" (the identity side's), or a full scope under the identity's subscription.
    scope: str = "subscription"


@dataclass
class Federation:
    name: str = ""  # empty: derived from the cluster, namespace and service account
    audience: str = DEFAULT_AUDIENCE


@dataclass
class KubernetesSide:
    namespace: str = "default"
    service_account: str = "workload-identity-sa"


@dataclass
class Workload:
    pod: str = "wi-probe"
    image: str = PROBE_IMAGE
    env: dict[str, str] = field(default_factory=dict)
    # For the probe: the ARM resource it reads (default: the first role's scope).
    probe_resource: str = ""


@dataclass
class Plan:
    cluster: ClusterSide = field(default_factory=ClusterSide)
    identity: IdentitySide = field(default_factory=IdentitySide)
    roles: list[RoleGrant] = field(default_factory=lambda: [RoleGrant()])
    federation: Federation = field(default_factory=Federation)
    kubernetes: KubernetesSide = field(default_factory=KubernetesSide)
    workload: Workload = field(default_factory=Workload)

    # -- derived ----------------------------------------------------------------------------------------------

    @property
    def subject(self) -> str:
        return f"system:serviceaccount:{self.kubernetes.namespace}:{self.kubernetes.service_account}"

    @property
    def federation_name(self) -> str:
        if self.federation.name:
            return self.federation.name
        raw = f"{self.cluster.name}-{self.kubernetes.namespace}-{self.kubernetes.service_account}"
        cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", raw).strip("-_") or "wi-wizard"
        return cleaned[:120] if len(cleaned) >= 3 else f"fic-{cleaned}"

    @property
    def uses_probe(self) -> bool:
        return self.workload.image.startswith("mcr.microsoft.com/azure-cli")

    # -- (de)serialisation ------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, source: str = "the plan", *, partial: bool = False) -> Plan:
        """Build and validate; raises PlanError listing every problem. `partial` checks only the shape (keys and
        types), for a plan still being filled in on the screens (a session saved halfway through)."""
        problems: list[Problem] = []
        if not isinstance(data, dict):
            raise PlanError(source, [Problem("(top level)", "expected a table of sections")])
        sections = {"cluster": ClusterSide, "identity": IdentitySide, "federation": Federation,
                    "kubernetes": KubernetesSide, "workload": Workload}
        _unknown(data, [*sections, "roles"], "", problems)
        built: dict[str, Any] = {}
        for name, kind in sections.items():
            built[name] = _section(data.get(name, {}), kind, name, problems)
        roles_raw = data.get("roles", [{}])
        if not isinstance(roles_raw, list) or not roles_raw:
            problems.append(Problem("roles", "expected one or more [[roles]] tables (role and scope)"))
            roles_raw = []
        built["roles"] = [_section(r, RoleGrant, f"roles[{i}]", problems) for i, r in enumerate(roles_raw)]
        plan = cls(**built)
        # A value of the wrong type was replaced by its default; saying that default "is empty" too would only
        # confuse: one problem per key, the first found.
        wrong = tuple(p.key for p in problems)
        if not partial:
            problems.extend(p for p in plan.problems() if not _under(p.key, wrong))
        if problems:
            raise PlanError(source, problems)
        return plan

    def problems(self) -> list[Problem]:
        """Every rule this plan breaks (empty when it is usable)."""
        found: list[Problem] = []

        def check(key: str, value: str, validator: names.Validator, hint: str = "") -> None:
            message = validator(value)
            if message:
                found.append(Problem(key, message + (f"; {hint}" if hint else ""), value))

        c, i, k, w = self.cluster, self.identity, self.kubernetes, self.workload
        check("cluster.tenant", c.tenant, names.tenant)
        check("cluster.subscription", c.subscription, names.subscription)
        check("cluster.resource_group", c.resource_group, names.resource_group)
        check("cluster.name", c.name, names.cluster)
        check("identity.tenant", i.tenant, names.tenant)
        check("identity.subscription", i.subscription, names.subscription)
        check("identity.resource_group", i.resource_group, names.resource_group)
        check("identity.location", i.location, names.location)
        check("identity.name", i.name, names.identity)
        for n, grant in enumerate(self.roles):
            check(f"roles[{n}].role", grant.role, names.role)
            check(f"roles[{n}].scope", grant.scope, names.scope)
        if self.federation.name:
            check("federation.name", self.federation.name, names.federated_credential)
        check("federation.audience", self.federation.audience, names.audience)
        check("kubernetes.namespace", k.namespace, names.namespace)
        check("kubernetes.service_account", k.service_account,
              lambda v: names.object_name(v, "a ServiceAccount name"))
        check("workload.pod", w.pod, lambda v: names.object_name(v, "a pod name"))
        check("workload.image", w.image, names.image)
        if w.probe_resource:
            check("workload.probe_resource", w.probe_resource, names.scope)
        for env_key, value in w.env.items():
            where = f"workload.env.{_key_text(env_key)}"  # the name is the user's: shortened, escaped
            check(where, env_key, names.env_name)
            check(where, value, names.env_value)
            if env_key in WEBHOOK_ENV:
                found.append(Problem(where,
                                     "is set by the workload identity webhook from the ServiceAccount; remove it"))
            if env_key == "AZURE_TENANT_ID":
                found.append(Problem(where,
                                     "is set by the wizard to the identity's tenant; remove it"))
            for placeholder in _PLACEHOLDER.findall(value):
                if placeholder not in PLACEHOLDERS:
                    shown = f"${{{placeholder}}}"
                    if len(shown) > 60 or not shown.isprintable():  # the user's text: never long or raw
                        shown = _QUOTE.repr(shown)
                    found.append(Problem(where,
                                         f"unknown placeholder {shown}; known: "
                                         + ", ".join(f"${{{p}}}" for p in PLACEHOLDERS)))
        return found


def fill_placeholders(value: str, values: dict[str, str]) -> str:
    """Replace `${identity.subscription_id}`-style placeholders with resolved values."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), value)


def load(path: Path) -> Plan:
    """Read a plan file. Every failure is a PlanError that says what is wrong; nothing raises anything else."""
    source = str(path)
    try:
        if path.is_dir():
            raise PlanError(source, [Problem("(file)", "is a directory; give the path of a .toml plan file")])
        with path.open("rb") as handle:
            raw = handle.read(MAX_PLAN_BYTES + 1)  # never more: a plan named /dev/zero must not fill the memory
    except FileNotFoundError:
        raise PlanError(source, [Problem("(file)", "does not exist; check the path")]) from None
    except PermissionError:
        raise PlanError(source, [Problem("(file)", "cannot be read (permission denied)")]) from None
    except OSError as exc:
        raise PlanError(source, [Problem("(file)", f"cannot be read: {exc.strerror}")]) from None
    if len(raw) > MAX_PLAN_BYTES:
        raise PlanError(source, [Problem("(file)", "is larger than 1 MB; a plan is a few dozen lines")])
    import tomllib  # here, not at the top: a plan file is read after the first frame, so its parser loads then

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PlanError(source, [Problem("(file)", "is not UTF-8 text")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(source, [Problem("(file)", f"is not valid TOML: {exc}")]) from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise PlanError(source, [Problem("(file)", "nests arrays or tables too deeply to be a plan")]) from None
    return Plan.from_dict(data, source)


def _key_text(key: Any) -> str:
    """A key as TOML writes it: bare when it can be, else quoted (so an empty or spaced key stays visible)."""
    text = str(key)
    if re.fullmatch(r"[A-Za-z0-9_-]{1,60}", text):
        return text
    quoted = json.dumps(text if len(text) <= 60 else text[:57] + "...", ensure_ascii=False)
    # json.dumps escapes C0 controls only: DEL, C1 controls and bidi overrides would still reach the terminal.
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in quoted)


def _under(key: str, prefixes: tuple[str, ...]) -> bool:
    """Whether `key` is one of `prefixes` or inside one (`cluster.name` is inside `cluster`)."""
    return any(key == p or key.startswith((f"{p}.", f"{p}[")) for p in prefixes)


def _unknown(table: dict[str, Any], allowed: list[str], prefix: str, problems: list[Problem]) -> None:
    for key in table:
        if key not in allowed:
            shown = _key_text(key)
            where = f"{prefix}.{shown}" if prefix else shown
            problems.append(Problem(where, f"unknown key; allowed here: {', '.join(allowed)}"))


def _section(raw: Any, kind: type[Any], prefix: str, problems: list[Problem]) -> Any:
    if not isinstance(raw, dict):
        problems.append(Problem(prefix, "expected a table"))
        return kind()
    allowed = {f.name: f for f in fields(kind)}
    _unknown(raw, list(allowed), prefix, problems)
    values: dict[str, Any] = {}
    defaults = kind()
    for name in allowed:
        if name not in raw:
            continue
        value, expected = raw[name], type(getattr(defaults, name))
        if expected is dict:
            if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                      for k, v in value.items()):
                problems.append(Problem(f"{prefix}.{name}", "expected a table of text values"))
                continue
        elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            wanted = "true or false" if expected is bool else "text"
            problems.append(Problem(f"{prefix}.{name}", f"expected {wanted}, got {_QUOTE.repr(value)}"))
            continue
        values[name] = value
    return kind(**values)
