"""A fixed proven session for the summary screen and its modals: the seed plan with fixed observations and the
resources a real run creates (no sandbox, no clock)."""

from __future__ import annotations

from tests.tui.trust_fixtures import FIXED_AT, seed_session
from wizard.session import Outcome, Session
from wizard.teardown import Item

IDENTITY_SUB = "55555555-5555-5555-5555-555555555555"
CLUSTER_ID = ("/subscriptions/66666666-6666-6666-6666-666666666666/resourceGroups/rg-wi-demo/providers/"
              "Microsoft.ContainerService/managedClusters/aks-wi-demo")
GROUP = f"/subscriptions/{IDENTITY_SUB}/resourceGroups/rg-wi-demo"
IDENTITY = f"{GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi-wi-demo"
FIC = f"{IDENTITY}/federatedIdentityCredentials/fc-wi-demo"
ASSIGNMENT = (f"/subscriptions/{IDENTITY_SUB}/providers/Microsoft.Authorization/roleAssignments/"
              "77777777-7777-7777-7777-777777777777")
POD = f"{CLUSTER_ID}/k8s/api/v1/namespaces/default/pods/wi-demo-app"
ACCOUNT = f"{CLUSTER_ID}/k8s/api/v1/namespaces/default/serviceaccounts/wi-demo-account"
EVIDENCE = "quota cores in eastus: 12 of 350 used (read as identity 33333333-… in tenant fabrikam)"


def proven_session() -> Session:
    """The seed session after a proven run: what each step said, what it created, and the logs' evidence."""
    session = seed_session(issuer="passed", signature="passed", match="passed", tenant="passed", role="passed")
    session.outcomes["login"] = Outcome("done", "Signed in to both tenants with the sandbox's service principals",
                                        at=FIXED_AT)
    session.outcomes["cluster"].values.update(subscription_id="66666666-6666-6666-6666-666666666666",
                                              cluster_id=CLUSTER_ID)
    session.outcomes["identity"] = Outcome("done", "Created identity mi-wi-demo in rg-wi-demo (eastus)",
                                           {"subscription_id": IDENTITY_SUB, "tenant_id": "fabrikam.onmicrosoft.com",
                                            "client_id": "33333333-3333-3333-3333-333333333333"},
                                           created=[GROUP, IDENTITY], at=FIXED_AT)
    session.outcomes["role"].summary = f"Assigned Reader on /subscriptions/{IDENTITY_SUB}"
    session.outcomes["role"].created = [ASSIGNMENT]
    session.outcomes["federation"] = Outcome("done", "Wrote federated credential fc-wi-demo", created=[FIC],
                                             at=FIXED_AT)
    session.outcomes["trust"].summary = "Trust proven"
    session.outcomes["deploy"] = Outcome("done", "Pod default/wi-demo-app is running", created=[ACCOUNT, POD],
                                         at=FIXED_AT)
    session.outcomes["logs"] = Outcome("done", "The workload read fabrikam's quota",
                                       {"verdict": "proven", "evidence": EVIDENCE}, at=FIXED_AT)
    session.state = "done"
    return session


def teardown_items() -> list[Item]:
    """A preview as wizard.teardown.preview gives it for that session, with one pre-existing account."""
    return [
        Item("pod", POD, "delete", "created by this session (annotation wi-wizard/session: seed)", ours=True),
        Item("service-account", ACCOUNT, "remove-annotations", "existed before this session; only the "
             "annotations the wizard added go", annotations=("azure.workload.identity/client-id",)),
        Item("federated-credential", FIC, "delete", "written by this session (issuer and subject match)", ours=True),
        Item("role-assignment", ASSIGNMENT, "delete", "description: Created by wi-wizard session seed", ours=True),
        Item("identity", IDENTITY, "delete", "tagged wi-wizard-session: seed", ours=True),
        Item("resource-group", GROUP, "keep", "holds other resources (storage account stdemo); kept"),
        Item("cluster", CLUSTER_ID, "keep", "existed before this session; never touched"),
    ]
