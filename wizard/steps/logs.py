"""Step 8: watch the pod start, stream its logs live, and decide from what the workload itself prints whether it
reached the identity tenant's resources.

Waiting is bounded everywhere (start, verdict, and the observation window of a custom image). Failures that keep a
container from running (image pulls, crash loops, bad config) end the wait at once with their diagnosis instead
of running into the timeout. The probe and the seed's quota reader prove access by their own lines; any other image
is judged only by the absence of a known failure signature, and the summary says that this is not proof.
"""

from __future__ import annotations

import time
from dataclasses import replace

from wizard.crashpoint import crash_point
from wizard.diagnose import Diagnosis, diagnose, redact
from wizard.kube.client import Kube, KubeError
from wizard.steps.armsupport import failures, known
from wizard.steps.base import Check, Context, Description, Event, Result, Step, StepFailed
from wizard.steps.deploy import observed_key
from wizard.steps.podwatch import (
    STUCK_REASONS,
    Obj,
    PodReporter,
    describe,
    exit_code,
    running,
    started,
    uid,
    waiting,
)
from wizard.workloads import CONTAINER, Judge, Verdict, kind_of

# How long the streamed log must stay silent, at most, before the stream is given up on (then the pod is re-read).
_IDLE_MARGIN = 5.0
# How long the pod is watched, after its log ended, for the kubelet to record the container's exit.
_SETTLE_SECONDS = 15.0


class LogsStep(Step):
    name = "logs"
    title = "Prove access from the pod's logs"

    # Bounds in seconds (class defaults, so a test can shorten them for steps the flow builds; or pass them).
    start_timeout = 300.0  # until the container runs (or has run): image pulls on a real node take minutes
    verdict_timeout = 300.0  # until a known image has printed its verdict
    custom_window = 30.0  # how long a custom image is watched for known failures

    def __init__(self, start_timeout: float | None = None, verdict_timeout: float | None = None,
                 custom_window: float | None = None) -> None:
        if start_timeout is not None:
            self.start_timeout = start_timeout
        if verdict_timeout is not None:
            self.verdict_timeout = verdict_timeout
        if custom_window is not None:
            self.custom_window = custom_window

    def describe(self, ctx: Context) -> Description:
        ns, pod = self._where(ctx)
        what = {"probe": "The probe prints 'wi-probe: OK' once it signed in as the identity and read the resource "
                         "its role allows, or 'wi-probe: ERROR …' with the reason.",
                "quota": "The quota reader prints the quota's 'limit:' and 'usage:' as read in the identity's "
                         "tenant, or 'error:' with the reason.",
                "custom": f"A custom image cannot prove success: it is watched for {self.custom_window:.0f} s and "
                          "passes when it runs with no known failure in its logs."}[kind_of(ctx.plan.workload.image)]
        return Description(f"Wait for pod {ns}/{pod} to start (up to {self.start_timeout:.0f} s), then follow its "
                           f"logs and decide from what it prints. {what}",
                           [f"kubectl wait pod/{pod} -n {ns} --for=jsonpath='{{.status.phase}}'=Running "
                            f"--timeout={self.start_timeout:.0f}s",
                            f"kubectl get events -n {ns} --field-selector involvedObject.name={pod}",
                            f"kubectl logs -f pod/{pod} -n {ns} -c {CONTAINER}"])

    def check(self, ctx: Context) -> Check:
        """Done when the current pod's log (read once, not followed) already proves access."""
        with failures(self):
            ns, name = self._where(ctx)
            kube = Kube.connect(ctx)
            # Taken from the run's observations when the deploy step has just created (or kept) it.
            pod = ctx.observed.take(observed_key(ns, "pods", name), lambda: kube.get_pod(ns, name))
            ctx.observed.record(observed_key(ns, "pods", name), pod)
            if pod is None:
                return Check("missing", [f"pod {ns}/{name} does not exist"])
            wanted_uid = known(ctx, "deploy", "pod_uid")
            if wanted_uid and uid(pod) != wanted_uid:
                return Check("missing", [f"pod {ns}/{name} was replaced since it was deployed"])
            if not started(pod):
                return Check("missing", [f"pod {ns}/{name} has not started ({describe(pod)})"])
            judge = Judge(ctx.plan.workload.image)
            verdict = None
            try:
                for line in kube.stream_logs(ns, name, CONTAINER, follow=False):
                    verdict = judge.feed(line)
                    if verdict is not None:
                        break
            except KubeError as exc:  # restarting between the two reads: nothing proven right now
                return Check("missing", [f"pod {ns}/{name}: its log cannot be read ({exc.message})"])
            if verdict is None and judge.kind == "custom":
                verdict = judge.finish(exit_code(pod), running(pod))
            if verdict is None or not verdict.proven:
                reason = verdict.summary if verdict is not None else "its logs do not prove access (yet)"
                return Check("missing", [f"pod {ns}/{name}: {reason}"])
            # Proven by what the pod already printed: show those lines as the step's log (the live logs screen and
            # the headless output show the proof, not an empty log), and say what they prove.
            for line in judge.lines:
                ctx.report(Event(self.name, line, "log"))
            return Check("done", [verdict.summary], _values(verdict))

    def apply(self, ctx: Context) -> Result:
        with failures(self):
            ns, name = self._where(ctx)
            kube = Kube.connect(ctx)
            reporter = PodReporter(ctx, self.name, kube, ns, name)
            judge = Judge(ctx.plan.workload.image)
            pod = self._wait_started(ctx, kube, reporter, judge)
            verdict = self._follow(ctx, kube, reporter, judge, pod)
            if not verdict.proven:
                assert verdict.diagnosis is not None
                raise StepFailed(verdict.diagnosis)
            return Result(verdict.summary, _values(verdict))

    # -- helpers ----------------------------------------------------------------------------------------------

    def _where(self, ctx: Context) -> tuple[str, str]:
        k, w = ctx.plan.kubernetes, ctx.plan.workload
        return known(ctx, "deploy", "namespace") or k.namespace, known(ctx, "deploy", "pod") or w.pod

    def _wait_started(self, ctx: Context, kube: Kube, reporter: PodReporter, judge: Judge) -> Obj:
        """Watch until the container runs or has run; a container that cannot start fails at once."""
        ns, name = reporter.namespace, reporter.name
        wanted_uid = known(ctx, "deploy", "pod_uid")
        # The watch starts from the pod the check has just read (when it did), instead of listing it again.
        checked = ctx.observed.take(observed_key(ns, "pods", name), lambda: None)
        for pod in kube.watch_pod(ns, name, self.start_timeout, checked):
            ctx.check_cancelled()
            if wanted_uid and uid(pod) != wanted_uid:
                raise StepFailed(_pod_gone(ns, name))
            reporter.pod(pod)
            state = waiting(pod)
            if state is not None and state[0] == "CrashLoopBackOff":
                raise StepFailed(self._crash_diagnosis(kube, reporter, judge, pod, state[1]))
            if state is not None and state[0] in STUCK_REASONS:
                raise StepFailed(diagnose(f"{state[0]}: {state[1]}", self.name))
            if started(pod):
                return pod
            crash_point("starting:logs")  # the pod exists, its container does not run yet
            status = pod.get("status") or {}
            if status.get("phase") in ("Failed", "Succeeded"):  # ended before any container ran (evicted…)
                raise StepFailed(diagnose(f"pod {ns}/{name} {status.get('phase')} without running: "
                                          f"{status.get('reason', '')} {status.get('message', '')}", "deploy"))
        current = kube.get_pod(ns, name)
        if current is None and not wanted_uid:
            raise StepFailed(Diagnosis("PodMissing", "There is no pod to read", f"Pod {ns}/{name} does not exist: "
                                       "the deploy step has not run.", "Run the deploy step first.", "deploy"))
        if current is None or (wanted_uid and uid(current) != wanted_uid):
            raise StepFailed(_pod_gone(ns, name))
        if started(current):
            return current
        raise StepFailed(Diagnosis(
            "PodNotStarted", "The pod did not start in time",
            f"Pod {ns}/{name} was still {describe(current)} after {self.start_timeout:.0f} s.",
            f"Look at its events (kubectl get events -n {ns} --field-selector involvedObject.name={name}) and the "
            "node's capacity; then run this step again.", "deploy"))

    def _crash_diagnosis(self, kube: Kube, reporter: PodReporter, judge: Judge, pod: Obj,
                         message: str) -> Diagnosis:
        """A crash loop explained by the workload's own last words when they carry a known failure."""
        try:
            for line in kube.stream_logs(reporter.namespace, reporter.name, CONTAINER, follow=False):
                verdict = judge.feed(line)
                if verdict is not None and verdict.diagnosis is not None:
                    return verdict.diagnosis
        except KubeError:
            pass  # no log to read: the crash loop itself is the diagnosis
        verdict = judge.finish(exit_code(pod), running=False)
        if verdict.diagnosis is not None and verdict.diagnosis.code != "Unexpected":
            return verdict.diagnosis
        found = diagnose(f"CrashLoopBackOff: {message}", self.name)
        last = verdict.evidence.splitlines()[-1] if verdict.evidence else ""
        return replace(found, detail=f"{found.detail} | {last}" if last else found.detail)

    def _follow(self, ctx: Context, kube: Kube, reporter: PodReporter, judge: Judge, pod: Obj) -> Verdict:
        """Stream the log, reporting each line, until the judge decides, the container ends or time is up."""
        ns, name = reporter.namespace, reporter.name
        limit = self.custom_window if judge.kind == "custom" else self.verdict_timeout
        deadline = time.monotonic() + limit
        timed_out = False
        try:
            for line in kube.stream_logs(ns, name, CONTAINER, follow=True, idle_timeout=limit + _IDLE_MARGIN):
                ctx.report(Event(self.name, redact(line), "log"))
                crash_point("streaming:logs")  # a line shown, the verdict not yet read
                verdict = judge.feed(line)
                if verdict is not None:
                    if not verdict.proven and judge.kind == "probe":
                        # The probe exits right after its verdict: let the pod show it (phase Failed), so that a
                        # deploy run next recreates it instead of keeping a finished pod.
                        self._settled(kube, reporter, pod)
                    return verdict
                if time.monotonic() > deadline:
                    timed_out = True
                    break
                ctx.check_cancelled()
        except KubeError as exc:
            if exc.status != 0 or time.monotonic() < deadline:
                raise
            timed_out = True  # silent until the deadline
        if timed_out:
            pod = kube.get_pod(ns, name) or pod
            reporter.pod(pod)
            if running(pod):
                if judge.kind == "custom":
                    return judge.finish(None, running=True)
                text = f"pod {ns}/{name} ran for {limit:.0f} s without printing its verdict"
                return Verdict(False, "", text, diagnose(text, self.name))
        ended = self._settled(kube, reporter, pod)
        return judge.finish(exit_code(ended), running=False)

    def _settled(self, kube: Kube, reporter: PodReporter, pod: Obj) -> Obj:
        """The pod once the kubelet has recorded the end of the container whose log just ended (briefly watched:
        the log closes a moment before the status says so)."""
        last = pod
        for current in kube.watch_pod(reporter.namespace, reporter.name, _SETTLE_SECONDS):
            last = current
            if exit_code(current) is not None and not running(current):
                break
        reporter.pod(last)
        return last


def _pod_gone(ns: str, name: str) -> Diagnosis:
    return Diagnosis("PodGone", "The deployed pod is gone",
                     f"Pod {ns}/{name} was deleted or replaced after the deploy step created it.",
                     "Run the deploy step again.", "deploy")


def _values(verdict: Verdict) -> dict[str, str]:
    return {"verdict": "proven" if verdict.proven else "failed", "evidence": verdict.evidence}
