"""Opening the screens: the cloud a session runs against is resolved after the first frame (`--sandbox` may
start the sandbox), and what resolves it is imported then too, so only what the welcome screen needs is on the
first frame's path."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from wizard.session import SessionStore
from wizard.tui.app import WizardApp

if TYPE_CHECKING:
    from wizard.target import Cloud

SEED_PLAN = Path("examples/seed-cross-tenant.toml")


def run(*, sandbox: bool, resume: str | None = None) -> int:
    """The wizard's screens: on the sandbox, on real Azure, or reopening the saved session `resume`."""
    store = SessionStore()
    if resume is not None:
        def cloud() -> Cloud:
            from wizard import headless

            return headless.cloud_of(store.load(resume))

        label = "SANDBOX" if _session_target(store, resume) == "sandbox" else "REAL AZURE"
    elif sandbox:
        def cloud() -> Cloud:
            from wizard import target
            from wizard.sandbox.launcher import ensure_running

            return target.sandbox(ensure_running())

        label = "SANDBOX"
    else:
        def cloud() -> Cloud:
            from wizard import target

            return target.real()

        label = "REAL AZURE"
    app = WizardApp(store=store, cloud=cloud, target_label=label,
                    default_plan=str(SEED_PLAN) if sandbox and SEED_PLAN.is_file() else "", resume=resume)
    return app.run() or 0


def _session_target(store: SessionStore, name: str) -> str:
    for summary in store.list():
        if summary.name == name:
            return str(summary.target)
    return ""
