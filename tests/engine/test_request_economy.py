"""The engine reads each thing once: a step's apply uses what its check has just read, a headless run's deploy step
what the trust step has just made (and its logs step the pod the deploy step made), and the login what the tenant
lookup has just fetched — but nothing crosses steps run one at a time (the TUI, where minutes may pass between
them), and nothing is taken twice."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tests.engine.cli_support import SEED_PLAN
from tests.engine.support import sandbox_cloud
from wizard import plan as plan_mod
from wizard.engine import Engine
from wizard.flow import DONE, ORDER
from wizard.sandbox import Sandbox
from wizard.session import Session, SessionStore, Target
from wizard.steps.base import Observations

IDENTITY = "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi-wi-demo"
K8S_NS = "/api/v1/namespaces/default"


def _engine(box: Sandbox, home: Path) -> Engine:
    cloud = sandbox_cloud(box)
    plan = plan_mod.load(SEED_PLAN)
    session = Session("economy", plan, Target("sandbox", cloud.endpoints_path))
    return Engine(session, SessionStore(home / "sessions"), cloud)


def _gets(box: Sandbox) -> Counter[str]:
    assert box.world is not None
    return Counter(r.path for r in list(box.world.requests) if r.method == "GET")


def _count(gets: Counter[str], suffix: str) -> int:
    return sum(n for path, n in gets.items() if path.endswith(suffix))


def test_a_headless_run_reads_nothing_again_that_it_has_just_read_or_written(
        make_sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    box = make_sandbox()
    engine = _engine(box, tmp_path)

    assert engine.run() == DONE

    gets = _gets(box)
    # login: each domain's OpenID configuration once; MSAL does not read it again under the tenant ID
    assert _count(gets, "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration") == 1
    assert _count(gets, "/fabrikam.onmicrosoft.com/v2.0/.well-known/openid-configuration") == 1
    login = engine.session.logins
    for tenant_id in {login["cluster"].tenant_id, login["identity"].tenant_id}:
        assert _count(gets, f"/{tenant_id}/v2.0/.well-known/openid-configuration") == 0, tenant_id
    # ARM: the identity, its credentials and the assignments are read by the checks only (the token was accepted
    # at once, so the trust check did not read the credentials either)
    assert _count(gets, IDENTITY) == 1
    assert _count(gets, IDENTITY + "/federatedIdentityCredentials") == 1
    assert _count(gets, "/providers/Microsoft.Authorization/roleAssignments") == 1
    # Kubernetes: the deploy step takes the namespace and the ServiceAccount the trust step has just read/made
    assert _count(gets, K8S_NS) == 1
    assert _count(gets, K8S_NS + "/serviceaccounts/wi-demo-account") == 1  # trust's lookup (404)
    assert _count(gets, K8S_NS + "/pods/wi-demo-app") == 1, "the deploy check's (404); logs takes the pod made"
    assert _count(gets, K8S_NS + "/events") <= 3  # on the pod's state changes, not on each update


def test_steps_run_one_at_a_time_share_no_observations(make_sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    box = make_sandbox()
    engine = _engine(box, tmp_path)

    for name in ORDER:
        engine.run_step(name)

    gets = _gets(box)
    assert _count(gets, K8S_NS) == 2, "the deploy step reads the namespace itself"
    assert _count(gets, K8S_NS + "/serviceaccounts/wi-demo-account") == 2, "and the ServiceAccount"
    assert _count(gets, K8S_NS + "/pods/wi-demo-app") == 2, "the logs check reads the pod itself"
    assert _count(gets, IDENTITY) == 1, "a step's apply still uses its own check's reading"


def test_an_observation_is_taken_once_and_only_by_the_thread_that_opened_the_memo() -> None:
    memo = Observations()
    memo.record("k", "stale")  # no memo open: nothing is kept
    assert memo.take("k", lambda: "read") == "read"

    assert memo.open() and not memo.open(), "a memo already open stays as it is"
    memo.record("k", None)  # "does not exist" is an observation too
    seen: list[object] = []
    other = threading.Thread(target=lambda: seen.append(memo.take("k", lambda: "read")))
    other.start()
    other.join()
    assert seen == ["read"], "another thread neither sees nor consumes it"
    assert memo.take("k", lambda: "read") is None
    assert memo.take("k", lambda: "read") == "read", "taken once: the next reader reads"

    memo.record("j", "kept")
    memo.close()
    assert memo.take("j", lambda: "read") == "read", "closing forgets everything"
