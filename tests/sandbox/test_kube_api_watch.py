"""Watch streams through the real kubernetes client's `watch.Watch` (and raw HTTPS where the client hides the
wire): initial ADDED events, resume from a resourceVersion, 410 Expired, timeoutSeconds, selectors, bookmarks
and the one-row Tables `kubectl get -w` reads."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import watch
from kubernetes.client.exceptions import ApiException

from tests.sandbox.kube_api_support import (
    cluster_path,
    core_v1,
    foreign_pod,
    https,
    make_namespace,
    record,
    temporary_namespace,
)
from wizard.sandbox import Sandbox

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


@pytest.fixture
def ns(v1: Any) -> Iterator[str]:
    with temporary_namespace(v1, "watch") as name:
        yield name


def events_of(stream: Any) -> list[tuple[str, str]]:
    return [(e["type"], e["object"].metadata.name) for e in stream]


def background(fn: Callable[[], Any], delay: float = 0.3) -> threading.Thread:
    def run() -> None:
        time.sleep(delay)
        fn()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_watch_sends_existing_objects_then_live_changes_and_closes_at_timeout(v1: Any, ns: str) -> None:
    v1.create_namespaced_config_map(ns, {"metadata": {"name": "before"}})

    def change() -> None:
        v1.create_namespaced_config_map(ns, {"metadata": {"name": "during"}})
        v1.patch_namespaced_config_map("during", ns, {"data": {"a": "b"}})
        v1.delete_namespaced_config_map("during", ns)

    thread = background(change)
    started = time.monotonic()
    seen = events_of(watch.Watch().stream(v1.list_namespaced_config_map, ns, timeout_seconds=2))
    elapsed = time.monotonic() - started
    thread.join()
    assert seen == [("ADDED", "before"), ("ADDED", "kube-root-ca.crt"), ("ADDED", "during"),
                    ("MODIFIED", "during"), ("DELETED", "during")]
    assert 1.5 < elapsed < 5, elapsed


def test_watch_from_a_resource_version_replays_only_later_changes(v1: Any, ns: str) -> None:
    v1.create_namespaced_config_map(ns, {"metadata": {"name": "old"}})
    listed = v1.list_namespaced_config_map(ns)
    v1.create_namespaced_config_map(ns, {"metadata": {"name": "new"}})
    v1.delete_namespaced_config_map("old", ns)
    stream = watch.Watch().stream(v1.list_namespaced_config_map, ns, timeout_seconds=1,
                                  resource_version=listed.metadata.resource_version)
    assert events_of(stream) == [("ADDED", "new"), ("DELETED", "old")]


def test_deleted_event_carries_a_newer_resource_version(v1: Any, ns: str) -> None:
    created = v1.create_namespaced_config_map(ns, {"metadata": {"name": "x"}})
    v1.delete_namespaced_config_map("x", ns)
    stream = watch.Watch().stream(v1.list_namespaced_config_map, ns, timeout_seconds=1,
                                  resource_version=created.metadata.resource_version)
    event = next(iter(stream))
    assert event["type"] == "DELETED"
    assert int(event["object"].metadata.resource_version) > int(created.metadata.resource_version)


def test_label_selector_turns_relabelling_into_added_and_deleted(v1: Any, ns: str) -> None:
    v1.create_namespaced_config_map(ns, {"metadata": {"name": "c", "labels": {"app": "web"}}})
    listed = v1.list_namespaced_config_map(ns)
    v1.patch_namespaced_config_map("c", ns, {"metadata": {"labels": {"app": "db"}}})
    v1.patch_namespaced_config_map("c", ns, {"metadata": {"labels": {"app": "web"}}})
    v1.patch_namespaced_config_map("c", ns, {"data": {"k": "v"}})
    stream = watch.Watch().stream(v1.list_namespaced_config_map, ns, label_selector="app=web", timeout_seconds=1,
                                  resource_version=listed.metadata.resource_version)
    assert events_of(stream) == [("DELETED", "c"), ("ADDED", "c"), ("MODIFIED", "c")]


def test_field_selector_watch_of_one_pod_like_kubectl_wait(v1: Any, ns: str) -> None:
    v1.create_namespaced_pod(ns, foreign_pod("one"))
    v1.create_namespaced_pod(ns, foreign_pod("two"))
    stream = watch.Watch().stream(v1.list_namespaced_pod, ns, field_selector="metadata.name=two", timeout_seconds=1)
    assert events_of(stream) == [("ADDED", "two")]


def test_watch_across_all_namespaces_sees_pods_of_every_namespace(v1: Any, ns: str) -> None:
    thread = background(lambda: v1.create_namespaced_pod(ns, foreign_pod("anywhere")))
    stream = watch.Watch().stream(v1.list_pod_for_all_namespaces, field_selector=f"metadata.namespace={ns}",
                                  timeout_seconds=2)
    thread.join()
    assert events_of(stream) == [("ADDED", "anywhere")]


def test_too_old_resource_version_is_410_expired(make_sandbox: Callable[..., Sandbox]) -> None:
    box = make_sandbox(watch_history=3)
    v1 = core_v1(box)
    ns = make_namespace(v1, "expiry")
    start = v1.list_namespaced_config_map(ns).metadata.resource_version
    for i in range(5):
        v1.create_namespaced_config_map(ns, {"metadata": {"name": f"c{i}"}})

    with pytest.raises(ApiException) as exc:
        list(watch.Watch().stream(v1.list_namespaced_config_map, ns, timeout_seconds=1, resource_version=start))
    assert exc.value.status == 410

    rec = record(box)
    raw = https(box, "GET", cluster_path(rec, f"/api/v1/namespaces/{ns}/configmaps?watch=true&resourceVersion="
                                              f"{start}&timeoutSeconds=1"), token=rec["user_token"])
    assert raw.status == 200
    event = json.loads(raw.body.splitlines()[0])
    assert event["type"] == "ERROR"
    assert event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"
    assert event["object"]["message"].startswith(f"too old resource version: {start} (")


def test_watch_parameter_parses_like_go_so_the_v36_spelling_works(sandbox: Sandbox, ns: str) -> None:
    rec = record(sandbox)
    for spelling in ("True",):  # what the v36 client sends
        raw = https(sandbox, "GET", cluster_path(rec, f"/api/v1/namespaces/{ns}/configmaps?watch={spelling}"
                                                      "&timeoutSeconds=1"), token=rec["user_token"])
        assert raw.headers["Content-Type"] == "application/json"
        assert [json.loads(line)["type"] for line in raw.body.splitlines()] == ["ADDED"], spelling
    bad = https(sandbox, "GET", cluster_path(rec, f"/api/v1/namespaces/{ns}/configmaps?watch=yes"),
                token=rec["user_token"])
    assert bad.status == 400


def test_bookmarks_carry_the_current_resource_version(sandbox: Sandbox, v1: Any, ns: str) -> None:
    rec = record(sandbox)
    raw = https(sandbox, "GET", cluster_path(rec, f"/api/v1/namespaces/{ns}/configmaps?watch=true&timeoutSeconds=1"
                                                  "&allowWatchBookmarks=true"), token=rec["user_token"])
    events = [json.loads(line) for line in raw.body.splitlines()]
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    bookmark = events[-1]["object"]
    assert bookmark["kind"] == "ConfigMap"
    assert int(bookmark["metadata"]["resourceVersion"]) >= int(events[0]["object"]["metadata"]["resourceVersion"])


def test_table_watch_sends_one_row_tables_with_headers_only_first(sandbox: Sandbox, v1: Any, ns: str) -> None:
    rec = record(sandbox)
    v1.create_namespaced_pod(ns, foreign_pod("a"))
    background(lambda: v1.create_namespaced_pod(ns, foreign_pod("b")))
    raw = https(sandbox, "GET", cluster_path(rec, f"/api/v1/namespaces/{ns}/pods?watch=true&timeoutSeconds=2"),
                token=rec["user_token"], headers={"Accept": TABLE})
    events = [json.loads(line) for line in raw.body.splitlines()]
    assert [(e["type"], e["object"]["rows"][0]["cells"][0]) for e in events] == [("ADDED", "a"), ("ADDED", "b")]
    assert all(e["object"]["kind"] == "Table" and len(e["object"]["rows"]) == 1 for e in events)
    assert [c["name"] for c in events[0]["object"]["columnDefinitions"]][:3] == ["Name", "Ready", "Status"]
    assert events[1]["object"]["columnDefinitions"] == []


def test_single_object_watch_path_narrows_to_that_name(sandbox: Sandbox, v1: Any, ns: str) -> None:
    rec = record(sandbox)
    v1.create_namespaced_config_map(ns, {"metadata": {"name": "only"}})
    raw = https(sandbox, "GET", cluster_path(rec, f"/api/v1/watch/namespaces/{ns}/configmaps/only?timeoutSeconds=1"),
                token=rec["user_token"])
    assert [json.loads(line)["object"]["metadata"]["name"] for line in raw.body.splitlines()] == ["only"]
