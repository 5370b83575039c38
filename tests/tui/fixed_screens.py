"""A WizardApp that opens one step screen built from fixed data (the seed plan, a hand-made session, a fixed
description): no sandbox, no engine, no clock — for modal tests and deterministic snapshots."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from textual import events

from tests.tui.seed_app import SEED
from wizard import plan, target
from wizard.diagnose import Diagnosis, diagnose
from wizard.session import Outcome, Session, SessionStore
from wizard.steps.base import Description
from wizard.tui.app import WizardApp
from wizard.tui.screens.step import StepScreen

DEVICE_URI = "https://microsoft.com/devicelogin"
DEVICE_CODE = "F7KQ2ZR9M"
EXPIRES_ON = datetime(2026, 1, 15, 9, 45, 0, tzinfo=UTC)
TRUST_ERROR = ("AADSTS700211: No matching federated identity record found for presented assertion issuer "
               "'https://oidc.prod-aks.azure.com/00000000-0000-0000-0000-000000000001/11111111-2222-3333-4444-"
               "555555555555'. Please check your federated identity credential Subject, Audience and Issuer "
               "against the presented assertion.")


def trust_diagnosis() -> Diagnosis:
    """The issuer-mismatch diagnosis, from the real rule table and a fixed error text."""
    return diagnose(TRUST_ERROR, step="trust")


class FixedStepApp(WizardApp):
    """Opens `step`'s screen over a fixed session; `failed` records a failed outcome with `diagnosis`.
    `revisited` collects the steps the screens asked to revisit (there is no engine to move)."""

    def __init__(self, tmp: Path, step: str, *, done: tuple[str, ...] = (),
                 diagnosis: Diagnosis | None = None) -> None:
        super().__init__(store=SessionStore(tmp / "sessions"), cloud=target.real, target_label="SANDBOX")
        self.session = Session("fixed", plan.load(SEED), state=step, created_at="2026-01-15T09:30:00Z",
                               updated_at="2026-01-15T09:30:00Z")
        for name in done:
            self.session.outcomes[name] = Outcome(status="done")
        if diagnosis is not None:
            self.session.outcomes[step] = Outcome(status="failed", diagnosis=diagnosis.to_dict())
        self.step = step
        self.revisited: list[str] = []

    def on_mount(self, event: events.Mount) -> None:
        event.prevent_default()  # the step screen instead of WizardApp's welcome screen
        description = Description(f"The {self.step} step, with fixed text for a test.",
                                  [f"az example {self.step} --fixed"])
        self.push_screen(StepScreen(self.session, self.step, description, self.target_label,
                                    "https://127.0.0.1:8443"))

    def revisit(self, step: str) -> None:
        self.revisited.append(step)
