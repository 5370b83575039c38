"""Helpers for the command-line tests of `wi-wizard apply`/`sessions`/`resume`: run the real CLI in a subprocess,
write plan files, and take a census of what a sandbox holds (its server-side state, read for assertions only).

The census is what "zero new resources" and "exactly one of each" are measured with: ARM resources by type, and
Kubernetes objects by kind (events excluded: the kubelet records them as pods run, they are not the wizard's).
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import fast_settings
from wizard.sandbox import Sandbox
from wizard.sandbox.world import RequestRecord, World

ROOT = Path(__file__).resolve().parents[2]
SEED_PLAN = ROOT / "examples" / "seed-cross-tenant.toml"
SAME_TENANT_PLAN = ROOT / "examples" / "same-tenant.toml"
ENGINE_WORLD = str(Path(__file__).resolve().parent / "data" / "engine-world.toml")
WRITE_METHODS = frozenset({"PUT", "POST", "PATCH", "DELETE"})


def wizard(*args: str | Path, timeout: float = 240, env: dict[str, str] | None = None) \
        -> subprocess.CompletedProcess[str]:
    """`python -m wizard ARGS` as a user runs it (WI_WIZARD_HOME is the test's, from the autouse fixture); `env`
    adds variables (e.g. WI_WIZARD_CRASH_AT), which never leak from the test process itself."""
    environ = os.environ.copy()
    environ.pop("WI_WIZARD_CRASH_AT", None)
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "wizard", *map(str, args)], env=environ, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


def apply(box: Sandbox, plan: Path, *args: str, env: dict[str, str] | None = None) \
        -> subprocess.CompletedProcess[str]:
    return wizard("apply", plan, "--sandbox-endpoints", endpoints(box), *args, env=env)


@contextmanager
def applied_world(factory: pytest.TempPathFactory, name: str, plan: Path | Callable[[Sandbox, Path], Path],
                  session: str) -> Iterator[tuple[Sandbox, Path]]:
    """A private sandbox on which `wi-wizard apply` of `plan` (or of the plan `plan(box, home)` prepares, after
    setting the world up) succeeded as `session`, and the WI_WIZARD_HOME holding that session: for module fixtures
    whose tests only read the finished world."""
    box = Sandbox(factory.mktemp(f"{name}-world"), settings=fast_settings())
    box.start()
    try:
        home = factory.mktemp(f"{name}-home")
        plan_file = plan if isinstance(plan, Path) else plan(box, home)
        run = apply(box, plan_file, "--session", session,
                    env={"WI_WIZARD_HOME": str(home), "KUBECACHEDIR": str(home / "kubecache")})
        assert run.returncode == 0, run.stdout + run.stderr
        yield box, home
    finally:
        box.stop()


def kubectl(box: Sandbox, *args: str, stdin: str | None = None, context: str = "aks-wi-demo") -> str:
    """kubectl on one of the sandbox's clusters (its stdout); the discovery cache goes to the sandbox's state dir
    (module fixtures run before the per-test isolation of KUBECACHEDIR)."""
    result = subprocess.run([os.environ.get("KUBECTL", "kubectl"), "--kubeconfig", box.kubeconfig, "--context",
                             context, *args], input=stdin, capture_output=True, text=True, timeout=60, check=False,
                            env={**os.environ, "KUBECACHEDIR": str(Path(box.state_dir) / "kubecache")})
    assert result.returncode == 0, result.stderr
    return result.stdout


def endpoints(box: Sandbox) -> Path:
    return Path(box.state_dir) / "endpoints.json"


def no_traceback(run: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout, run.stderr


def seed_data() -> dict[str, Any]:
    return tomllib.loads(SEED_PLAN.read_text())


def write_plan(path: Path, data: dict[str, Any]) -> Path:
    """Write a plan dict as TOML (sections of text/booleans, [[roles]], one level of sub-tables)."""

    def value(v: Any) -> str:
        return ("true" if v else "false") if isinstance(v, bool) else json.dumps(v)  # JSON strings are TOML strings

    def table(header: str, body: dict[str, Any]) -> list[str]:
        lines = [header, *(f"{k} = {value(v)}" for k, v in body.items() if not isinstance(v, dict))]
        for key, sub in body.items():
            if isinstance(sub, dict):
                lines += table(f"[{header.strip('[]')}.{key}]", sub)
        return lines

    lines: list[str] = []
    for section, body in data.items():
        if isinstance(body, list):
            for item in body:
                lines += table(f"[[{section}]]", item)
        else:
            lines += table(f"[{section}]", body)
    path.write_text("\n".join(lines) + "\n")
    return path


def seed_variant(path: Path, **sections: dict[str, Any]) -> Path:
    """The seed plan with some keys of some sections replaced, e.g. `seed_variant(p, cluster={"name": "x"})`."""
    data = seed_data()
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return write_plan(path, data)


# -- what the sandbox holds ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Census:
    arm: collections.Counter[str]  # ARM resources by type
    kube: collections.Counter[str]  # Kubernetes objects by kind (plural resource), every cluster, events excluded

    def __sub__(self, other: Census) -> dict[str, int]:
        """What was added (or removed, negative) since `other`, by type/kind; unchanged ones are left out."""
        found: dict[str, int] = {}
        for mine, theirs in ((self.arm, other.arm), (self.kube, other.kube)):
            for key in set(mine) | set(theirs):
                if mine[key] != theirs[key]:
                    found[key] = mine[key] - theirs[key]
        return found


def world(box: Sandbox) -> World:
    """The started sandbox's world (its server-side state)."""
    assert box.world is not None, "the sandbox is not started"
    return box.world


def now(box: Sandbox) -> float:
    """A mark on the sandbox's clock: `requests_since(box, mark)` are the requests made after it."""
    return world(box).clock()


def census(box: Sandbox) -> Census:
    store = world(box).store
    arm = collections.Counter(str(doc.get("type", "?")) for _, doc in store.items("arm"))
    kube: collections.Counter[str] = collections.Counter()
    for cluster_key in store.keys("clusters"):
        for key in store.keys(f"k8s:{cluster_key}"):
            kind = key.split("/", 1)[0]
            if kind != "events":
                kube[kind] += 1
    return Census(arm, kube)


def arm_resources(box: Sandbox, type_: str) -> list[dict[str, Any]]:
    return [doc for _, doc in world(box).store.items("arm") if str(doc.get("type", "")).lower() == type_.lower()]


def kube_keys(box: Sandbox, kind: str) -> list[str]:
    """`namespace/name` of every object of a kind, across clusters."""
    store = world(box).store
    return [key.split("/", 1)[1] for cluster in store.keys("clusters")
            for key in store.keys(f"k8s:{cluster}") if key.split("/", 1)[0] == kind]


def requests_since(box: Sandbox, mark: float) -> list[RequestRecord]:
    return [r for r in list(world(box).requests) if r.at >= mark]


def writes(records: list[RequestRecord]) -> list[str]:
    """ARM and Kubernetes calls that change the world. Two POSTs only read, and are not counted: ARM `list*`
    actions (listClusterUserCredential returns the kubeconfig) and the Kubernetes TokenRequest (mints a token for
    the trust check, stores nothing). Entra token requests are POSTs too, but sign-ins, not writes."""
    found = []
    for r in records:
        if r.service not in {"arm", "kube"} or r.method not in WRITE_METHODS:
            continue
        last = r.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        if r.method == "POST" and ((r.service == "arm" and last.lower().startswith("list")) or
                                   (r.service == "kube" and last == "token")):
            continue
        found.append(f"{r.service} {r.method} {r.path}")
    return found
