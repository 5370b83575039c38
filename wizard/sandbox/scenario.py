"""Scenarios: the world a fresh sandbox starts with (`--scenario NAME|FILE`, TOML; default `default`).

A scenario is read once, when the state dir holds no world yet; `sandbox reset` forgets the world so a
different scenario can be seeded. The scenario's name and seed are kept in the store.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from wizard.sandbox.store import Store
from wizard.sandbox.world import World

BUILTIN = ("default",)

ALLOWED = {
    "": {"seed", "tenants"},
    "tenant": {"name", "display_name", "domain", "users", "service_principals", "subscriptions"},
    "user": {"username", "display_name", "roles"},
    "service_principal": {"display_name", "roles"},
    "subscription": {"display_name", "unregistered_providers", "resource_groups", "clusters", "quotas"},
    "resource_group": {"name", "location"},
    "cluster": {"name", "resource_group", "location", "oidc_issuer", "workload_identity"},
    "quota": {"location", "resource", "limit", "usage"},
}


class ScenarioError(Exception):
    pass


@dataclass(frozen=True)
class Spec:
    name: str
    seed: str
    data: dict[str, Any]


def _check(where: str, kind: str, table: Any) -> None:
    if not isinstance(table, dict):
        raise ScenarioError(f"scenario: {where} must be a table")
    unknown = set(table) - ALLOWED[kind]
    if unknown:
        raise ScenarioError(f"scenario: unknown key(s) {', '.join(sorted(unknown))} in {where or 'the top level'}; "
                            f"allowed: {', '.join(sorted(ALLOWED[kind]))}")


def _validate(data: dict[str, Any]) -> None:
    _check("", "", data)
    if not data.get("tenants"):
        raise ScenarioError("scenario: at least one [[tenants]] table is needed")
    for i, t in enumerate(data["tenants"]):
        _check(f"tenants[{i}]", "tenant", t)
        for key in ("name", "display_name", "domain"):
            if not isinstance(t.get(key), str) or not t[key]:
                raise ScenarioError(f"scenario: tenants[{i}].{key} must be a non-empty string")
        for kind, plural in (("user", "users"), ("service_principal", "service_principals"),
                             ("subscription", "subscriptions")):
            for j, item in enumerate(t.get(plural, [])):
                _check(f"tenants[{i}].{plural}[{j}]", kind, item)
        for j, s in enumerate(t.get("subscriptions", [])):
            for kind, plural in (("resource_group", "resource_groups"), ("cluster", "clusters"),
                                 ("quota", "quotas")):
                for k, item in enumerate(s.get(plural, [])):
                    _check(f"tenants[{i}].subscriptions[{j}].{plural}[{k}]", kind, item)


def load(ref: str | None, store: Store) -> Spec:
    """The scenario to seed with: the one named, or the one the store was seeded with, or the default."""
    stored = store.get("meta", "scenario")
    if ref is None and stored is not None:
        ref = stored["ref"]
    ref = ref or "default"
    if ref in BUILTIN:
        text = resources.files("wizard.sandbox.scenarios").joinpath(f"{ref}.toml").read_text()
        name = ref
    else:
        path = Path(ref).expanduser()
        if not path.is_file():
            raise ScenarioError(
                f"scenario {ref!r} is neither a built-in scenario ({', '.join(BUILTIN)}) nor a readable file")
        try:
            text = path.read_text()
        except OSError as exc:
            raise ScenarioError(f"scenario file {path}: {exc.strerror}") from None
        ref, name = str(path.absolute()), path.stem
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"scenario {name}: not valid TOML ({exc})") from None
    _validate(data)
    if stored is not None and stored["ref"] != ref:
        raise ScenarioError(
            f"this sandbox state was seeded with scenario {stored['ref']!r}; "
            f"run `wi-wizard sandbox reset` first to start over with {ref!r}")
    return Spec(ref, str(data.get("seed", name)), data)


def seed(world: World, spec: Spec) -> None:
    """Write the scenario's world into an empty store."""
    from wizard.sandbox.arm import seed as arm_seed

    ids = world.ids
    for t in spec.data["tenants"]:
        tid = ids.named("tenant", t["name"])
        world.store.put("tenants", tid, {
            "tenant_id": tid, "name": t["name"], "display_name": t["display_name"], "domain": t["domain"],
        })
        owners: list[tuple[str, str, list[str]]] = []
        for u in t.get("users", []):
            oid = ids.named("user", u["username"])
            world.store.put("users", oid, {"object_id": oid, "tenant_id": tid, "username": u["username"],
                                           "display_name": u["display_name"]})
            owners.append((oid, "User", u.get("roles", [])))
        for sp in t.get("service_principals", []):
            app_id = ids.named("app", t["name"], sp["display_name"])
            oid = ids.named("sp", t["name"], sp["display_name"])
            world.store.put("apps", app_id, {
                "app_id": app_id, "object_id": oid, "tenant_id": tid, "display_name": sp["display_name"],
                "secret": "sbx~" + ids.secret(30),
            })
            owners.append((oid, "ServicePrincipal", sp.get("roles", [])))
        for s in t.get("subscriptions", []):
            sid = ids.named("subscription", t["name"], s["display_name"])
            world.store.put("subscriptions", sid, {"subscription_id": sid, "tenant_id": tid,
                                                   "display_name": s["display_name"], "state": "Enabled"})
            arm_seed.seed_providers(world, sid, s.get("unregistered_providers", []))
            for oid, kind, roles in owners:
                for role in roles:
                    arm_seed.seed_role_assignment(world, f"/subscriptions/{sid}", oid, kind, role)
            for rg in s.get("resource_groups", []):
                arm_seed.seed_resource_group(world, sid, rg["name"], rg["location"])
            for c in s.get("clusters", []):
                arm_seed.seed_cluster(world, tid, sid, c["resource_group"], c["name"], c["location"],
                                      bool(c.get("oidc_issuer", False)), bool(c.get("workload_identity", False)))
            for q in s.get("quotas", []):
                arm_seed.seed_quota(world, sid, q["location"], q["resource"], int(q["limit"]), int(q["usage"]))
    world.store.put("meta", "scenario", {"ref": spec.name, "seed": spec.seed})
