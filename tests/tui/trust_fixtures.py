"""Fixed sessions for the trust diagram and the federation/trust screens: the seed plan with fixed observations
(no sandbox, no clock), so what the screens draw depends on nothing else."""

from __future__ import annotations

from pathlib import Path

from wizard import plan as plan_mod
from wizard.session import Outcome, Session

SEED = Path(__file__).resolve().parents[2] / "examples" / "seed-cross-tenant.toml"
ISSUER = "https://127.0.0.1:8443/oic/eastus/11111111-1111-1111-1111-111111111111/22222222-2222-2222-2222-222222222222/"
CLIENT_ID = "33333333-3333-3333-3333-333333333333"
IDENTITY_TENANT = "44444444-4444-4444-4444-444444444444"
SCOPE = "/subscriptions/55555555-5555-5555-5555-555555555555"
FIXED_AT = "2026-01-01T12:00:00Z"


def seed_session(**links: str) -> Session:
    """The seed plan after the cluster, identity and role steps; with `links`, a trust outcome holding them."""
    session = Session("seed", plan_mod.load(SEED), created_at=FIXED_AT, updated_at=FIXED_AT)
    session.outcomes["cluster"] = Outcome("done", "found", {"issuer_url": ISSUER, "oidc_issuer": "true"}, at=FIXED_AT)
    session.outcomes["identity"] = Outcome("done", "created", {"client_id": CLIENT_ID, "tenant_id": IDENTITY_TENANT},
                                           at=FIXED_AT)
    session.outcomes["role"] = Outcome("done", "assigned", {"scopes": SCOPE}, at=FIXED_AT)
    if links:
        verdict = "failed" if "failed" in links.values() else "passed"
        values = {"verdict": verdict, **{f"link.{name}": state for name, state in links.items()}}
        session.outcomes["trust"] = Outcome("failed" if verdict == "failed" else "done", "", values, at=FIXED_AT)
    session.state = "federation"
    return session
