"""The trust check against the sandbox: every link proven through real HTTP (TokenRequest, the issuer's discovery
and keys, Entra's client-assertion exchange, an ARM read as the identity), each misconfiguration failing at the
right link with the right diagnosis, and propagation delays waited out."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import Env
from tests.engine.support import Recorder, run, seed_plan, signed_in
from wizard.azure.arm import Arm, parse_id
from wizard.kube.client import Kube
from wizard.sandbox import Sandbox
from wizard.steps.base import Context, StepFailed
from wizard.steps.cluster import ClusterStep
from wizard.steps.deploy import DeployStep, kube_ref
from wizard.steps.federation import FederationStep
from wizard.steps.identity import IdentityStep
from wizard.steps.role import RoleStep
from wizard.steps.trust import TrustStep

FAST = {"first_delay": 0.5, "max_delay": 1.0}


def _prepared(box: Sandbox, *, role: bool = True) -> tuple[Context, Recorder]:
    """Everything before the trust check, for a fresh identity and ServiceAccount on the cluster with OIDC on."""
    suffix = uuid.uuid4().hex[:8]
    plan = seed_plan(cluster={"resource_group": "rg-platform", "name": "aks-platform"},
                     identity={"name": f"mi-trust-{suffix}"},
                     kubernetes={"namespace": f"trust-{suffix}", "service_account": "workload"})
    ctx, events = signed_in(box, plan, session=f"trust-{suffix}")
    steps = [ClusterStep(), IdentityStep(), *([RoleStep()] if role else []), FederationStep()]
    for step in steps:
        run(ctx, step)
    if not role:  # as if the role step had run and its assignment were gone
        ctx.session.outcome("role").values["scopes"] = f"/subscriptions/{ctx.value('identity', 'subscription_id')}"
    events.events.clear()
    return ctx, events


def _rewrite_fic(ctx: Context, **changes: str) -> None:
    """Change the plan's federated credential behind the wizard's back."""
    fic = {"issuer": ctx.value("federation", "issuer"), "subject": ctx.value("federation", "subject"),
           "audience": ctx.value("federation", "audience"), **changes}
    parsed = parse_id(ctx.value("identity", "identity_id"))
    Arm.for_side(ctx, "identity").fics(parsed.subscription_id).put(parsed.resource_group, parsed.name,
                                                                   ctx.plan.federation_name, **fic)


def _failed(ctx: Context, step: TrustStep | None = None) -> StepFailed:
    with pytest.raises(StepFailed) as caught:
        (step or TrustStep(**FAST)).apply(ctx)
    return caught.value


def _links(values: dict[str, str]) -> list[str]:
    return [values[f"link.{name}"] for name in ("issuer", "signature", "match", "tenant", "role")]


def test_trust_passes_every_link_and_creates_the_service_account_it_needs(sandbox: Sandbox) -> None:
    ctx, events = _prepared(sandbox)
    k, cluster_id = ctx.plan.kubernetes, ctx.value("cluster", "cluster_id")

    result = TrustStep(**FAST).apply(ctx)

    assert result.values == {"verdict": "passed", "link.issuer": "passed", "link.signature": "passed",
                             "link.match": "passed", "link.tenant": "passed", "link.role": "passed"}
    assert result.created == [kube_ref(cluster_id, k.namespace),
                              kube_ref(cluster_id, k.namespace, "serviceaccounts", k.service_account)]
    account = Kube.connect(ctx).get_service_account(k.namespace, k.service_account)
    assert account is not None
    assert account["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "wi-wizard"}
    assert account["metadata"]["annotations"] == {"wi-wizard/session": ctx.session.name}
    assert [e.message.split(":")[0] for e in events.events] == ["issuer", "signature", "match", "tenant", "role"]
    assert not events.kinds("wait")


def test_trust_check_is_missing_until_verified_then_done_and_a_second_apply_creates_nothing(
        sandbox: Sandbox) -> None:
    ctx, _ = _prepared(sandbox)
    step = TrustStep(**FAST)
    assert step.check(ctx).state == "missing"

    first = run(ctx, step)
    account = Kube.connect(ctx).get_service_account(ctx.plan.kubernetes.namespace,
                                                    ctx.plan.kubernetes.service_account)
    again = step.apply(ctx)

    # The same objects, still reported as this session's own (so a crash before the save cannot orphan them),
    # and nothing new: the ServiceAccount is the one the first apply made.
    assert again.created == first.created
    after = Kube.connect(ctx).get_service_account(ctx.plan.kubernetes.namespace,
                                                  ctx.plan.kubernetes.service_account)
    assert account is not None and after is not None
    assert after["metadata"]["uid"] == account["metadata"]["uid"]
    assert step.check(ctx).state == "done"


def test_wrong_subject_fails_the_match_link_at_once_naming_both_subjects(sandbox: Sandbox) -> None:
    ctx, events = _prepared(sandbox)
    _rewrite_fic(ctx, subject="system:serviceaccount:default:someone-else")

    failure = _failed(ctx, TrustStep(fic_propagation_timeout=60, **FAST))

    assert failure.diagnosis.code == "AADSTS700213"
    assert failure.diagnosis.step == "federation"
    assert "'system:serviceaccount:default:someone-else'" in failure.diagnosis.detail
    assert f"'{ctx.plan.subject}'" in failure.diagnosis.detail
    assert _links(failure.values) == ["passed", "passed", "failed", "skipped", "skipped"]
    assert failure.values["verdict"] == "failed"
    assert not events.kinds("wait")  # a real mismatch is not waited on as if it were propagation
    k, cluster_id = ctx.plan.kubernetes, ctx.value("cluster", "cluster_id")
    assert failure.created == [kube_ref(cluster_id, k.namespace),  # made before the check failed: still ours
                               kube_ref(cluster_id, k.namespace, "serviceaccounts", k.service_account)]


def test_issuer_without_its_trailing_slash_fails_the_match_link_as_issuer_mismatch(sandbox: Sandbox) -> None:
    ctx, _ = _prepared(sandbox)
    issuer = ctx.value("cluster", "issuer_url")
    _rewrite_fic(ctx, issuer=issuer.rstrip("/"))

    failure = _failed(ctx)

    assert failure.diagnosis.code == "AADSTS700211"
    assert failure.diagnosis.title == "Issuer mismatch"
    assert "has no trailing '/'" in failure.diagnosis.detail
    assert _links(failure.values) == ["passed", "passed", "failed", "skipped", "skipped"]


def test_wrong_audience_fails_the_match_link_as_audience_mismatch(sandbox: Sandbox) -> None:
    ctx, _ = _prepared(sandbox)
    _rewrite_fic(ctx, audience="api://SomethingElse")

    failure = _failed(ctx)

    assert failure.diagnosis.code == "AADSTS700212"
    assert "accepts api://SomethingElse" in failure.diagnosis.detail
    assert _links(failure.values) == ["passed", "passed", "failed", "skipped", "skipped"]


def test_identity_asked_in_the_cluster_tenant_fails_the_tenant_link_with_700016(sandbox: Sandbox, env: Env) -> None:
    ctx, _ = _prepared(sandbox)
    ctx.session.outcome("identity").values["tenant_id"] = env.tenant_id("contoso")  # tenant A presented

    failure = _failed(ctx)

    assert failure.diagnosis.code == "AADSTS700016"
    assert failure.diagnosis.step == "identity"
    assert env.tenant_id("contoso") in failure.diagnosis.cause
    assert failure.values["link.tenant"] == "failed"
    assert failure.values["link.role"] == "skipped"


def test_no_role_fails_the_role_link_with_authorization_failed_after_waiting_for_propagation(
        sandbox: Sandbox) -> None:
    ctx, events = _prepared(sandbox, role=False)

    failure = _failed(ctx, TrustStep(role_propagation_timeout=1.5, **FAST))

    assert failure.diagnosis.code == "AuthorizationFailed"
    assert failure.diagnosis.step == "role"
    assert "after waiting 1 s" in failure.diagnosis.cause
    assert _links(failure.values) == ["passed", "passed", "passed", "passed", "failed"]
    assert events.kinds("wait")
    assert all("403" in e.message for e in events.kinds("wait"))


def test_tokens_with_another_issuer_than_arm_reports_fail_the_issuer_link(sandbox: Sandbox) -> None:
    ctx, _ = _prepared(sandbox)
    ctx.session.outcome("cluster").values["issuer_url"] = ctx.value("cluster", "issuer_url").rstrip("/")

    failure = _failed(ctx)

    assert failure.diagnosis.code == "IssuerMismatch"
    assert failure.diagnosis.step == "cluster"
    assert _links(failure.values) == ["failed", "skipped", "skipped", "skipped", "skipped"]


def test_cluster_without_oidc_issuer_is_explained_before_any_call(sandbox: Sandbox) -> None:
    ctx, _ = signed_in(sandbox, seed_plan())
    ctx.session.outcome("cluster").values.update(cluster_id="/subscriptions/x", aad="false", oidc_issuer="false")

    failure = _failed(ctx)

    assert failure.diagnosis.code == "OidcIssuerOff"
    assert failure.diagnosis.step == "cluster"


def test_a_trust_broken_after_it_passed_is_drifted_on_check_without_waiting(sandbox: Sandbox) -> None:
    ctx, events = _prepared(sandbox)
    step = TrustStep(fic_propagation_timeout=60, role_propagation_timeout=60, **FAST)
    run(ctx, step)
    _rewrite_fic(ctx, subject="system:serviceaccount:other:workload")

    check = step.check(ctx)

    assert check.state == "drifted"
    assert check.details[0].startswith("Subject mismatch")
    assert check.values["link.match"] == "failed"
    assert not events.kinds("wait")


def test_fic_propagation_delay_is_waited_out_visibly(make_sandbox: Any) -> None:
    box = make_sandbox(faults="fic-propagation=2")
    ctx, events = _prepared(box)

    result = TrustStep(fic_propagation_timeout=30, **FAST).apply(ctx)

    assert result.values["verdict"] == "passed"
    waits = events.kinds("wait")
    assert waits and all("AADSTS70021" in e.message for e in waits)
    assert all(e.seconds_left is not None for e in waits)


def test_role_propagation_delay_is_waited_out_visibly(make_sandbox: Any) -> None:
    box = make_sandbox(faults="role-propagation=2")
    ctx, events = _prepared(box)

    result = TrustStep(role_propagation_timeout=30, **FAST).apply(ctx)

    assert result.values["link.role"] == "passed"
    waits = events.kinds("wait")
    assert waits and all("403" in e.message for e in waits)


def test_describe_names_the_commands_with_the_sessions_real_values(sandbox: Sandbox) -> None:
    ctx, _ = _prepared(sandbox)

    described = TrustStep().describe(ctx)

    k = ctx.plan.kubernetes
    assert described.commands[0] == (f"TOKEN=$(kubectl create token {k.service_account} -n {k.namespace} "
                                     "--audience api://AzureADTokenExchange --duration 10m)")
    assert ctx.value("cluster", "issuer_url").rstrip("/") + "/.well-known/openid-configuration" \
        in described.commands[1]
    assert ctx.value("identity", "client_id") in described.commands[2]
    assert ctx.value("identity", "tenant_id") in described.commands[2]


def test_same_tenant_plan_passes_every_link(sandbox: Sandbox, env: Env) -> None:
    suffix = uuid.uuid4().hex[:8]
    plan = seed_plan(cluster={"resource_group": "rg-platform", "name": "aks-platform"},
                     identity={"tenant": env.tenant_id("contoso"), "subscription": "contoso-platform",
                               "resource_group": "rg-platform", "location": "westeurope",
                               "name": f"mi-same-{suffix}"},
                     kubernetes={"namespace": f"same-{suffix}", "service_account": "workload"})
    ctx, _ = signed_in(sandbox, plan, session=f"same-{suffix}")
    for step in (ClusterStep(), IdentityStep(), RoleStep(), FederationStep()):
        run(ctx, step)

    result = TrustStep(**FAST).apply(ctx)

    assert result.values["verdict"] == "passed"
    assert ctx.value("identity", "tenant_id") == env.tenant_id("contoso")


def test_the_engine_modules_load_without_azure_or_kubernetes() -> None:
    import subprocess
    import sys

    code = ("import sys, wizard.steps.login, wizard.steps.trust, wizard.kube.client, wizard.azure.credentials; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'azure', 'kubernetes', 'textual', 'msal'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert out.strip() == "[]"


def test_the_deploy_step_annotates_the_service_account_the_trust_check_created(sandbox: Sandbox, env: Env) -> None:
    ctx, _ = _prepared(sandbox)
    k = ctx.plan.kubernetes
    run(ctx, TrustStep(**FAST))

    deployed = DeployStep().apply(ctx)

    account = Kube.connect(ctx).get_service_account(k.namespace, k.service_account)
    assert account is not None
    assert account["metadata"]["annotations"]["azure.workload.identity/client-id"] == ctx.value("identity",
                                                                                                "client_id")
    assert account["metadata"]["annotations"]["azure.workload.identity/tenant-id"] == env.tenant_id("fabrikam")
    assert account["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "wi-wizard"}
    # The account is this session's (the trust check made it), so deploy lists it too: teardown removes it once.
    assert any(ref.endswith(f"/serviceaccounts/{k.service_account}") for ref in deployed.created)
    assert "patched serviceaccount" in deployed.summary.lower()
