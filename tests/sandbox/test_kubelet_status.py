"""The kubelet's reporting helpers: image references as containerd resolves them, stable pod addresses, back-off
pacing, container records through a restart and pod conditions."""

from __future__ import annotations

import ipaddress

import pytest

from wizard.sandbox.kube import kubelet_status as ks
from wizard.sandbox.kube.kubelet import Backoff


@pytest.mark.parametrize(("image", "ref"), [
    ("busybox", "docker.io/library/busybox:latest"),
    ("nginx:1.27", "docker.io/library/nginx:1.27"),
    ("bitnami/kubectl", "docker.io/bitnami/kubectl:latest"),
    ("ttl.sh/wi-demo-app:1h", "ttl.sh/wi-demo-app:1h"),
    ("localhost:5000/app", "localhost:5000/app:latest"),
    ("mcr.microsoft.com/azure-cli@sha256:abc", "mcr.microsoft.com/azure-cli@sha256:abc"),
])
def test_image_references_are_fully_qualified_like_containerd(image: str, ref: str) -> None:
    assert ks.reference(image) == ref


def test_image_id_names_the_repository_and_a_stable_digest() -> None:
    image_id = ks.image_id("ttl.sh/wi-demo-app:1h")
    assert image_id.startswith("ttl.sh/wi-demo-app@sha256:")
    assert image_id == ks.image_id("ttl.sh/wi-demo-app:1h")


def test_pod_ips_are_in_the_overlay_pod_cidr() -> None:
    ip = ipaddress.ip_address(ks.pod_ip("5f0c1b7e-0000-4000-8000-000000000001"))
    assert ip in ipaddress.ip_network("10.244.0.0/16")


def test_crash_back_off_restarts_at_once_then_doubles_from_10s_to_300s() -> None:
    backoff = Backoff()
    assert [backoff.next() for _ in range(8)] == [0.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0]
    backoff.reset()
    assert backoff.next() == 0.0


def test_container_record_through_a_crash_keeps_the_last_termination() -> None:
    record = ks.ContainerRecord.from_spec({"name": "app", "image": "ttl.sh/wi-demo:1h"}, None, "ContainerCreating")
    record.container_id = "containerd://" + "0" * 64
    record.running("2026-01-01T00:00:00Z")
    assert record.status()["ready"] and record.status()["started"]

    record.terminated(1, "2026-01-01T00:00:00Z", "2026-01-01T00:00:05Z")
    record.retire()
    record.restart_count += 1
    record.waiting("CrashLoopBackOff", "back-off 10s restarting failed container=app pod=p_default(u)")

    status = record.status()
    assert status["lastState"]["terminated"]["reason"] == "Error"
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert (status["restartCount"], status["ready"], status["started"]) == (1, False, False)


def test_conditions_keep_their_transition_time_until_the_status_changes() -> None:
    conditions = ks.Conditions(None)
    conditions.set("Ready", False, "t1", "ContainersNotReady", "containers with unready status: [app]")
    conditions.set("Ready", False, "t2", "ContainersNotReady", "containers with unready status: [app]")
    assert conditions.items()[0]["lastTransitionTime"] == "t1"
    conditions.set("Ready", True, "t3")
    assert conditions.items()[0] == {"type": "Ready", "status": "True", "lastProbeTime": None,
                                     "lastTransitionTime": "t3"}
