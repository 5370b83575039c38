"""Small helpers for engine tests: a `Context` on a sandbox (real endpoints, real SDKs) with a plan, and a
recorder of the events steps report. Shared by the engine tests; keep it small."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard import target
from wizard.plan import Plan
from wizard.sandbox import Sandbox
from wizard.session import Session, Target
from wizard.steps.base import Context, Event, LoginOptions, Result, Step


def sandbox_cloud(box: Sandbox) -> target.Cloud:
    return target.sandbox(Path(box.state_dir) / "endpoints.json")


def seed_plan(**sections: dict[str, Any]) -> Plan:
    """The seed's cross-tenant plan against the default scenario (examples/seed-cross-tenant.toml); each keyword
    replaces keys of one section, e.g. `seed_plan(identity={"name": "mi-x"})`."""
    data: dict[str, Any] = {
        "cluster": {"tenant": "contoso.onmicrosoft.com", "subscription": "contoso-platform",
                    "resource_group": "rg-wi-demo", "name": "aks-wi-demo"},
        "identity": {"tenant": "fabrikam.onmicrosoft.com", "subscription": "fabrikam-shared",
                     "resource_group": "rg-wi-demo", "location": "eastus", "name": "mi-wi-demo"},
        "roles": [{"role": "Reader", "scope": "subscription"}],
        "federation": {"name": "fc-wi-demo"},
        "kubernetes": {"namespace": "default", "service_account": "wi-demo-account"},
        "workload": {"pod": "wi-demo-app", "image": "ttl.sh/wi-demo-app:1h"},
    }
    for name, values in sections.items():
        if name == "roles":
            data["roles"] = values
        else:
            data[name] = {**data[name], **values}
    return Plan.from_dict(data)


@dataclass
class Recorder:
    """Collects the events a step reports (thread-safe: steps may report from workers)."""

    events: list[Event] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: Event) -> None:
        with self.lock:
            self.events.append(event)

    def kinds(self, kind: str) -> list[Event]:
        with self.lock:
            return [e for e in self.events if e.kind == kind]


def make_context(box: Sandbox, plan: Plan | None = None, *, session: str = "test", logins: LoginOptions | None = None,
                 **kwargs: Any) -> tuple[Context, Recorder]:
    """A Context against `box` with a fresh session (and a Recorder of its events)."""
    cloud = sandbox_cloud(box)
    plan = plan or seed_plan()
    recorder = Recorder()
    ctx = Context(plan=plan, session=Session(session, plan, Target("sandbox", cloud.endpoints_path)), cloud=cloud,
                  report=recorder, logins=logins or LoginOptions(), **kwargs)
    return ctx, recorder


def run(ctx: Context, step: Step) -> Result:
    """Apply a step and record its outcome in the session, as the engine does after each step."""
    result = step.apply(ctx)
    outcome = ctx.session.outcome(step.name)
    outcome.status, outcome.summary = "done", result.summary
    outcome.values, outcome.created = dict(result.values), list(result.created)
    return result


def signed_in(box: Sandbox, plan: Plan | None = None, **kwargs: Any) -> tuple[Context, Recorder]:
    """A Context whose login step has run (the sandbox's service principals on both sides)."""
    from wizard.steps.login import LoginStep

    ctx, recorder = make_context(box, plan, **kwargs)
    run(ctx, LoginStep())
    return ctx, recorder
