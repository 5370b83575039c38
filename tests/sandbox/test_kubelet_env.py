"""How the kubelet builds a container's environment and volumes (pure functions: no server needed): Kubernetes
precedence between envFrom and env, valueFrom sources, `$(VAR)` expansion, the kubelet's error texts, projected
token files and the mapping of in-container paths to the host folders the processes really read."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from wizard.sandbox.kube.kubelet_env import (
    ConfigError,
    MountError,
    container_mounts,
    expand,
    materialize_volumes,
    resolve_env,
    translate,
)

POD: dict[str, Any] = {
    "metadata": {"name": "wi-demo-app", "namespace": "demo", "uid": "u-1", "labels": {"app": "wi"},
                 "annotations": {"team": "platform"}},
    "spec": {"nodeName": "aks-nodepool1-1-vmss000000", "serviceAccountName": "wi-demo-account"},
    "status": {"podIP": "10.244.1.7", "hostIP": "10.224.0.4"},
}


def objects(**by_key: dict[str, Any]) -> Any:
    """A lookup over ConfigMaps/Secrets given as `configmaps__name=...` keywords."""
    def lookup(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        assert namespace == "demo"
        return by_key.get(f"{kind}__{name}")
    return lookup


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_env_beats_env_from_and_later_env_from_sources_win() -> None:
    lookup = objects(configmaps__a={"data": {"AZURE_TENANT_ID": "from-a", "ONLY_A": "1"}},
                     configmaps__b={"data": {"AZURE_TENANT_ID": "from-b"}})
    container = {"envFrom": [{"configMapRef": {"name": "a"}}, {"configMapRef": {"name": "b"}}],
                 "env": [{"name": "AZURE_TENANT_ID", "value": "cluster-tenant"}]}

    env, _ = resolve_env(POD, container, lookup)

    assert env["AZURE_TENANT_ID"] == "cluster-tenant"
    assert env["ONLY_A"] == "1"
    container["env"] = []
    assert resolve_env(POD, container, lookup)[0]["AZURE_TENANT_ID"] == "from-b"


def test_env_from_secret_with_prefix_decodes_and_skips_invalid_names() -> None:
    lookup = objects(secrets__s={"data": {"TOKEN": b64("t0k"), "bad key": b64("x")}})

    env, skipped = resolve_env(POD, {"envFrom": [{"secretRef": {"name": "s"}, "prefix": "APP_"}]}, lookup)

    assert env["APP_TOKEN"] == "t0k"
    assert skipped == ["APP_bad key"]


def test_field_refs_resolve_pod_metadata_spec_and_status() -> None:
    refs = {"NAME": "metadata.name", "NS": "metadata.namespace", "UID": "metadata.uid",
            "LABEL": "metadata.labels['app']", "NOTE": "metadata.annotations['team']", "NODE": "spec.nodeName",
            "SA": "spec.serviceAccountName", "IP": "status.podIP", "HOST": "status.hostIP"}
    container = {"env": [{"name": k, "valueFrom": {"fieldRef": {"fieldPath": v}}} for k, v in refs.items()]}

    env, _ = resolve_env(POD, container, objects())

    assert {k: env[k] for k in refs} == {
        "NAME": "wi-demo-app", "NS": "demo", "UID": "u-1", "LABEL": "wi", "NOTE": "platform",
        "NODE": "aks-nodepool1-1-vmss000000", "SA": "wi-demo-account", "IP": "10.244.1.7", "HOST": "10.224.0.4"}


def test_key_refs_read_config_maps_and_secrets() -> None:
    lookup = objects(configmaps__wi={"data": {"tenant": "fabrikam-id"}}, secrets__wi={"data": {"k": b64("v")}})
    container = {"env": [
        {"name": "AZURE_TENANT_ID", "valueFrom": {"configMapKeyRef": {"name": "wi", "key": "tenant"}}},
        {"name": "SECRET", "valueFrom": {"secretKeyRef": {"name": "wi", "key": "k"}}},
    ]}

    env, _ = resolve_env(POD, container, lookup)

    assert (env["AZURE_TENANT_ID"], env["SECRET"]) == ("fabrikam-id", "v")


@pytest.mark.parametrize(("container", "message"), [
    ({"envFrom": [{"configMapRef": {"name": "missing"}}]}, 'configmap "missing" not found'),
    ({"envFrom": [{"secretRef": {"name": "missing"}}]}, 'secret "missing" not found'),
    ({"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "wi", "key": "nope"}}}]},
     "couldn't find key nope in ConfigMap demo/wi"),
    ({"env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "gone", "key": "k"}}}]},
     'secret "gone" not found'),
])
def test_missing_sources_are_create_container_config_errors(container: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_env(POD, container, objects(configmaps__wi={"data": {"tenant": "x"}}))
    assert str(caught.value) == message


def test_optional_missing_sources_are_skipped() -> None:
    container = {"envFrom": [{"configMapRef": {"name": "missing", "optional": True}}],
                 "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "m", "key": "k", "optional": True}}}]}

    env, _ = resolve_env(POD, container, objects())

    assert "X" not in env


def test_values_expand_earlier_variables_and_keep_unknown_references() -> None:
    container = {"env": [{"name": "A", "value": "one"}, {"name": "B", "value": "$(A)-$(NOPE)-$$(A)"}]}

    env, _ = resolve_env(POD, container, objects())

    assert env["B"] == "one-$(NOPE)-$(A)"
    assert expand("$(KUBERNETES_SERVICE_HOST)", {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}) == "10.0.0.1"


def test_service_links_are_present_unless_the_container_sets_them() -> None:
    env, _ = resolve_env(POD, {"env": [{"name": "KUBERNETES_SERVICE_PORT", "value": "8443"}]}, objects())
    assert env["KUBERNETES_SERVICE_HOST"] == "10.0.0.1"
    assert env["KUBERNETES_SERVICE_PORT"] == "8443"


def projected_pod() -> dict[str, Any]:
    return {**POD, "spec": {**POD["spec"], "volumes": [
        {"name": "azure-identity-token", "projected": {"sources": [{"serviceAccountToken": {
            "path": "token/azure-identity-token", "audience": "api://AzureADTokenExchange",
            "expirationSeconds": 3600}}]}},
        {"name": "kube-api-access-x", "projected": {"sources": [
            {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
        ]}},
        {"name": "scratch", "emptyDir": {}},
        {"name": "data", "persistentVolumeClaim": {"claimName": "pvc"}},
    ]}}


def test_projected_volumes_are_written_with_minted_tokens(tmp_path: Path) -> None:
    minted: list[tuple[list[str], int]] = []

    def mint(audiences: list[str], seconds: int) -> str:
        minted.append((audiences, seconds))
        return f"jwt-{len(minted)}"

    lookup = objects(**{"configmaps__kube-root-ca.crt": {"data": {"ca.crt": "PEM"}}})
    mounted, tokens = materialize_volumes(projected_pod(), tmp_path, lookup, mint)

    assert (mounted["azure-identity-token"] / "token" / "azure-identity-token").read_text() == "jwt-1"
    assert minted == [(["api://AzureADTokenExchange"], 3600), ([], 3607)]
    assert (mounted["kube-api-access-x"] / "ca.crt").read_text() == "PEM"
    assert (mounted["kube-api-access-x"] / "namespace").read_text() == "demo"
    assert mounted["scratch"].is_dir()
    assert "data" not in mounted
    assert [(t.audiences, t.expiration_seconds) for t in tokens] == [(("api://AzureADTokenExchange",), 3600),
                                                                     ((), 3607)]
    assert (mounted["azure-identity-token"] / "token" / "azure-identity-token").stat().st_mode & 0o077 == 0


def test_missing_config_map_fails_the_mount_with_the_volume_named(tmp_path: Path) -> None:
    with pytest.raises(MountError) as caught:
        materialize_volumes(projected_pod(), tmp_path, objects(), lambda aud, sec: "jwt")
    assert caught.value.volume == "kube-api-access-x"
    assert str(caught.value) == 'configmap "kube-root-ca.crt" not found'


def test_token_that_cannot_be_minted_fails_the_mount(tmp_path: Path) -> None:
    def mint(audiences: list[str], seconds: int) -> str:
        raise LookupError('serviceaccounts "wi-demo-account" not found')

    with pytest.raises(MountError, match='failed to fetch token: serviceaccounts "wi-demo-account" not found'):
        materialize_volumes(projected_pod(), tmp_path, objects(), mint)


def test_projection_paths_may_not_escape_the_volume(tmp_path: Path) -> None:
    pod = {**POD, "spec": {"volumes": [{"name": "evil", "projected": {"sources": [
        {"serviceAccountToken": {"path": "../../outside"}}]}}]}}
    with pytest.raises(MountError, match=r"may not contain '\.\.'"):
        materialize_volumes(pod, tmp_path / "volumes", objects(), lambda aud, sec: "jwt")
    assert not (tmp_path / "outside").exists()


def test_paths_inside_a_mount_are_translated_to_the_host_folder_by_mount_not_by_name(tmp_path: Path) -> None:
    mounted = {"azure-identity-token": tmp_path / "wi", "cfg": tmp_path / "cfg"}
    container = {"volumeMounts": [
        {"name": "azure-identity-token", "mountPath": "/var/run/secrets/azure/wi", "readOnly": True},
        {"name": "cfg", "mountPath": "/etc/app/", "subPath": "conf"},
        {"name": "not-materialised", "mountPath": "/data"},
    ]}

    mounts = container_mounts(container, mounted)

    assert translate("/var/run/secrets/azure/wi/token/azure-identity-token", mounts) == \
        str(tmp_path / "wi" / "token" / "azure-identity-token")
    assert translate("/etc/app/settings.json", mounts) == str(tmp_path / "cfg" / "conf" / "settings.json")
    assert translate("/etc/app", mounts) == str(tmp_path / "cfg" / "conf")
    assert translate("/var/run/secrets/azure/wifi", mounts) == "/var/run/secrets/azure/wifi"
    assert translate("/data/x", mounts) == "/data/x"
    assert translate("plain value", mounts) == "plain value"
