"""`pods/log` through the real kubernetes client. The lines come from the cluster's PodApi (the interface the
pod runtime uses), on pods bound to a node no kubelet serves, so each test decides exactly what was written."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from tests.sandbox.kube_api_support import (
    foreign_pod,
    on_loop,
    pod_api,
    record,
    running_status,
    status_of,
    temporary_namespace,
)
from wizard.sandbox import Sandbox


@pytest.fixture
def ns(v1: Any) -> Iterator[str]:
    with temporary_namespace(v1, "logs") as name:
        yield name


@pytest.fixture
def api(sandbox: Sandbox) -> Any:
    return pod_api(sandbox, record(sandbox))


def start(sandbox: Sandbox, v1: Any, api: Any, ns: str, name: str, *lines: str,
          containers: tuple[str, ...] = ("app",)) -> str:
    """A running pod whose first container has written `lines`; returns its UID."""
    uid: str = v1.create_namespaced_pod(ns, foreign_pod(name, containers)).metadata.uid
    status = running_status(containers[0])
    status["containerStatuses"] = [dict(status["containerStatuses"][0], name=c) for c in containers]
    on_loop(sandbox, lambda: api.update_pod_status(ns, name, uid, status))
    for line in lines:
        on_loop(sandbox, lambda text=line: api.append_log(uid, containers[0], text))
    return uid


def read(v1: Any, name: str, ns: str, **kwargs: Any) -> str:
    resp = v1.read_namespaced_pod_log(name, ns, _preload_content=False, **kwargs)
    try:
        return str(resp.data.decode())
    finally:
        resp.release_conn()


def test_log_returns_the_lines_as_plain_text(sandbox: Sandbox, v1: Any, api: Any, ns: str) -> None:
    start(sandbox, v1, api, ns, "p", "limit: {}", "usage: {}")
    resp = v1.read_namespaced_pod_log("p", ns, _preload_content=False)
    assert resp.headers["Content-Type"].startswith("text/plain")
    assert resp.data == b"limit: {}\nusage: {}\n"


def test_tail_lines_timestamps_and_limit_bytes(sandbox: Sandbox, v1: Any, api: Any, ns: str) -> None:
    start(sandbox, v1, api, ns, "p", "one", "two", "three")
    assert read(v1, "p", ns, tail_lines=2) == "two\nthree\n"
    assert read(v1, "p", ns, tail_lines=0) == ""
    assert read(v1, "p", ns, limit_bytes=6) == "one\ntw"
    stamped = read(v1, "p", ns, timestamps=True).splitlines()
    assert [line.split(" ", 1)[1] for line in stamped] == ["one", "two", "three"]
    for line in stamped:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z", line.split(" ", 1)[0])


def test_since_seconds_keeps_only_recent_lines(sandbox: Sandbox, v1: Any, api: Any, ns: str) -> None:
    uid = start(sandbox, v1, api, ns, "p", "old")
    time.sleep(2.2)
    on_loop(sandbox, lambda: api.append_log(uid, "app", "new"))
    assert read(v1, "p", ns, since_seconds=1) == "new\n"


def test_follow_streams_new_lines_and_ends_when_the_container_terminates(
        sandbox: Sandbox, v1: Any, api: Any, ns: str) -> None:
    uid = start(sandbox, v1, api, ns, "p", "first")
    received: list[str] = []
    done = threading.Event()

    def follow() -> None:
        resp = v1.read_namespaced_pod_log("p", ns, follow=True, _preload_content=False, _request_timeout=30)
        try:
            for chunk in resp.stream(64):
                received.extend(line for line in chunk.decode().splitlines() if line)
        finally:
            resp.release_conn()
            done.set()

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    _until(lambda: received == ["first"])
    on_loop(sandbox, lambda: api.append_log(uid, "app", "second"))
    _until(lambda: received == ["first", "second"])
    assert not done.is_set()
    on_loop(sandbox, lambda: api.close_log(uid, "app"))
    assert done.wait(10), "the stream did not end when the container terminated"
    assert received == ["first", "second"]


def test_follow_with_the_aio_client_reads_lines_as_they_come(sandbox: Sandbox, api: Any, v1: Any, ns: str) -> None:
    import asyncio

    from kubernetes.aio import client as aio_client
    from kubernetes.aio import config as aio_config

    uid = start(sandbox, v1, api, ns, "p", "a")

    async def follow() -> list[str]:
        async with await aio_config.new_client_from_config(config_file=sandbox.kubeconfig,
                                                           context="aks-platform") as client:
            core = aio_client.CoreV1Api(client)
            resp = await core.read_namespaced_pod_log_without_preload_content("p", ns, follow=True)
            lines = []
            async for raw in resp.content:
                lines.append(raw.decode().rstrip("\n"))
                if len(lines) == 1:  # the sandbox's loop is another thread: hand it the runtime's next steps
                    await asyncio.get_running_loop().run_in_executor(
                        None, lambda: on_loop(sandbox, lambda: (api.append_log(uid, "app", "b"),
                                                                api.close_log(uid, "app"))))
            return lines

    assert asyncio.run(follow()) == ["a", "b"]


def test_follow_of_a_terminated_container_returns_its_lines_and_ends(
        sandbox: Sandbox, v1: Any, api: Any, ns: str) -> None:
    uid = start(sandbox, v1, api, ns, "p", "bye")
    on_loop(sandbox, lambda: api.close_log(uid, "app"))
    assert read(v1, "p", ns, follow=True) == "bye\n"


def test_waiting_container_is_400_waiting_to_start(sandbox: Sandbox, v1: Any, api: Any, ns: str) -> None:
    uid = v1.create_namespaced_pod(ns, foreign_pod("p")).metadata.uid
    with pytest.raises(ApiException) as exc:
        read(v1, "p", ns)
    body = status_of(exc.value)
    assert (exc.value.status, body["reason"]) == (400, "BadRequest")
    assert body["message"] == 'container "app" in pod "p" is waiting to start: ContainerCreating'
    status = {"phase": "Pending", "containerStatuses": [{"name": "app", "ready": False, "restartCount": 0,
                                                         "image": "x", "imageID": "",
                                                         "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}
    on_loop(sandbox, lambda: api.update_pod_status(ns, "p", uid, status))
    with pytest.raises(ApiException) as exc:
        read(v1, "p", ns)
    assert status_of(exc.value)["message"] == ('container "app" in pod "p" is waiting to start: trying and failing '
                                               "to pull image")


def test_multi_container_pod_needs_a_container_name(sandbox: Sandbox, v1: Any, api: Any, ns: str) -> None:
    start(sandbox, v1, api, ns, "p", "from app", containers=("app", "sidecar"))
    with pytest.raises(ApiException) as exc:
        read(v1, "p", ns)
    assert status_of(exc.value)["message"] == ("a container name must be specified for pod p, choose one of: "
                                               "[app sidecar]")
    assert read(v1, "p", ns, container="app") == "from app\n"
    assert read(v1, "p", ns, container="sidecar") == ""
    with pytest.raises(ApiException) as exc:
        read(v1, "p", ns, container="nope")
    assert status_of(exc.value)["message"] == "container nope is not valid for pod p"


def test_pod_recreated_under_the_same_name_does_not_replay_old_logs(
        sandbox: Sandbox, v1: Any, api: Any, ns: str) -> None:
    start(sandbox, v1, api, ns, "again", "from the first pod")
    v1.delete_namespaced_pod("again", ns, grace_period_seconds=0)
    start(sandbox, v1, api, ns, "again", "from the second pod")
    assert read(v1, "again", ns) == "from the second pod\n"


def test_restarted_container_keeps_the_previous_instance_for_previous_true(
        sandbox: Sandbox, v1: Any, api: Any, ns: str) -> None:
    uid = start(sandbox, v1, api, ns, "p", "run 1")
    on_loop(sandbox, lambda: api.close_log(uid, "app"))
    status = running_status()
    status["containerStatuses"][0]["restartCount"] = 1
    status["containerStatuses"][0]["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error",
                                                                  "containerID": "containerd://1"}}
    on_loop(sandbox, lambda: (api.update_pod_status(ns, "p", uid, status), api.append_log(uid, "app", "run 2")))
    assert read(v1, "p", ns) == "run 2\n"
    assert read(v1, "p", ns, previous=True) == "run 1\n"


def test_previous_without_a_terminated_instance_is_400(sandbox: Sandbox, v1: Any, api: Any, ns: str) -> None:
    start(sandbox, v1, api, ns, "p", "x")
    with pytest.raises(ApiException) as exc:
        read(v1, "p", ns, previous=True)
    assert status_of(exc.value)["message"] == 'previous terminated container "app" in pod "p" not found'


def test_invalid_log_options_are_422(sandbox: Sandbox, v1: Any, api: Any, ns: str) -> None:
    start(sandbox, v1, api, ns, "p", "x")
    with pytest.raises(ApiException) as exc:
        read(v1, "p", ns, tail_lines=-1)
    assert exc.value.status == 422


def test_log_of_a_missing_pod_is_404(v1: Any, ns: str) -> None:
    with pytest.raises(ApiException) as exc:
        read(v1, "ghost", ns)
    assert status_of(exc.value)["message"] == 'pods "ghost" not found'


def test_lines_are_kept_per_uid_and_container_under_the_state_dir(
        sandbox: Sandbox, v1: Any, api: Any, ns: str) -> None:
    uid = start(sandbox, v1, api, ns, "p", "kept")
    path = Path(sandbox.state_dir) / "pods" / uid / "app.log"
    stamp, _, text = path.read_text().rstrip("\n").partition(" ")
    assert text == "kept" and stamp.endswith("Z")
    v1.delete_namespaced_pod("p", ns, grace_period_seconds=0)
    assert not path.exists(), "a removed pod's logs go with it"


def _until(condition: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")
