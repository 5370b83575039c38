"""What every export format reads from a session: what it created (for "create" vs "use as it is"), the tenant
of each side, and a describe-only Context for the steps' own `describe()` commands."""

from __future__ import annotations

from wizard.session import Session
from wizard.steps.base import Context, LoginOptions
from wizard.steps.deploy import kube_ref
from wizard.target import Cloud


def created_ids(session: Session) -> set[str]:
    """Every resource ID (ARM IDs and kube refs) any step of the session recorded as its own."""
    return {ref for outcome in session.outcomes.values() for ref in outcome.created}


def session_created(session: Session, kind: str = "", name: str = "") -> bool:
    """Whether the session created the plan's namespace (no kind) or one object in it (kind = plural resource)."""
    cluster = session.outcomes.get("cluster")
    cluster_id = cluster.values.get("cluster_id", "") if cluster is not None else ""
    return kube_ref(cluster_id, session.plan.kubernetes.namespace, kind, name) in created_ids(session)


def tenants(session: Session) -> tuple[str, str]:
    """(cluster tenant ID, identity tenant ID) as the session signed in (the plan's references when unknown)."""
    login = session.outcomes["login"].values if "login" in session.outcomes else {}
    identity = session.outcomes["identity"].values if "identity" in session.outcomes else {}
    return (login.get("cluster_tenant_id") or session.plan.cluster.tenant,
            identity.get("tenant_id") or login.get("identity_tenant_id") or session.plan.identity.tenant)


def describe_context(session: Session) -> Context:
    """A Context that can only describe: no credential, no network; the login methods are the session's."""
    logins = session.logins
    options = LoginOptions(cluster=logins["cluster"].method if "cluster" in logins else "auto",
                           identity=logins["identity"].method if "identity" in logins else "auto")
    return Context(session.plan, session, Cloud(session.target.kind), logins=options)
