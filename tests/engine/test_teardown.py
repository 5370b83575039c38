"""Teardown (wizard/teardown.py) on private sandboxes, through the real SDKs and the kubernetes client: after a full
seed apply it removes exactly what the session created (pod, ServiceAccount, federated credential, role assignment,
identity, resource group) in a safe order and keeps the cluster's OIDC issuer and workload identity on; a second
teardown has nothing left to remove; what existed before (a reused identity and its group, a ServiceAccount with
someone's annotations) is untouched except for the annotation keys the wizard added; a resource whose marks name
another session is kept; a delete the login may not do (403) fails that item with a diagnosis and the rest goes on.

Changes "outside the wizard" are made as a person would, with the Azure SDK or the kubernetes client.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Env, fast_settings
from tests.engine.cli_support import SEED_PLAN, Census, census, seed_variant
from tests.engine.support import Recorder, sandbox_cloud
from wizard import plan as plan_mod
from wizard import teardown
from wizard.engine import Engine
from wizard.flow import DONE, START
from wizard.kube.client import Kube
from wizard.sandbox import Sandbox
from wizard.session import Session, SessionStore, Target
from wizard.steps.deploy import CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION

IDENTITY = "Microsoft.ManagedIdentity/userAssignedIdentities"
FIC = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
GROUP = "Microsoft.Resources/resourceGroups"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
KUBELET_SPEED = 20.0  # pods start, run and terminate quickly: teardown waits for its pod to be gone
SEED_ORDER = [("pod", "delete"), ("service-account", "delete"), ("namespace", "keep"),
              ("federated-credential", "delete"), ("role-assignment", "delete"), ("identity", "delete"),
              ("resource-group", "delete"), ("cluster", "keep")]


# -- helpers ------------------------------------------------------------------------------------------------------


def applied(box: Sandbox, store: SessionStore, name: str = "seed", plan: Path = SEED_PLAN) -> Session:
    """A session that ran the whole flow (through the engine, as `apply` does) and proved access."""
    cloud = sandbox_cloud(box)
    session = Session(name, plan_mod.load(plan), Target("sandbox", cloud.endpoints_path))
    assert Engine(session, store, cloud).run() == DONE, session.outcomes
    return session


def signed_in(box: Sandbox, store: SessionStore, name: str = "seed") -> tuple[Engine, Recorder]:
    """The saved session reopened and signed in again, as `wi-wizard teardown` does before its preview."""
    recorder = Recorder()
    engine = Engine(store.load(name), store, sandbox_cloud(box), report=recorder)
    engine.run_step("login")
    return engine, recorder


def torn_down(engine: Engine, recorder: Recorder) -> tuple[list[teardown.Item], teardown.TeardownResult]:
    items = teardown.preview(engine.ctx)
    result = teardown.run(engine.ctx, items, recorder)
    engine.save()
    return items, result


def shape(items: list[teardown.Item]) -> list[tuple[str, str]]:
    return [(i.kind, i.action) for i in items]


def names(box: Sandbox, type_: str) -> set[str]:
    from tests.engine.cli_support import arm_resources

    return {str(doc["name"]) for doc in arm_resources(box, type_)}


def msi(env: Env) -> Any:
    from azure.mgmt.msi import ManagedServiceIdentityClient

    return ManagedServiceIdentityClient(env.sp_credential("fabrikam"), env.subscription_id("fabrikam"),
                                        **env.client_kwargs())


def kube(engine: Engine) -> Any:
    """The kubernetes client's CoreV1Api on the session's cluster (the kubeconfig ARM hands out)."""
    return Kube.connect(engine.ctx)._core


# -- one seed apply, torn down twice: the tests below only read what happened ------------------------------------


@dataclass
class SeedTeardown:
    before_apply: Census
    after_apply: Census
    after_teardown: Census
    after_second: Census
    items: list[teardown.Item]
    result: teardown.TeardownResult
    events: Recorder
    second_items: list[teardown.Item]
    second_result: teardown.TeardownResult
    session_after: Session
    session_json_after_first: str
    session_json_after_second: str
    cluster: Any
    stale_result: teardown.TeardownResult
    after_stale: Census
    resumed_state: str
    after_resume: Census
    session_resumed: Session


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeedTeardown]:
    home = tmp_path_factory.mktemp("teardown-seed")
    box = Sandbox(home / "box", settings=fast_settings(kubelet_speed=KUBELET_SPEED))
    box.start()
    try:
        store = SessionStore(home / "sessions")
        before = census(box)
        applied(box, store)
        after_apply = census(box)
        engine, recorder = signed_in(box, store)
        items, result = torn_down(engine, recorder)
        after_teardown = census(box)
        first_json = store.path("seed").read_text()
        again, _ = signed_in(box, store)
        second_items, second_result = torn_down(again, Recorder())
        from wizard.azure.arm import Arm, parse_id

        parsed = parse_id(again.ctx.value("cluster", "cluster_id"))
        cluster = Arm.for_side(again.ctx, "cluster").clusters(parsed.subscription_id).get(parsed.resource_group,
                                                                                          parsed.name)
        after_second, session_after, second_json = census(box), store.load("seed"), store.path("seed").read_text()
        stale = teardown.run(again.ctx, items, Recorder())  # the first preview, acted on once more
        again.save()
        after_stale = census(box)
        resumed = Engine(store.load("seed"), store, sandbox_cloud(box))
        yield SeedTeardown(before, after_apply, after_teardown, after_second, items, result, recorder, second_items,
                           second_result, session_after, first_json, second_json, cluster, stale, after_stale,
                           resumed.resume(), census(box), store.load("seed"))
    finally:
        box.stop()


def test_preview_lists_what_the_session_made_in_deletion_order_then_what_it_keeps_and_why(
        seed: SeedTeardown) -> None:
    assert shape(seed.items) == SEED_ORDER
    by_kind = {i.kind: i for i in seed.items}
    assert by_kind["pod"].name == "default/wi-demo-app"
    assert by_kind["service-account"].name == "default/wi-demo-account"
    assert by_kind["identity"].name == "mi-wi-demo" and "wi-wizard-session: seed" in by_kind["identity"].reason
    assert by_kind["resource-group"].name == "rg-wi-demo" and "holds nothing else" in by_kind["resource-group"].reason
    assert "Created by wi-wizard session seed" in by_kind["role-assignment"].reason
    assert "existed before this session" in by_kind["namespace"].reason  # `default` is never the session's
    cluster = by_kind["cluster"]
    assert cluster.name == "aks-wi-demo"
    assert "OIDC issuer and workload identity stay on" in cluster.reason
    assert "cannot be turned off" in cluster.reason and "would affect other workloads" in cluster.reason


def test_teardown_removes_exactly_the_sessions_resources_and_the_world_is_as_before_the_apply(
        seed: SeedTeardown) -> None:
    removed = seed.after_teardown - seed.after_apply
    assert removed == {"pods": -1, "serviceaccounts": -1, FIC: -1, ASSIGNMENT: -1, IDENTITY: -1, GROUP: -1}
    assert seed.after_teardown - seed.before_apply == {}
    assert seed.result.failed == [] and seed.result.unannotated == []
    assert [teardown.kind_of(r) for r in seed.result.deleted] == [k for k, a in SEED_ORDER if a == "delete"]
    assert [teardown.kind_of(r) for r in seed.result.kept] == ["namespace", "cluster"]


def test_each_deletion_is_reported_as_an_event_in_order(seed: SeedTeardown) -> None:
    done = [e.message for e in seed.events.kinds("done") if e.step == teardown.STEP]
    assert done == ["deleted pod default/wi-demo-app", "deleted ServiceAccount default/wi-demo-account",
                    "deleted federated credential fc-wi-demo", done[3], "deleted managed identity mi-wi-demo",
                    "deleted resource group rg-wi-demo"]
    assert done[3].startswith("deleted role assignment ")
    kept = [e.message for e in seed.events.kinds("info") if e.step == teardown.STEP]
    assert kept[-1].startswith("kept cluster aks-wi-demo: never touched")


def test_the_clusters_oidc_issuer_and_workload_identity_stay_on(seed: SeedTeardown) -> None:
    assert seed.cluster is not None
    assert seed.cluster.oidc_issuer and seed.cluster.workload_identity and seed.cluster.issuer_url


def test_a_second_teardown_has_nothing_left_to_remove_and_changes_nothing(seed: SeedTeardown) -> None:
    assert teardown.pending(seed.second_items) == []
    assert shape(seed.second_items) == [("cluster", "keep")]
    assert seed.second_result.deleted == [] and seed.second_result.failed == []
    assert seed.after_second - seed.after_teardown == {}
    assert _outcomes(seed.session_json_after_second) == _outcomes(seed.session_json_after_first)


def test_acting_on_a_stale_preview_finds_everything_already_gone_which_is_success(seed: SeedTeardown) -> None:
    assert seed.stale_result.deleted == seed.result.deleted and seed.stale_result.failed == []
    assert seed.after_stale - seed.after_teardown == {}


def test_resume_after_a_teardown_builds_everything_again_as_this_sessions_own(seed: SeedTeardown) -> None:
    assert seed.resumed_state == DONE
    assert seed.after_resume - seed.after_apply == {}
    owned = {teardown.kind_of(c) for o in seed.session_resumed.outcomes.values() for c in o.created}
    assert owned == {"pod", "service-account", "federated-credential", "role-assignment", "identity",
                     "resource-group"}


def _outcomes(text: str) -> dict[str, Any]:
    """What the session says the steps and the teardown found and made (the login, redone by every reopening, and
    the time stamps aside)."""
    outcomes = json.loads(text)["outcomes"]
    outcomes.pop("login")
    return dict(outcomes)


def test_the_session_records_the_teardown_and_starts_over_with_nothing_created(seed: SeedTeardown) -> None:
    session = Session.from_json(seed.session_json_after_first, "after the first teardown")  # a valid session
    assert session.state == START  # reopened, the flow starts at the login step (resume builds it all again)
    assert seed.session_after.state == "login"
    assert all(o.created == [] for o in session.outcomes.values())
    record = session.outcomes[teardown.STEP]
    assert record.status == "done" and record.summary.startswith("Torn down at ")
    assert record.values["deleted"].splitlines() == seed.result.deleted
    for step in ("identity", "role", "federation", "trust", "deploy", "logs"):
        assert session.outcomes[step].status == "pending" and session.outcomes[step].values == {}
    assert session.outcomes["cluster"].status == "done"  # the cluster was not touched: its observations hold


# -- worlds that each test changes ---------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "sessions")


def test_what_existed_before_stays_and_a_pre_existing_service_account_loses_only_our_annotations(
        make_sandbox: Callable[..., Sandbox], store: SessionStore, tmp_path: Path) -> None:
    box = make_sandbox(kubelet_speed=KUBELET_SPEED)
    env = Env(box)
    from azure.mgmt.resource.resources import ResourceManagementClient

    ResourceManagementClient(env.sp_credential("fabrikam"), env.subscription_id("fabrikam"),
                             **env.client_kwargs()).resource_groups.create_or_update(
        "rg-shared-identities", {"location": "eastus", "tags": {"team": "platform"}})
    msi(env).user_assigned_identities.create_or_update("rg-shared-identities", "mi-shared",
                                                        {"location": "eastus", "tags": {"team": "platform"}})
    plan = seed_variant(tmp_path / "reuse.toml",
                        identity={"resource_group": "rg-shared-identities", "name": "mi-shared", "reuse": True})
    cloud = sandbox_cloud(box)
    session = Session("reuse", plan_mod.load(plan), Target("sandbox", cloud.endpoints_path))
    first = Engine(session, store, cloud)
    first.run_step("login")
    first.run_step("cluster")
    theirs = {"example.com/owner": "payments", CLIENT_ID_ANNOTATION: "will-be-replaced"}
    kube(first).create_namespaced_service_account("default", {
        "metadata": {"name": "wi-demo-account", "annotations": theirs, "labels": {"team": "payments"}}})
    assert first.run() == DONE, session.outcomes
    before = census(box)

    engine, recorder = signed_in(box, store, "reuse")
    items, result = torn_down(engine, recorder)

    assert shape(items) == [("pod", "delete"), ("service-account", "remove-annotations"), ("namespace", "keep"),
                            ("federated-credential", "delete"), ("role-assignment", "delete"), ("identity", "keep"),
                            ("resource-group", "keep"), ("cluster", "keep")]
    account_item = items[1]
    assert account_item.annotations == (CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION)
    assert "existed before this session" in account_item.reason
    assert all("existed before this session" in i.reason for i in items if i.kind in ("identity", "resource-group"))
    assert result.failed == [] and result.unannotated == [account_item.ref]
    assert census(box) - before == {"pods": -1, FIC: -1, ASSIGNMENT: -1}
    identity = msi(env).user_assigned_identities.get("rg-shared-identities", "mi-shared")
    assert identity.tags == {"team": "platform"}
    account = kube(engine).read_namespaced_service_account("wi-demo-account", "default")
    assert account.metadata.annotations == {"example.com/owner": "payments"}
    assert account.metadata.labels == {"team": "payments"}
    assert teardown.pending(teardown.preview(engine.ctx)) == []  # the annotations are ours no more


def test_resources_whose_marks_name_another_session_are_kept_with_the_reason(
        make_sandbox: Callable[..., Sandbox], store: SessionStore) -> None:
    box = make_sandbox(kubelet_speed=KUBELET_SPEED)
    env = Env(box)
    applied(box, store)
    engine, recorder = signed_in(box, store)
    identity = msi(env).user_assigned_identities.get("rg-wi-demo", "mi-wi-demo")
    msi(env).user_assigned_identities.update("rg-wi-demo", "mi-wi-demo", {
        "tags": {**identity.tags, "wi-wizard-session": "other-session"}})
    kube(engine).patch_namespaced_pod("wi-demo-app", "default",
                                      {"metadata": {"annotations": {"wi-wizard/session": "other-session"}}})
    from wizard.azure.arm import Arm

    # What a group holds, as `az resource list -g` says: top-level resources only (the identity's federated
    # credential and the subscription's role assignment are not in the list).
    assert [r.rsplit("/", 1)[-1] for r in Arm.for_side(engine.ctx, "identity").groups(
        env.subscription_id("fabrikam")).resources("rg-wi-demo")] == ["mi-wi-demo"]

    items, result = torn_down(engine, recorder)

    by_kind = {i.kind: i for i in items}
    assert by_kind["pod"].action == "keep" and "'other-session'" in by_kind["pod"].reason
    assert by_kind["identity"].action == "keep" and "session 'other-session' made it" in by_kind["identity"].reason
    group = by_kind["resource-group"]
    assert group.action == "keep" and "holds 1 other resource(s) (mi-wi-demo)" in group.reason
    assert result.failed == []
    assert names(box, IDENTITY) >= {"mi-wi-demo"} and "rg-wi-demo" in names(box, GROUP)
    assert kube(engine).read_namespaced_pod("wi-demo-app", "default") is not None
    assert [teardown.kind_of(r) for r in result.deleted] == ["service-account", "federated-credential",
                                                              "role-assignment"]
    session = store.load("seed")
    still_ours = [c for o in session.outcomes.values() for c in o.created]
    assert [teardown.kind_of(r) for r in still_ours] == ["resource-group"]  # the identity is someone else's now


def test_a_delete_the_login_may_not_do_fails_that_item_with_a_diagnosis_and_the_rest_goes_on(
        make_sandbox: Callable[..., Sandbox], store: SessionStore, capsys: pytest.CaptureFixture[str]) -> None:
    box = make_sandbox(kubelet_speed=KUBELET_SPEED)
    env = Env(box)
    applied(box, store)
    _demote_to_reader(env)
    engine, recorder = signed_in(box, store)

    items, result = torn_down(engine, recorder)

    assert shape(items) == SEED_ORDER
    failed = {teardown.kind_of(ref): why for ref, why in result.failed}
    assert set(failed) == {"federated-credential", "role-assignment", "identity"}
    assert failed["identity"].startswith("Not allowed to delete managed identity mi-wi-demo [AuthorizationFailed]")
    assert "may not delete" in failed["identity"] and "wi-wizard teardown seed" in failed["identity"]
    assert [teardown.kind_of(r) for r in result.deleted] == ["pod", "service-account"]
    assert "resource-group" in {teardown.kind_of(r) for r in result.kept}  # it still holds the identity
    assert [e for e in recorder.events if e.kind == "failed"]
    session = store.load("seed")
    record = session.outcomes[teardown.STEP]
    assert record.status == "failed" and record.diagnosis is not None
    left = {teardown.kind_of(c) for o in session.outcomes.values() for c in o.created}
    assert left == {"federated-credential", "role-assignment", "identity", "resource-group"}
    assert session.outcomes["identity"].values["client_id"]  # kept for the teardown that finishes the job

    again = teardown.command("seed", yes=True, as_json=True, store=store)  # the command: exit 1, JSON says why

    assert again == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and [teardown.kind_of(f["ref"]) for f in out["failed"]] == [
        "federated-credential", "role-assignment", "identity"]
    assert all(f["diagnosis"].startswith("Not allowed to delete") for f in out["failed"])


def _demote_to_reader(env: Env) -> None:
    """Fabrikam's automation principal makes itself a Reader and drops its own Owner assignment."""
    import uuid

    from azure.mgmt.authorization import AuthorizationManagementClient

    credential = env.sp_credential("fabrikam")
    token = credential.get_token("https://management.azure.com/.default").token
    payload = token.split(".")[1]
    oid = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["oid"]
    sub = env.subscription_id("fabrikam")
    scope = f"/subscriptions/{sub}"
    client = AuthorizationManagementClient(credential, sub, **env.client_kwargs())
    client.role_assignments.create(scope, str(uuid.uuid4()), {
        "role_definition_id": f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
        "principal_id": oid, "principal_type": "ServicePrincipal"})
    owner = [a for a in client.role_assignments.list_for_scope(scope, filter=f"principalId eq '{oid}'")
             if a.role_definition_id.lower().endswith(OWNER)]
    assert owner, "the automation principal was expected to be Owner"
    for assignment in owner:
        client.role_assignments.delete_by_id(assignment.id)


def test_a_namespace_the_session_created_goes_last_of_the_kubernetes_objects_once_nothing_else_is_in_it(
        make_sandbox: Callable[..., Sandbox], store: SessionStore, tmp_path: Path) -> None:
    box = make_sandbox(kubelet_speed=KUBELET_SPEED)
    applied(box, store, plan=seed_variant(tmp_path / "ns.toml", kubernetes={"namespace": "wi-teardown"}))
    engine, recorder = signed_in(box, store)
    core = kube(engine)
    core.create_namespaced_service_account("wi-teardown", {"metadata": {"name": "other-app"}})

    items, result = torn_down(engine, recorder)

    namespace = next(i for i in items if i.kind == "namespace")
    assert shape(items)[:3] == [("pod", "delete"), ("service-account", "delete"), ("namespace", "keep")]
    assert "holds serviceaccounts/other-app" in namespace.reason
    assert result.failed == [] and core.read_namespace("wi-teardown").status.phase == "Active"
    assert {teardown.kind_of(c) for o in store.load("seed").outcomes.values() for c in o.created} == {"namespace"}

    core.delete_namespaced_service_account("other-app", "wi-teardown")
    again, _ = signed_in(box, store)
    items, result = torn_down(again, Recorder())

    assert shape(items) == [("namespace", "delete"), ("cluster", "keep")]
    assert "annotated wi-wizard/session: seed" in items[0].reason and result.deleted == [items[0].ref]
    gone = core.list_namespace().items
    assert all(n.metadata.name != "wi-teardown" or n.metadata.deletion_timestamp for n in gone)
    assert teardown.pending(teardown.preview(again.ctx)) == []  # terminating counts as gone
