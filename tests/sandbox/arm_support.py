"""Helpers for the ARM tests: the real management clients for one tenant, raw requests through an SDK pipeline
(for what the typed clients hide: status codes, headers, raw bodies), and hand-made bearer tokens for the
authentication tests. Nothing here fakes Azure; every request goes to the sandbox over HTTPS."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest, HttpResponse

from tests.conftest import Env
from wizard.sandbox import Sandbox
from wizard.sandbox.arm import resourcegroups

SCENARIO = str(Path(__file__).resolve().parent / "data" / "arm-world.toml")
ARM_SCOPE = "https://management.azure.com/.default"


def unique(prefix: str) -> str:
    """A name no other test (or xdist worker sharing nothing but habits) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class StaticToken:
    """A TokenCredential handing out one fixed bearer token: how the tests present expired, forged or
    wrong-audience tokens to the real SDK pipeline."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)


def sp_credential(env: Env, tenant: str, display_name: str) -> Any:
    """A client-secret credential for any service principal of the world (endpoints.json names only one)."""
    from azure.identity import ClientSecretCredential

    found = app(env, display_name)
    return ClientSecretCredential(env.tenant_id(tenant), found["app_id"], found["secret"],
                                  disable_instance_discovery=True, **env.common())


def service_principal_object_id(env: Env, display_name: str) -> str:
    return str(app(env, display_name)["object_id"])


def app(env: Env, display_name: str) -> dict[str, Any]:
    """A service principal of the world (client ID, object ID, secret) by display name."""
    assert env.box.world is not None
    return next(a for a in env.box.world.store.values("apps") if a["display_name"] == display_name)


@dataclass
class Arm:
    """The five management clients of one tenant's subscription, built the way the wizard builds them."""

    env: Env
    tenant: str
    credential: Any
    subscription_id: str

    def _kw(self) -> dict[str, Any]:
        return self.env.client_kwargs()

    def subscriptions(self) -> Any:
        from azure.mgmt.resource.subscriptions import SubscriptionClient

        return SubscriptionClient(self.credential, **self._kw())

    def resources(self) -> Any:
        from azure.mgmt.resource.resources import ResourceManagementClient

        return ResourceManagementClient(self.credential, self.subscription_id, **self._kw())

    def msi(self) -> Any:
        from azure.mgmt.msi import ManagedServiceIdentityClient

        return ManagedServiceIdentityClient(self.credential, self.subscription_id, **self._kw())

    def authorization(self) -> Any:
        from azure.mgmt.authorization import AuthorizationManagementClient

        return AuthorizationManagementClient(self.credential, self.subscription_id, **self._kw())

    def aks(self) -> Any:
        from azure.mgmt.containerservice import ContainerServiceClient

        return ContainerServiceClient(self.credential, self.subscription_id, **self._kw())

    def raw(self, method: str, path: str, *, api_version: str | None = "2025-04-01", json: Any = None,
            content: bytes | None = None, headers: dict[str, str] | None = None) -> HttpResponse:
        """One request through azure-core's pipeline with the bearer-token policy and nothing else (no retries,
        no automatic provider registration), so the sandbox's answer arrives exactly as sent."""
        from azure.core import PipelineClient
        from azure.core.pipeline.policies import BearerTokenCredentialPolicy

        client: Any = PipelineClient(self.env.box.base_url,
                                     policies=[BearerTokenCredentialPolicy(self.credential, ARM_SCOPE)],
                                     transport=RequestsTransport(connection_verify=self.env.ca))
        params = {"api-version": api_version} if api_version else {}
        request = HttpRequest(method, self.env.box.base_url + path, params=params, json=json, content=content,
                              headers=headers)
        response: HttpResponse = client.send_request(request)
        response.read()
        return response

    @property
    def sub_scope(self) -> str:
        return f"/subscriptions/{self.subscription_id}"


def arm(env: Env, tenant: str, credential: Any = None, subscription: str | None = None) -> Arm:
    """Clients for the tenant's subscription named `subscription` (default: its first one)."""
    subs = env.tenants[tenant]["subscriptions"]
    chosen = next(s for s in subs if subscription in (None, s["name"]))
    return Arm(env, tenant, credential or env.sp_credential(tenant), str(chosen["subscription_id"]))


def anonymous(box: Sandbox) -> Callable[..., HttpResponse]:
    """Requests with no Authorization header at all, through azure-core's own pipeline and transport."""
    from azure.core import PipelineClient

    client: Any = PipelineClient(box.base_url, transport=RequestsTransport(connection_verify=box.ca_bundle))

    def send(method: str, path: str, **params: str) -> HttpResponse:
        response: HttpResponse = client.send_request(HttpRequest(method, box.base_url + path, params=params))
        response.read()
        return response

    return send


def error_code(exc: BaseException) -> str | None:
    error = getattr(exc, "error", None)
    return getattr(error, "code", None)


def wait_until(check: Callable[[], bool], timeout: float = 15.0, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return check()


@dataclass
class ScratchGroups:
    """Resource groups a test makes in the shared session world; removed with everything in them afterwards, so
    other tests listing that world's groups, identities or role assignments see it as seeded."""

    made: list[str] = field(default_factory=list)

    def make(self, client: Arm, location: str = "eastus") -> str:
        name = unique("rg-scratch")
        client.resources().resource_groups.create_or_update(name, {"location": location})
        return self.track(client, name)

    def track(self, client: Arm, name: str) -> str:
        self.made.append(resourcegroups.rg_id(client.subscription_id, name))
        return name


def scratch_groups(env: Env) -> Iterator[ScratchGroups]:
    """The body of each test module's `scratch` fixture."""
    groups = ScratchGroups()
    yield groups
    assert env.box.world is not None
    for rg in groups.made:
        resourcegroups.delete_tree(env.box.world, rg)
