"""Fault profiles end to end: `wi-wizard apply` of the seed plan, as a user runs it (a subprocess against a private
sandbox with the profile on), rides out each profile Azure can throw at it — throttling, 5xx bursts, connection
resets, a slow cluster update, federated-credential and role-assignment propagation, and all of them at once —
finishing with exit 0, no traceback, exactly one of each resource, and a line saying what it is waiting for.

Times are compressed to seconds (the profiles' `=SECONDS`) so each run stays well under 30 s.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.engine.cli_support import SEED_PLAN, apply, census, no_traceback
from wizard.sandbox import Sandbox

# What the seed run adds to the default world (see test_crash_safety.py).
SEED_ADDS = {"Microsoft.Resources/resourceGroups": 1, "Microsoft.ManagedIdentity/userAssignedIdentities": 1,
             "Microsoft.Authorization/roleAssignments": 1, "pods": 1, "serviceaccounts": 1,
             "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials": 1}

# The wait line each profile makes the user see, as `  … <step> <what is waited for>`.
THROTTLED = "ARM asks to slow down (429); the call is retried after"
UNAVAILABLE = "ARM is unavailable (503); the call is retried"
RESET = "The connection to ARM was reset; the call is retried"
CLUSTER_UPDATE = "cluster     Updating cluster aks-wi-demo (OIDC issuer + workload identity): InProgress"
FIC_UNKNOWN = "trust       Entra ID does not know the new federated credential yet (AADSTS70021, propagation)"
ROLE_NOT_EFFECTIVE = "trust       The role assignment has not taken effect yet (ARM 403"

PROFILES: dict[str, tuple[str, list[str]]] = {
    "throttle": ("throttle=0.5", [THROTTLED]),
    "flaky": ("flaky", [UNAVAILABLE]),
    "drop": ("drop", [RESET]),
    "slow-lro": ("slow-lro=3", [CLUSTER_UPDATE]),
    "fic-propagation": ("fic-propagation=3", [FIC_UNKNOWN]),
    "role-propagation": ("role-propagation=3", [ROLE_NOT_EFFECTIVE]),
    # Everything at once (role propagation's wait is covered above: under these faults the steps between the role
    # assignment and the trust check take longer than a short propagation delay, so it has passed by then).
    "all at once": ("all=1,throttle=0.2,slow-lro=2,fic-propagation=5",
                    [THROTTLED, UNAVAILABLE, RESET, CLUSTER_UPDATE, FIC_UNKNOWN]),
}


def wait_lines(stdout: str) -> list[str]:
    return [line[len("  … "):] for line in stdout.splitlines() if line.startswith("  … ")]


@pytest.mark.parametrize("profile", list(PROFILES))
def test_apply_rides_out_the_fault_profile_showing_what_it_waits_for_and_makes_one_of_each_resource(
        make_sandbox: Callable[..., Sandbox], profile: str) -> None:
    spec, expected = PROFILES[profile]
    box = make_sandbox(faults=spec)
    fresh = census(box)

    run = apply(box, SEED_PLAN, "--session", "faulty")

    assert run.returncode == 0, run.stdout + run.stderr
    no_traceback(run)
    assert run.stderr == ""
    assert "Access proven" in run.stdout
    waits = wait_lines(run.stdout)
    for what in expected:
        assert any(what in line for line in waits), f"no wait line with {what!r} in:\n" + "\n".join(waits)
    assert census(box) - fresh == SEED_ADDS  # retried writes made nothing twice
