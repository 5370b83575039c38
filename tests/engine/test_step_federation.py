"""The federation step against the sandbox: the federated credential carries the cluster's issuer verbatim, the
plan's subject and audience; check names each difference (the missing trailing slash above all); an equal
credential under another name is used; a full identity is refused clearly."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.engine.support import Recorder, run, seed_plan, signed_in
from wizard.azure.arm import Arm, parse_id
from wizard.sandbox import Sandbox
from wizard.steps.base import Context, StepFailed
from wizard.steps.cluster import ClusterStep
from wizard.steps.federation import FederationStep
from wizard.steps.identity import IdentityStep

AUDIENCE = "api://AzureADTokenExchange"
SUBJECT = "system:serviceaccount:default:wi-demo-account"


def arm_writes(box: Sandbox, since: int) -> list[str]:
    return [f"{r.method} {r.path}" for r in list(box.world.requests)[since:]
            if r.service == "arm" and r.method in ("PUT", "POST", "PATCH", "DELETE")]


def prepared(box: Sandbox, **kwargs: Any) -> tuple[Context, Recorder]:
    """Cluster step on the enabled cluster (read only) and identity step on an identity of this test's own."""
    suffix = uuid.uuid4().hex[:8]
    plan = seed_plan(cluster={"resource_group": "rg-platform", "name": "aks-platform"},
                     identity={"resource_group": f"rg-fed-{suffix}", "name": f"mi-fed-{suffix}"})
    ctx, recorder = signed_in(box, plan, **kwargs)
    run(ctx, ClusterStep())
    run(ctx, IdentityStep())
    return ctx, recorder


def fics_of(ctx: Context) -> tuple[Any, str, str]:
    parsed = parse_id(ctx.value("identity", "identity_id"))
    return Arm.for_side(ctx, "identity").fics(parsed.subscription_id), parsed.resource_group, parsed.name


def test_credential_is_created_with_the_issuer_verbatim_and_a_rerun_writes_nothing(sandbox: Sandbox) -> None:
    ctx, _ = prepared(sandbox)
    issuer = ctx.value("cluster", "issuer_url")
    step = FederationStep()
    assert step.check(ctx).state == "missing"

    result = run(ctx, step)

    assert result.values == {"fic_id": f"{ctx.value('identity', 'identity_id')}/federatedIdentityCredentials/"
                                       "fc-wi-demo",
                             "issuer": issuer, "subject": SUBJECT, "audience": AUDIENCE}
    assert issuer.endswith("/")
    assert result.created == [result.values["fic_id"]]
    fics, group, identity = fics_of(ctx)
    [stored] = fics.list(group, identity)
    assert (stored.issuer, stored.subject, stored.audiences) == (issuer, SUBJECT, (AUDIENCE,))
    assert step.check(ctx).state == "done"

    since = len(sandbox.world.requests)
    again = run(ctx, step)
    assert arm_writes(sandbox, since) == []
    assert again.summary.startswith("Federated credential fc-wi-demo was already right")
    assert again.created == result.created  # under an identity this session created: still its own


def test_missing_trailing_slash_is_reported_as_drift_and_corrected(sandbox: Sandbox) -> None:
    ctx, _ = prepared(sandbox)
    issuer = ctx.value("cluster", "issuer_url")
    fics, group, identity = fics_of(ctx)
    fics.put(group, identity, "fc-wi-demo", issuer.rstrip("/"), SUBJECT, AUDIENCE)
    check = FederationStep().check(ctx)
    assert check.state == "drifted"
    assert check.details == [f"issuer differs: the credential has {issuer.rstrip('/')!r} (no trailing slash), the "
                             f"cluster reports {issuer!r}"]
    result = run(ctx, FederationStep())
    assert result.summary.startswith("Corrected federated credential fc-wi-demo")
    assert [f.issuer for f in fics.list(group, identity)] == [issuer]
    assert FederationStep().check(ctx).state == "done"


def test_subject_case_and_audience_differences_are_named_field_by_field(sandbox: Sandbox) -> None:
    ctx, _ = prepared(sandbox)
    issuer = ctx.value("cluster", "issuer_url")
    fics, group, identity = fics_of(ctx)
    fics.put(group, identity, "fc-wi-demo", issuer, SUBJECT.replace("wi-demo", "WI-demo"), "api://Other")
    check = FederationStep().check(ctx)
    assert check.state == "drifted"
    assert check.details == [
        f"subject differs: the credential has {SUBJECT.replace('wi-demo', 'WI-demo')!r}, the ServiceAccount's is "
        f"{SUBJECT!r} (only the letter case differs; matching is case-sensitive)",
        f"audience differs: the credential has 'api://Other', the plan needs {AUDIENCE!r}"]


def test_an_equal_credential_under_another_name_is_used_not_duplicated(sandbox: Sandbox) -> None:
    ctx, _ = prepared(sandbox)
    fics, group, identity = fics_of(ctx)
    fics.put(group, identity, "made-by-hand", ctx.value("cluster", "issuer_url"), SUBJECT, AUDIENCE)
    check = FederationStep().check(ctx)
    assert check.state == "done" and check.values["fic_id"].endswith("/made-by-hand")
    since = len(sandbox.world.requests)
    result = run(ctx, FederationStep())
    assert arm_writes(sandbox, since) == []
    assert result.created == []  # not the wizard's
    assert "Using the equal federated credential made-by-hand" in result.summary
    assert [f.name for f in fics.list(group, identity)] == ["made-by-hand"]


def test_an_identity_with_twenty_credentials_is_refused_naming_them(sandbox: Sandbox) -> None:
    ctx, _ = prepared(sandbox)
    fics, group, identity = fics_of(ctx)
    for n in range(20):
        fics.put(group, identity, f"other-{n:02d}", "https://issuer.example/", f"system:serviceaccount:x:sa{n}",
                 AUDIENCE)
    with pytest.raises(StepFailed) as caught:
        FederationStep().apply(ctx)
    d = caught.value.diagnosis
    assert (d.code, d.step) == ("FederatedCredentialLimit", "federation")
    assert "other-00" in d.cause and "other-19" in d.cause and "Delete credentials" in d.fix


def test_the_federation_step_before_the_cluster_step_says_which_step_to_run(sandbox: Sandbox) -> None:
    ctx, _ = signed_in(sandbox)
    with pytest.raises(StepFailed) as caught:
        FederationStep().apply(ctx)
    assert (caught.value.diagnosis.code, caught.value.diagnosis.step) == ("StepOrder", "cluster")


def test_describe_shows_the_command_with_the_issuer_once_known(sandbox: Sandbox) -> None:
    from tests.engine.support import make_context

    fresh, _ = make_context(sandbox)
    assert "<OIDC issuer URL of aks-wi-demo, verbatim>" in FederationStep().describe(fresh).commands[0]
    ctx, _ = prepared(sandbox)
    [command] = FederationStep().describe(ctx).commands
    assert f"--issuer {ctx.value('cluster', 'issuer_url')} " in command
    assert f"--subject {SUBJECT} --audiences {AUDIENCE}" in command
    assert "--name fc-wi-demo" in command
