"""Sandbox capacity: requests per second the sandbox (its own process) serves to the real clients — an ARM GET
(a resource group, azure-mgmt-resource, one reused client) and a Kubernetes GET (a namespace, the kubernetes
client, one reused ApiClient) — sequentially and from 4 threads at once. The clients run in this process, so
the numbers are what a test or a demo can get, client costs included. Goal: ≥ 100 requests/s for each, i.e. a
seed run's ~50 requests cost the sandbox under 0.5 s: tests and demos are never sandbox-bound."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks.common import Row, ServedSandbox, median, temp_dir

GOAL = 100.0
THREADS = 4


def _rate(call: Callable[[], Any], requests: int, threads: int) -> float:
    started = time.monotonic()
    if threads == 1:
        for _ in range(requests):
            call()
    else:
        with ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(call) for _ in range(requests)]:
                future.result()
    return requests / (time.monotonic() - started)


def _arm(endpoints: dict[str, Any]) -> Callable[[], Any]:
    from azure.identity import ClientSecretCredential
    from azure.mgmt.resource.resources import ResourceManagementClient

    tenant = next(t for t in endpoints["tenants"] if t["name"] == "contoso")
    sp = tenant["service_principal"]
    credential = ClientSecretCredential(tenant["tenant_id"], sp["client_id"], sp["client_secret"],
                                        authority=endpoints["authority_host"], disable_instance_discovery=True,
                                        connection_verify=endpoints["ca_bundle"])
    client = ResourceManagementClient(credential, tenant["subscriptions"][0]["subscription_id"],
                                      base_url=endpoints["resource_manager"].rstrip("/"),
                                      credential_scopes=["https://management.azure.com/.default"],
                                      connection_verify=endpoints["ca_bundle"])
    return lambda: client.resource_groups.get("rg-wi-demo")


def _kube(endpoints: dict[str, Any]) -> Callable[[], Any]:
    from kubernetes import client, config

    new_client: Any = config.new_client_from_config  # untyped in the client
    api: Any = client.CoreV1Api(new_client(endpoints["kubeconfig"], context="aks-platform"))
    return lambda: api.read_namespace("default", _preload_content=False).data


def run(runs: int, quick: bool) -> list[Row]:
    requests = 50 if quick else 300
    rows: list[Row] = []
    with temp_dir("capacity") as home, ServedSandbox(home / "sandbox") as box:
        for label, make in (("ARM GET resource group", _arm), ("Kubernetes GET namespace", _kube)):
            call = make(box.endpoints)
            call()  # token, connection: not timed
            sequential = median([_rate(call, requests, 1) for _ in range(runs)])
            parallel = median([_rate(call, requests, THREADS) for _ in range(runs)])
            rows.append(Row(f"capacity: {label}", f"{sequential:,.0f} req/s sequential", f"{parallel:,.0f} req/s "
                            f"with {THREADS} threads", f"{parallel / sequential:.2f}× (threads/sequential)",
                            f"≥ {GOAL:.0f} req/s", min(sequential, parallel) >= GOAL,
                            f"{requests} requests per measurement, real SDK client reused"))
    return rows
