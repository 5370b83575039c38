"""The deploy step: where the workload runs (namespace, ServiceAccount, pod), what it runs (the probe, or your image
with its environment), the YAML of exactly what will be applied, then the pod's progress as it starts.

- The YAML preview is built by `wizard.steps.deploy.desired`, the function the step applies (and the manifests
  export writes), from the plan as the form leaves it — so what is previewed is what is created.
- Env lines are checked with the plan's own rules (`Plan.problems`), so AZURE_CLIENT_ID, AZURE_TENANT_ID and the
  other values the webhook or the wizard set are refused here with the same message a plan file gets.
- Namespace and ServiceAccount make the federated credential's subject: when they differ from the subject the
  federation step wrote, a note says so (the trust check and the deploy step then report the mismatch).
- While the step runs, one status line shows the pod's state and its latest Kubernetes event; the event log
  below keeps them all.
"""

from __future__ import annotations

import copy
from typing import Any

from rich.syntax import Syntax
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, RadioButton, RadioSet, Static, TextArea

from wizard import names
from wizard.plan import PROBE_IMAGE, Plan
from wizard.session import Session
from wizard.steps.base import StepFailed
from wizard.tui.messages import EngineEvent, StepFinished
from wizard.tui.screens.form import FormStepScreen
from wizard.tui.widgets.field import Field
from wizard.workloads import kind_of


def parse_env(text: str) -> tuple[dict[str, str], list[str]]:
    """KEY=VALUE lines (blank lines and # comments skipped) → the variables, and what is wrong with the lines
    themselves (the values are checked by the plan's rules)."""
    env: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep:
            problems.append(f"line {number}: expected KEY=VALUE, got {line.strip()[:40]!r}")
        elif key in env:
            problems.append(f"line {number}: {key} is set twice")
        else:
            env[key] = value
    return env, problems


def env_problems(plan: Plan, env: dict[str, str]) -> list[str]:
    """The plan's rules for workload env (names, values, the variables the webhook and the wizard set, unknown
    placeholders), for `env` in place of the plan's."""
    trial = copy.deepcopy(plan)
    trial.workload.env = env
    return [str(p) for p in trial.problems() if p.key.startswith("workload.env.")]


def env_text(env: dict[str, str]) -> str:
    return "\n".join(f"{key}={value}" for key, value in env.items())


def preview_yaml(session: Session) -> str:
    """The ServiceAccount (the annotations the step writes) and the pod, as YAML, from the step's own function."""
    from wizard.steps.deploy import desired, to_yaml

    try:
        want = desired(session.plan, session, strict=False)
    except StepFailed as exc:
        return f"(no preview: {exc.diagnosis.cause})"
    account = {"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": want.service_account, "namespace": want.namespace,
                            "annotations": dict(want.annotations)}}
    return to_yaml(account) + "---\n" + to_yaml(want.manifest)


def subject_note(session: Session) -> str:
    """A note when the ServiceAccount differs from the one the federated credential trusts ("" otherwise)."""
    outcome = session.outcomes.get("federation")
    trusted = outcome.values.get("subject", "") if outcome is not None else ""
    if not trusted or trusted == session.plan.subject:
        return ""
    return (f"⚠ The federated credential trusts {trusted}; this form makes it {session.plan.subject}, so the "
            "federation step has to run again (the trust check will say so).")


class DeployScreen(FormStepScreen):
    # On a tall terminal the form (and its YAML preview) gets most of the height; on a short one, half.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    DEFAULT_CSS = """
    DeployScreen.-tall .form { max-height: 65%; }
    DeployScreen #image-choice { margin-bottom: 1; }
    DeployScreen #env-label { color: $text-muted; }
    DeployScreen #env { height: 5; }
    DeployScreen #preview-title { text-style: bold; margin-top: 1; }
    DeployScreen #yaml-preview { color: $text-muted; background: $boost; padding: 0 1; height: auto; }
    DeployScreen #pod-status { height: auto; color: $accent; }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase = ""
        self._last_event = ""
        self.preview = ""  # the YAML shown under "What will be applied"

    def compose_form(self) -> ComposeResult:
        k, w = self.session.plan.kubernetes, self.session.plan.workload
        custom = kind_of(w.image) != "probe"
        with VerticalScroll(classes="form"):
            yield Static("", id="subject-note", classes="form-warning", markup=False)
            yield Field("Namespace", k.namespace, names.namespace, id="namespace")
            yield Field("ServiceAccount", k.service_account,
                        lambda v: names.object_name(v, "a ServiceAccount name"), id="service-account")
            yield Field("Pod", w.pod, lambda v: names.object_name(v, "a pod name"), id="pod")
            with RadioSet(id="image-choice"):
                yield RadioButton("The probe (reads the role's scope, logs the proof)", value=not custom,
                                  id="image-probe")
                yield RadioButton("Your image", value=custom, id="image-custom")
            yield Field("Image", w.image if custom else "", names.image, id="image",
                        placeholder="registry.example.com/team/app:1.2")
            yield Label("Environment (KEY=VALUE, one per line)", id="env-label")
            yield TextArea(env_text(w.env), id="env", show_cursor=True)
            yield Static("", id="env-problems", classes="form-problem", markup=False)
            yield Static("What will be applied", id="preview-title")
            yield Static("", id="yaml-preview", markup=False)
        yield Static("", id="pod-status", markup=False)

    def on_mount(self) -> None:
        self._show_custom(self._custom())
        self.query_one("#env", TextArea).compact = True
        self._show_notes()
        self.query_one("#pod-status", Static).display = False

    # -- the form -----------------------------------------------------------------------------------------------

    def _custom(self) -> bool:
        return self.query_one("#image-custom", RadioButton).value

    def _show_custom(self, custom: bool) -> None:
        for selector in ("#image", "#env-label", "#env"):
            self.query_one(selector).display = custom

    def _env(self) -> tuple[dict[str, str], list[str]]:
        env, problems = parse_env(self.query_one("#env", TextArea).text)
        return env, problems + env_problems(self.session.plan, env)

    def extra_problems(self) -> list[str]:
        if not self._custom():
            return []
        problems = self._env()[1]
        self.query_one("#env-problems", Static).update("\n".join(f"✗ {p}" for p in problems))
        return problems

    def apply_to_plan(self) -> None:
        k, w = self.session.plan.kubernetes, self.session.plan.workload
        values = {f.id: f for f in self.fields()}
        if values["namespace"].problem is None:
            k.namespace = values["namespace"].value
        if values["service-account"].problem is None:
            k.service_account = values["service-account"].value
        if values["pod"].problem is None:
            w.pod = values["pod"].value
        if not self._custom():
            if kind_of(w.image) != "probe":  # a plan's own probe tag stays
                w.image = PROBE_IMAGE
            w.env = {}
            return
        if values["image"].problem is None:
            w.image = values["image"].value
        env, problems = self._env()
        if not problems:
            w.env = env

    def form_changed(self) -> None:
        self._show_notes()

    def _show_notes(self) -> None:
        problems = self._env()[1] if self._custom() else []
        self.query_one("#env-problems", Static).update("\n".join(f"✗ {p}" for p in problems))
        self.query_one("#subject-note", Static).update(subject_note(self.session))
        # A Syntax renderable: highlighted, and its indentation kept exactly (it is YAML).
        self.preview = preview_yaml(self.session)
        self.query_one("#yaml-preview", Static).update(
            Syntax(self.preview, "yaml", theme="ansi_dark", background_color="default"))
        self.tidy()

    @on(RadioSet.Changed, "#image-choice")
    def _image_choice(self) -> None:
        custom = self._custom()
        self._show_custom(custom)
        if custom:
            image = self.query_one("#image", Field)
            if not image.value:
                image.input.value = ""
            image.input.focus()
        self.schedule_refresh()

    @on(TextArea.Changed, "#env")
    def _env_changed(self) -> None:
        self.schedule_refresh()

    # -- the pod's progress -------------------------------------------------------------------------------------

    def action_run(self) -> None:
        if not self.finished:
            self._phase = self._last_event = ""
        super().action_run()

    def on_engine_event(self, message: EngineEvent) -> None:
        # StepScreen.on_engine_event also runs: it logs every event below.
        event = message.event
        if event.step != self.step or event.kind == "log":
            return
        k, w = self.session.plan.kubernetes, self.session.plan.workload
        prefix = f"pod {k.namespace}/{w.pod}: "
        if event.message.startswith(prefix):
            self._phase = event.message.removeprefix(prefix)
        elif event.message.startswith(f"created pod {k.namespace}/{w.pod} ("):
            self._phase = event.message.rsplit("(", 1)[-1].rstrip(")")
        else:
            self._last_event = event.message
        self._show_status()

    def on_step_finished(self, message: StepFinished) -> None:
        # StepScreen.on_step_finished also runs: the button, the rail, the diagnosis.
        if message.diagnosis is None:
            self._last_event = "the webhook injected the identity"
        self._show_status()

    def _show_status(self) -> None:
        w = self.session.plan.workload
        parts = [f"Pod {w.pod}: {self._phase or 'not created yet'}"]
        if self._last_event:
            parts.append(self._last_event)
        status = self.query_one("#pod-status", Static)
        status.update(" · ".join(parts))
        status.display = True
