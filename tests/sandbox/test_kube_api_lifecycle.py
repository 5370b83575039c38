"""A cluster's life around its API: a sandbox restart keeps the objects, resourceVersion counter, logs and signing
key (only the watch history is gone, so resuming a watch from before the restart is 410 Expired — clients relist,
as they must); deleting the managed cluster in ARM takes its API and objects away."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from kubernetes import watch
from kubernetes.client.exceptions import ApiException

from tests.conftest import Env
from tests.sandbox.kube_api_support import (
    DEMO,
    cluster_path,
    core_v1,
    foreign_pod,
    https,
    on_loop,
    pod_api,
    record,
    running_status,
)
from wizard.sandbox import Sandbox


def test_restart_keeps_objects_logs_and_keys_but_not_watch_history(
        make_sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    state = tmp_path / "state"
    box = make_sandbox(state_dir=state)
    v1 = core_v1(box)
    v1.create_namespace({"metadata": {"name": "kept"}})
    cm = v1.create_namespaced_config_map("kept", {"metadata": {"name": "cfg"}, "data": {"k": "v"}})
    uid = v1.create_namespaced_pod("kept", foreign_pod("p")).metadata.uid
    api = pod_api(box, record(box))
    on_loop(box, lambda: (api.update_pod_status("kept", "p", uid, running_status()),
                          api.append_log(uid, "app", "before the restart")))
    rec = record(box)
    jwks = https(box, "GET", cluster_path(rec, "/openid/v1/jwks"), token=rec["user_token"]).json()
    old_rv = v1.list_namespaced_config_map("kept").metadata.resource_version
    v1.patch_namespaced_config_map("cfg", "kept", {"data": {"k": "changed before the restart"}})
    box.stop()

    again = make_sandbox(state_dir=state)
    v1 = core_v1(again)
    kept = v1.read_namespaced_config_map("cfg", "kept")
    assert kept.metadata.uid == cm.metadata.uid and kept.data == {"k": "changed before the restart"}
    assert v1.read_namespaced_pod("p", "kept").status.phase == "Running"
    assert v1.read_namespaced_pod_log("p", "kept", _preload_content=False).data == b"before the restart\n"
    rec = record(again)
    assert https(again, "GET", cluster_path(rec, "/openid/v1/jwks"), token=rec["user_token"]).json() == jwks

    later = v1.create_namespaced_config_map("kept", {"metadata": {"name": "later"}})
    assert int(later.metadata.resource_version) > int(old_rv), "resourceVersions never go backwards"
    # The change made after old_rv happened before the restart: that history is gone.
    with pytest.raises(ApiException) as exc:
        list(watch.Watch().stream(v1.list_namespaced_config_map, "kept", timeout_seconds=1, resource_version=old_rv))
    assert exc.value.status == 410
    fresh = v1.list_namespaced_config_map("kept").metadata.resource_version
    stream = watch.Watch().stream(v1.list_namespaced_config_map, "kept", timeout_seconds=1, resource_version=fresh)
    assert list(stream) == []


def test_deleting_the_managed_cluster_in_arm_removes_its_api_and_objects(
        make_sandbox: Callable[..., Sandbox], make_env: Callable[[Sandbox], Env]) -> None:
    from azure.mgmt.containerservice import ContainerServiceClient

    box = make_sandbox()
    env = make_env(box)
    v1 = core_v1(box, DEMO)
    v1.create_namespaced_config_map("default", {"metadata": {"name": "doomed"}})
    rec = record(box, DEMO)
    assert box.world.store.keys(f"k8s:{rec['key']}")

    aks = ContainerServiceClient(env.sp_credential("contoso"), env.subscription_id("contoso"), **env.client_kwargs())
    aks.managed_clusters.begin_delete("rg-wi-demo", DEMO).result()

    answer = https(box, "GET", cluster_path(rec, "/api/v1/namespaces"), token=rec["user_token"])
    assert answer.status == 404 and answer.json()["kind"] == "Status"
    deadline = time.monotonic() + 5
    while box.world.store.keys(f"k8s:{rec['key']}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert box.world.store.keys(f"k8s:{rec['key']}") == []
