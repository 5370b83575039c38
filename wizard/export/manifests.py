"""The Kubernetes objects of a session exactly as the wizard applied them: the namespace (only when the session
created it), the ServiceAccount and the pod, as multi-document YAML.

The pod and the ServiceAccount's workload identity annotations come from `wizard.steps.deploy.desired`, the very
function the deploy step applies, so the export cannot drift from what the wizard does. Ownership marks
(`app.kubernetes.io/managed-by`, `wi-wizard/session`) are written only on what the session created, as the
wizard does: a ServiceAccount that existed before only ever got the workload identity annotations.
"""

from __future__ import annotations

from typing import Any

from wizard.export.facts import session_created
from wizard.kube.client import MANAGED_BY_LABEL, MANAGED_BY_VALUE, SESSION_ANNOTATION
from wizard.session import Session
from wizard.steps.deploy import desired, to_yaml

Obj = dict[str, Any]


def documents(session: Session) -> list[Obj]:
    """[Namespace (when the session created it), ServiceAccount, Pod] as the wizard applied them."""
    k = session.plan.kubernetes
    want = desired(session.plan, session)
    marks_labels = {MANAGED_BY_LABEL: MANAGED_BY_VALUE}
    marks_annotations = {SESSION_ANNOTATION: session.name}
    found: list[Obj] = []
    if session_created(session):
        found.append({"apiVersion": "v1", "kind": "Namespace",
                      "metadata": {"name": k.namespace, "labels": marks_labels, "annotations": marks_annotations}})
    account_meta: Obj = {"name": k.service_account, "namespace": k.namespace}
    if session_created(session, "serviceaccounts", k.service_account):
        account_meta["labels"] = marks_labels
        account_meta["annotations"] = {**marks_annotations, **want.annotations}
    else:
        account_meta["annotations"] = dict(want.annotations)
    found.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": account_meta})
    found.append(want.manifest)
    return found


def dump(objects: list[Obj]) -> str:
    """Multi-document YAML (`---` between documents), keys in the order written, as the deploy step shows it."""
    return "---\n".join(to_yaml(o) for o in objects)


def render(session: Session) -> str:
    k = session.plan.kubernetes
    header = (f"# Kubernetes objects of wi-wizard session {session.name} ({session.target.label}), as applied to "
              f"cluster {session.plan.cluster.name}.\n"
              f"# Apply: kubectl apply -f FILE (a pod cannot be changed in place: delete pod {k.namespace}/"
              f"{session.plan.workload.pod} first when it exists).\n")
    return header + dump(documents(session))
