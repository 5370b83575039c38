"""Helpers for the deploy and logs step tests: a private sandbox per test module (its aks-wi-demo gets workload
identity turned on by the real cluster step, which must not happen in the shared session world), plans with unique
Kubernetes and identity names, and a tiny runner that applies real steps and records their outcomes in the session
the way the engine does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import fast_settings
from tests.engine.support import Recorder, make_context, seed_plan
from wizard.plan import Plan
from wizard.sandbox import Sandbox
from wizard.steps.base import Context, Result, Step
from wizard.steps.cluster import ClusterStep
from wizard.steps.federation import FederationStep
from wizard.steps.identity import IdentityStep
from wizard.steps.login import LoginStep
from wizard.steps.role import RoleStep

QUOTA_IMAGE = "ttl.sh/wi-demo-app:1h"
PROBE_IMAGE = "mcr.microsoft.com/azure-cli:2.91.0"
QUOTA_ENV = {"AZURE_SUBSCRIPTION_ID": "${identity.subscription_id}", "AZURE_REGION": "${identity.location}",
             "AZURE_RESOURCE_NAME": "cores", "WI_DEMO_INTERVAL_SECONDS": "1"}
SETUP = (LoginStep, ClusterStep, IdentityStep, RoleStep, FederationStep)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox private to one test module (tests inside it use their own names)."""
    box = Sandbox(tmp_path_factory.mktemp("workload-world"), settings=fast_settings())
    box.start()
    try:
        yield box
    finally:
        box.stop()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def workload_plan(image: str = QUOTA_IMAGE, *, same_tenant: bool = False, **sections: dict[str, Any]) -> Plan:
    """The seed's plan with a namespace, ServiceAccount, pod and identity of its own. Cross-tenant by default
    (cluster aks-wi-demo in contoso, identity in fabrikam); `same_tenant` puts both on contoso's aks-platform."""
    ns = unique("wl")
    base: dict[str, dict[str, Any]] = {
        "identity": {"name": unique("mi")},
        "federation": {"name": ""},
        "kubernetes": {"namespace": ns, "service_account": "app-sa"},
        "workload": {"pod": "app", "image": image, "env": dict(QUOTA_ENV) if image == QUOTA_IMAGE else {}},
    }
    if same_tenant:
        base["cluster"] = {"resource_group": "rg-platform", "name": "aks-platform"}
        base["identity"].update(tenant="contoso.onmicrosoft.com", subscription="contoso-platform")
    for name, values in sections.items():
        base[name] = {**base.get(name, {}), **values}
    return seed_plan(**base)


def run(ctx: Context, *steps: Step) -> list[Result]:
    """Apply each step and record its outcome as the engine does (values for later steps, created resources)."""
    results = []
    for step in steps:
        result = step.apply(ctx)
        outcome = ctx.session.outcome(step.name)
        outcome.status, outcome.summary, outcome.values = "done", result.summary, dict(result.values)
        outcome.created = [*outcome.created, *(c for c in result.created if c not in outcome.created)]
        results.append(result)
    return results


def prepared(box: Sandbox, plan: Plan, *, skip: tuple[str, ...] = ()) -> tuple[Context, Recorder]:
    """A context on `box` where login, cluster, identity, role and federation have run (less the `skip`ped)."""
    ctx, recorder = make_context(box, plan)
    run(ctx, *(step() for step in SETUP if step.name not in skip))
    return ctx, recorder


def request_mark(box: Sandbox) -> int:
    """How many requests the sandbox has served so far (for `kube_writes`)."""
    assert box.world is not None
    return len(box.world.requests)


def kube_writes(box: Sandbox, since: int) -> list[tuple[str, str]]:
    """(method, path) of the Kubernetes API writes the sandbox served after request number `since`."""
    assert box.world is not None
    return [(r.method, r.path) for r in list(box.world.requests)[since:]
            if r.service == "kube" and r.method in {"POST", "PUT", "PATCH", "DELETE"}]
