"""Fixed data for the sign-in and cluster screens' snapshots: the seed plan's tenants, subscriptions and two
clusters as the sandbox would list them (fixed IDs), and an app that opens one of those screens with lookups
not run (the test feeds their results through the screen's `show_…` methods)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import events

from tests.tui.fixed_screens import FixedStepApp
from wizard import target
from wizard.azure.arm import Cluster, Subscription
from wizard.diagnose import Diagnosis
from wizard.discover import ClusterChoices
from wizard.flow import load_step
from wizard.session import Login, Outcome
from wizard.steps.base import Context, Description, LoginOptions
from wizard.tui.screens.step import StepScreen

TENANT_A = "a28bdc64-6578-4235-9d03-5754ade8d8b7"
TENANT_B = "b61ff71d-b1d1-4b23-aa1e-52a18e70d50e"
SUB_A = Subscription("cfa8b852-545a-4f8f-8b1b-e3fad0a39661", "contoso-platform", TENANT_A, "Enabled")
SUB_A2 = Subscription("0d6b7e3a-1c2f-4a5b-8e9d-2f3a4b5c6d7e", "contoso-sandbox", TENANT_A, "Enabled")
SUB_B = Subscription("5c0e9a41-7f3d-4b8e-a1c2-9d8e7f6a5b4c", "fabrikam-shared", TENANT_B, "Enabled")
APP_A = "06d229b4-0f2b-40b8-b933-5735fb8bb125"
APP_B = "b5512cf8-6207-49be-a5a0-e0a0907a2d7b"
ISSUER = f"https://127.0.0.1:8443/oic/eastus/{TENANT_A}/6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0/"


def _cluster(name: str, rg: str, location: str, on: bool) -> Cluster:
    return Cluster(
        id=f"/subscriptions/{SUB_A.id}/resourcegroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}",
        name=name, subscription_id=SUB_A.id, resource_group=rg, location=location, kubernetes_version="1.30.6",
        provisioning_state="Succeeded", oidc_issuer=on, workload_identity=on,
        issuer_url=f"https://127.0.0.1:8443/oic/{location}/{TENANT_A}/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/"
        if on else None, aad=False, fqdn=f"{name}-dns-3f2a1b.hcp.{location}.azmk8s.io")


CLUSTERS = ClusterChoices([SUB_A], [SUB_A.id], [_cluster("aks-platform", "rg-platform", "westeurope", True),
                                                 _cluster("aks-wi-demo", "rg-wi-demo", "eastus", False)])
class FixedFormApp(FixedStepApp):
    """Opens `screen`'s class for `step` over the fixed session. There is no engine: the description is the real
    step's for the plan as the form leaves it (describing reads only the plan, the session and the login options,
    which the screen sets here), lookups are not run (the test feeds the screen through its `show_…` methods),
    and Run records the step instead of running it."""

    def __init__(self, tmp: Path, step: str, screen: type[StepScreen], **kwargs: Any) -> None:
        super().__init__(tmp, step, **kwargs)
        self.screen_class = screen
        self.logins = LoginOptions("sandbox", "sandbox")
        self.ran: list[str] = []
        self.animation_level = "none"  # the indeterminate progress bar drawn still

    def on_mount(self, event: events.Mount) -> None:
        event.prevent_default()
        self.push_screen(self.screen_class(self.session, self.step, self.describe(self.step), self.target_label,
                                           "https://127.0.0.1:8443"))

    def describe(self, step: str) -> Description:
        return load_step(step).describe(Context(self.session.plan, self.session, target.real(), logins=self.logins))

    def set_login_method(self, side: str, method: str) -> None:
        setattr(self.logins, side, method)

    def run_step(self, name: str) -> None:  # type: ignore[override]
        self.ran.append(name)


def signed_in(app: FixedStepApp) -> None:
    """The session as the login step leaves it: both sides signed in as the sandbox's service principals."""
    app.session.logins = {"cluster": Login("sandbox", TENANT_A, APP_A), "identity": Login("sandbox", TENANT_B, APP_B)}
    app.session.outcomes["login"] = Outcome(status="done", summary=f"Signed in as {APP_A} and {APP_B}", values={
        "cluster_tenant_id": TENANT_A, "identity_tenant_id": TENANT_B, "cluster_account": APP_A,
        "identity_account": APP_B, "cluster_method": "sandbox", "identity_method": "sandbox", "same_tenant": "false"})


def cluster_failure() -> Diagnosis:
    return Diagnosis("WorkloadIdentityOff", "Workload identity is off on the cluster",
                     "On cluster aks-wi-demo, the OIDC issuer is off and workload identity is off, and the plan does "
                     "not allow turning them on.",
                     "Set cluster.enable_workload_identity = true, or run `az aks update --subscription "
                     f"{SUB_A.id} -g rg-wi-demo -n aks-wi-demo --enable-oidc-issuer --enable-workload-identity`.",
                     "cluster")
