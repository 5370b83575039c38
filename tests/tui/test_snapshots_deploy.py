"""Snapshots of the deploy screen over a fixed session (identity, role, federation and trust done; fixed IDs):
the form, the YAML preview built by the deploy step's own `desired`, the pod's progress from posted engine events,
and a failure's diagnosis. No sandbox, no clock."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import TextArea

from tests.tui.form_screens import FormApp, session_at, settle
from wizard.diagnose import diagnose_text
from wizard.plan import PROBE_IMAGE
from wizard.session import Session
from wizard.steps.base import Event
from wizard.tui.messages import EngineEvent, StepFinished
from wizard.tui.screens.deploy import DeployScreen

SIZE = (100, 44)


def _probe_session() -> Session:
    session = session_at("deploy")
    session.plan.workload.image, session.plan.workload.env = PROBE_IMAGE, {}
    session.plan.workload.pod = "wi-probe"
    return session


async def _screen(pilot: Pilot[int]) -> DeployScreen:
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, DeployScreen)
    return screen


def test_deploy_screen_with_the_probe_previews_the_yaml(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The probe chosen: Namespace default, ServiceAccount wi-demo-account, Pod wi-probe; "The probe" radio on,
    no image or env fields; under "What will be applied" the highlighted YAML: a ServiceAccount annotated with
    client-id 3333… and tenant-id 4444…, then the Pod labelled azure.workload.identity/use: 'true' running
    mcr.microsoft.com/azure-cli:2.91.0 with the probe's command and env WI_PROBE_RESOURCE = /subscriptions/5555…
    and AZURE_TENANT_ID = 4444…. No subject warning (the federation step trusts this ServiceAccount)."""

    async def run_before(pilot: Pilot[int]) -> None:
        await _screen(pilot)
        await settle(pilot)

    assert snap_compare(FormApp(tmp_path, _probe_session()), terminal_size=SIZE, run_before=run_before)


def test_deploy_screen_refuses_an_env_var_the_webhook_sets(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The seed's own image (ttl.sh/wi-demo-app:1h) with its env lines, a line AZURE_CLIENT_ID=abc added, the
    ServiceAccount changed to other-sa, then Run: red under the env box "✗ workload.env.AZURE_CLIENT_ID: is set by
    the workload identity webhook from the ServiceAccount; remove it", a warning toast, the step not run; the
    yellow note at the top says the federated credential trusts system:serviceaccount:default:wi-demo-account and
    this form makes it …:other-sa; the YAML preview (valid values only) names other-sa and has no AZURE_CLIENT_ID."""

    async def run_before(pilot: Pilot[int]) -> None:
        screen = await _screen(pilot)
        screen.query_one("#service-account-input").value = "other-sa"  # type: ignore[attr-defined]
        area = screen.query_one("#env", TextArea)
        area.text = area.text + "\nAZURE_CLIENT_ID=abc"
        await settle(pilot)
        screen.action_run()
        await settle(pilot)
        assert pilot.app.ran == []  # type: ignore[attr-defined]

    assert snap_compare(FormApp(tmp_path, session_at("deploy")), terminal_size=SIZE, run_before=run_before)


def _progress(screen: DeployScreen) -> None:
    for message, kind in (("created namespace default", "progress"),
                          ("ServiceAccount default/wi-demo-account: created", "progress"),
                          ("created pod default/wi-probe (Pending)", "progress"),
                          ("Scheduled: Successfully assigned default/wi-probe to aks-nodepool1-0", "progress"),
                          ("pod default/wi-probe: Pending (ContainerCreating)", "progress"),
                          ("Pulling: Pulling image \"mcr.microsoft.com/azure-cli:2.91.0\"", "progress")):
        screen.post_message(EngineEvent(Event("deploy", message, kind)))


def test_deploy_screen_shows_the_pod_starting(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The step running (Run pressed, the button disabled): the status line above the description reads "Pod
    wi-probe: Pending (ContainerCreating) · Pulling: Pulling image "mcr.microsoft.com/azure-cli:2.91.0""; the event
    log at the bottom lists the six events in order (namespace, ServiceAccount, pod created, Scheduled, the pod's
    state, Pulling)."""

    async def run_before(pilot: Pilot[int]) -> None:
        screen = await _screen(pilot)
        screen.action_run()
        assert pilot.app.ran == ["deploy"]  # type: ignore[attr-defined]
        _progress(screen)
        await settle(pilot)

    assert snap_compare(FormApp(tmp_path, _probe_session()), terminal_size=SIZE, run_before=run_before)


def test_deploy_screen_after_the_webhook_did_not_inject(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The run ended in a failure: the status line still shows the pod's last state; below the buttons the red
    diagnosis "✗ … [EnvNotInjected]" with its Why / Fix lines, the red Details button next to "Run again"; the
    event log keeps the events of the run."""
    diagnosis = diagnose_text("AZURE_CLIENT_ID not injected")
    assert diagnosis is not None

    async def run_before(pilot: Pilot[int]) -> None:
        screen = await _screen(pilot)
        screen.action_run()
        _progress(screen)
        await pilot.pause()
        screen.post_message(StepFinished("deploy", diagnosis))
        await settle(pilot)

    assert snap_compare(FormApp(tmp_path, _probe_session()), terminal_size=SIZE, run_before=run_before)


def test_deploy_screen_after_the_pod_was_admitted(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The run succeeded: the status line reads "Pod wi-probe: Running · the webhook injected the identity"; the
    button says "Continue ▶" and has the focus; the form is editable again; the event log ends with the pod
    Running."""

    async def run_before(pilot: Pilot[int]) -> None:
        screen = await _screen(pilot)
        screen.action_run()
        _progress(screen)
        screen.post_message(EngineEvent(Event("deploy", "pod default/wi-probe: Running", "progress")))
        await pilot.pause()
        screen.post_message(StepFinished("deploy", None))
        await settle(pilot)
        assert not screen.query_one(".form").disabled

    assert snap_compare(FormApp(tmp_path, _probe_session()), terminal_size=SIZE, run_before=run_before)
