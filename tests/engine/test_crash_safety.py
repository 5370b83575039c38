"""Crash safety: `wi-wizard apply` SIGKILLed at any point of the seed run, then `wi-wizard resume NAME --headless`,
proves access with exactly one of each resource, and the session lists what this session created — even when the
kill came between a resource's creation and the session save (the tags, descriptions and annotations the wizard
writes are then the only record).

The kill points are the program's own hooks (`WI_WIZARD_CRASH_AT`, wizard/crashpoint.py): `boundary:<step>` after a
step's outcome was saved and before the flow moves on, for every step; `applied:<step>` after a step's apply
returned and before the save, for every step that creates or changes something; and inside the long parts of a
step: `accepted:cluster` (the cluster update's PUT accepted, nothing saved), `lro:cluster` (while that operation
runs), `wait:trust` (the trust check waiting out federated-credential propagation), `starting:logs` (the pod there,
its container not yet running) and `streaming:logs` (a log line read, no verdict yet). One private sandbox per point,
slowed where a point needs time to happen in (a slow LRO, a propagation delay, a slow kubelet).

CI runs a sample covering every kind of point (about half the matrix); the whole matrix runs with
`WI_WIZARD_FULL_MATRIX=1 .venv/bin/pytest -n 2 tests/engine/test_crash_safety.py`.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any

import pytest

from tests.engine.cli_support import SEED_PLAN, apply, arm_resources, census, kube_keys, no_traceback, wizard
from wizard.flow import ORDER
from wizard.sandbox import Sandbox
from wizard.session import Session, SessionStore

SESSION = "crash"
CREATING_STEPS = ("cluster", "identity", "role", "federation", "trust", "deploy")  # trust creates the ServiceAccount
# Each point, with the sandbox settings that give it time to happen in (a fast sandbox finishes these at once).
INSIDE_STEPS: dict[str, dict[str, Any]] = {
    "accepted:cluster": {},
    "lro:cluster": {"faults": "slow-lro=3"},
    "wait:trust": {"faults": "fic-propagation=3"},
    "starting:logs": {"kubelet_speed": 0.5},
    "streaming:logs": {},
}
ALL_POINTS: dict[str, dict[str, Any]] = {**{f"boundary:{step}": {} for step in ORDER},
                                         **{f"applied:{step}": {} for step in CREATING_STEPS}, **INSIDE_STEPS}
# Every point inside a step, and boundaries and saves spread over the flow's start, middle and end.
SAMPLE = {"boundary:login", "boundary:role", "boundary:deploy", "applied:cluster", "applied:federation",
          "applied:trust", *INSIDE_STEPS}
FULL_MATRIX = os.environ.get("WI_WIZARD_FULL_MATRIX") == "1"
POINTS = [point for point in ALL_POINTS if FULL_MATRIX or point in SAMPLE]

IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
GROUP_TYPE = "Microsoft.Resources/resourceGroups"
ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"
FIC_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
# What the seed run adds to the default world, whether or not it was interrupted.
SEED_ADDS = {GROUP_TYPE: 1, IDENTITY_TYPE: 1, ASSIGNMENT_TYPE: 1, FIC_TYPE: 1, "pods": 1, "serviceaccounts": 1}


def only(items: list[Any], what: str) -> Any:
    assert len(items) == 1, f"expected exactly one {what}, found {len(items)}: {items}"
    return items[0]


def crashed_session() -> Session:
    return SessionStore().load(SESSION)


@pytest.mark.parametrize("point", POINTS)
def test_a_run_killed_at_any_point_is_finished_by_resume_with_one_of_each_resource_all_listed_as_this_sessions(
        make_sandbox: Callable[..., Sandbox], point: str) -> None:
    box = make_sandbox(**ALL_POINTS[point])
    fresh = census(box)
    kind, step = point.split(":")

    killed = apply(box, SEED_PLAN, "--session", SESSION, env={"WI_WIZARD_CRASH_AT": point})

    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    at_crash = crashed_session()
    assert at_crash.state == step  # the flow had not moved on
    saved = at_crash.outcomes.get(step)
    assert (saved.status if saved else "pending") == ("done" if kind == "boundary" else "pending")

    resumed = wizard("resume", SESSION, "--headless")

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    no_traceback(resumed)
    assert "Access proven" in resumed.stdout
    assert census(box) - fresh == SEED_ADDS  # nothing twice, nothing missing

    identity = only([i for i in arm_resources(box, IDENTITY_TYPE) if i["name"] == "mi-wi-demo"], "identity")
    group_id = identity["id"].rsplit("/providers/", 1)[0].lower()
    group = only([g for g in arm_resources(box, GROUP_TYPE) if g["id"].lower() == group_id], "identity's group")
    principal = identity["properties"]["principalId"]
    assignment = only([a for a in arm_resources(box, ASSIGNMENT_TYPE) if a["properties"]["principalId"] == principal],
                      "role assignment of the identity")
    fic = only(arm_resources(box, FIC_TYPE), "federated credential")
    assert only(kube_keys(box, "pods"), "pod") == "default/wi-demo-app"
    assert "default/wi-demo-account" in kube_keys(box, "serviceaccounts")

    session = crashed_session()
    assert session.state == "done"
    created = {name: {c.lower() for c in outcome.created} for name, outcome in session.outcomes.items()}
    assert {identity["id"].lower(), group["id"].lower()} <= created["identity"]
    assert assignment["id"].lower() in created["role"]
    assert fic["id"].lower() in created["federation"]
    cluster_id = session.outcomes["cluster"].values["cluster_id"].lower()
    listed = set().union(*created.values())
    assert listed == {identity["id"].lower(), group["id"].lower(), assignment["id"].lower(), fic["id"].lower(),
                      f"{cluster_id}/k8s/api/v1/namespaces/default/serviceaccounts/wi-demo-account",
                      f"{cluster_id}/k8s/api/v1/namespaces/default/pods/wi-demo-app"}  # and nothing it did not make


def test_the_matrix_kills_at_every_step_boundary_every_save_and_inside_the_long_steps() -> None:
    assert len(ALL_POINTS) >= 12
    assert {p.split(":")[1] for p in ALL_POINTS if p.startswith("boundary:")} == set(ORDER)
    assert set(ALL_POINTS) >= SAMPLE, "the CI sample names only real points"
    assert {p.split(":")[0] for p in SAMPLE} == {p.split(":")[0] for p in ALL_POINTS}, "every kind is sampled"
