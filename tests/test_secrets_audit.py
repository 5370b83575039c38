"""Secrets audit: after a full `wi-wizard apply` that signs in with a service principal in one tenant and a device
code in the other (and proves access with the pod's workload identity), and its exports in every format, no file
the program wrote — sessions, exports, logs, caches, anything under WI_WIZARD_HOME, KUBECACHEDIR or the test's temp
dirs — and nothing it printed holds a token, a client secret, a refresh token, a device code or a password; the
repository's snapshots and screenshots hold none either. Session files are 0600 and their folder 0700. The sandbox's
endpoints.json holds only what the emulated service needs (its service principals' secrets, by contract) — no
token, key or refresh token. An error whose text carries a token or secret is shown and saved scrubbed. And no
TLS-off switch is named anywhere in the package.

(The sandbox's own state dir is its storage and is left out, like its log, which tests/test_hygiene.py audits;
loopback-only listening and 0700/0600 state: tests/test_hygiene.py; refusal of unauthenticated, wrong-tenant and
unauthorized calls: tests/sandbox/test_arm_requests.py, test_arm_authorization.py, test_graph.py,
test_kube_api_http.py.)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import wizard
from tests.conftest import Env
from tests.engine.cli_support import ROOT, SEED_PLAN, apply, no_traceback
from tests.engine.cli_support import wizard as run_wizard
from wizard import headless
from wizard.sandbox import Sandbox
from wizard.session import SessionStore
from wizard.steps.identity import IdentityStep

PACKAGE = Path(wizard.__file__).parent
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
# Credential shapes of the sandbox (client secrets `sbx~…`, refresh tokens `sbx.rt.…`), key material, and words
# that only a leaked credential field would put in a file.
SECRET_SHAPES = re.compile(r"sbx~[A-Za-z0-9_-]{8,}|sbx\.rt\.[A-Za-z0-9_-]{8,}|PRIVATE KEY-----|"
                           r"\"(?:password|client_secret|refresh_token|access_token|device_code)\"\s*:", re.I)


def files_under(*roots: Path, skip: tuple[Path, ...] = ()) -> Iterator[Path]:
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink() and not any(path.is_relative_to(s) for s in skip):
                yield path


def leaks(text: str, secrets: list[str]) -> list[str]:
    found = [f"JWT {m[:16]}…" for m in JWT.findall(text)]
    found += [f"credential-shaped {m[:12]}…" for m in SECRET_SHAPES.findall(text)]
    found += [f"secret {s[:6]}…" for s in secrets if s and s in text]
    return found


def world_secrets(box: Sandbox) -> list[str]:
    secrets = [t["service_principal"]["client_secret"] for t in box.endpoints()["tenants"]]
    assert len(secrets) == 2 and all(secrets)
    return secrets


def issued_credential_digests(box: Sandbox) -> set[str]:
    """SHA-256 digests of the device codes and refresh tokens the sandbox issued (it keeps nothing else of them)."""
    from wizard.sandbox.entra.device_code import DEVICE_CODES
    from wizard.sandbox.entra.users import REFRESH_TOKENS

    assert box.world is not None
    return {key for collection in (DEVICE_CODES, REFRESH_TOKENS) for key in box.world.store.keys(collection)}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_full_run_with_service_principal_and_device_code_logins_writes_and_prints_no_secret(
        make_sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    box = make_sandbox()
    contoso = next(t for t in box.endpoints()["tenants"] if t["name"] == "contoso")
    sp = contoso["service_principal"]

    run = apply(box, SEED_PLAN, "--session", "audit", "--login", "service-principal,device-code",
                env={"AZURE_CLIENT_ID": sp["client_id"], "AZURE_CLIENT_SECRET": sp["client_secret"]})

    assert run.returncode == 0, run.stdout + run.stderr
    no_traceback(run)
    assert "Access proven" in run.stdout
    assert "code" in run.stderr.lower(), "the device-code prompt was shown (on stderr)"
    secrets = world_secrets(box)
    assert leaks(run.stdout, secrets) == [] and leaks(run.stderr, secrets) == []

    exports = tmp_path / "exports"
    exports.mkdir()
    for fmt in ("script", "manifests", "terraform"):
        exported = run_wizard("export", "audit", "--format", fmt, "-o", str(exports))
        assert exported.returncode == 0, exported.stdout + exported.stderr
        assert leaks(exported.stdout + exported.stderr, secrets) == []
    assert len(list(exports.iterdir())) == 3

    home, cache = Path(os.environ["WI_WIZARD_HOME"]), Path(os.environ["KUBECACHEDIR"])
    written = list(files_under(home, cache, tmp_path, skip=(box.state_dir,)))
    assert any(p.suffix == ".json" and p.parent.name == "sessions" for p in written), written
    found = {str(p): leaks(p.read_text(errors="replace"), secrets) for p in written}
    assert {p: f for p, f in found.items() if f} == {}
    # The device code and refresh tokens the sandbox issued in this run are known to it only by their SHA-256:
    # no long token-like word anywhere in what was written or printed hashes to one of them.
    issued = issued_credential_digests(box)
    assert issued, "the device-code login issued a device code"
    texts = [run.stdout, run.stderr, *(p.read_text(errors="replace") for p in written)]
    words = {w for text in texts for w in re.findall(r"[A-Za-z0-9_.~-]{24,}", text)}
    assert [w[:8] for w in words if hashlib.sha256(w.encode()).hexdigest() in issued] == []

    store = SessionStore()
    assert mode(store.directory) == 0o700
    for path in store.directory.iterdir():
        assert mode(path) == 0o600, path
    session = json.loads(store.path("audit").read_text())
    assert {login["method"] for login in session["logins"].values()} == {"service-principal", "device-code"}


def test_snapshots_and_screenshots_in_the_repository_hold_no_token_or_secret() -> None:
    roots = [ROOT / "tests" / "tui" / "__snapshots__", ROOT / "screenshots"]
    scanned = list(files_under(*(r for r in roots if r.is_dir())))
    assert scanned, "the snapshots are where a leaked token would be kept forever"
    found = {str(p.relative_to(ROOT)): leaks(p.read_text(errors="replace"), []) for p in scanned}
    assert {p: f for p, f in found.items() if f} == {}


ENDPOINTS_KEYS = {"authority_host", "resource_manager", "microsoft_graph", "ca_bundle", "kubeconfig", "tenants"}
TENANT_KEYS = {"name", "display_name", "tenant_id", "domain", "subscriptions", "service_principal", "user"}


def _leaf_keys(node: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaf_keys(value, f"{prefix}.{key}" if prefix else key)
    elif isinstance(node, list):
        for item in node:
            yield from _leaf_keys(item, f"{prefix}[]")
    else:
        yield prefix


def test_endpoints_json_holds_only_what_the_emulated_service_needs(sandbox: Sandbox) -> None:
    path = sandbox.state_dir / "endpoints.json"
    text = path.read_text()
    data = json.loads(text)

    assert set(data) >= ENDPOINTS_KEYS
    assert set(data) - ENDPOINTS_KEYS <= {"device_login", "faults", "pid", "scenario", "port"}, set(data)
    for tenant in data["tenants"]:
        assert set(tenant) <= TENANT_KEYS, set(tenant) - TENANT_KEYS
        assert set(tenant["service_principal"]) <= {"client_id", "client_secret", "display_name"}
        assert set(tenant["user"]) <= {"username", "object_id", "display_name"}, "a user's password is never here"
    secret_leaves = [k for k in _leaf_keys(data) if re.search(r"secret|password|token|key", k, re.I)]
    assert secret_leaves == ["tenants[].service_principal.client_secret"] * len(data["tenants"])
    assert not JWT.search(text) and "PRIVATE KEY" not in text and "sbx.rt." not in text
    assert mode(path) == 0o600


def test_an_error_carrying_a_token_and_secrets_is_printed_and_saved_scrubbed(
        env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A failure no rule knows, whose text quotes a bearer token, a client secret, a refresh token and a
    client assertion (as a verbose HTTP error might): the diagnosis shown and the session saved carry none."""
    sp = env.tenants["contoso"]["service_principal"]
    token = env.sp_credential("contoso").get_token("https://management.azure.com/.default").token
    assert JWT.fullmatch(token)
    refresh = "sbx.rt.Zq3x9v_Lm2Pp0Qw8Rt6Yu4Io2As1Df"

    def failing(self: IdentityStep, ctx: Any) -> Any:
        raise RuntimeError(f"POST https://login.example/token failed: Authorization: Bearer {token} "
                           f"body client_secret={sp['client_secret']}&refresh_token={refresh}&"
                           f"client_assertion={token} password=hunter2")

    monkeypatch.setattr(IdentityStep, "check", failing)
    store = SessionStore(tmp_path / "sessions")

    code = headless.apply(SEED_PLAN, endpoints=env.box.state_dir / "endpoints.json", store=store)

    out = capsys.readouterr()
    assert code == headless.EXIT_FAILED, out.out
    assert "identity" in out.out and "Unexpected error" in out.out
    saved = store.path("seed-cross-tenant").read_text()
    for where, text in (("printed", out.out + out.err), ("saved", saved)):
        for secret in (token, token.split(".")[2], sp["client_secret"], refresh, "hunter2"):
            assert secret not in text, f"{where}: {secret[:10]}… leaked"
    assert "POST https://login.example/token failed" in out.out, "the rest of the error is still shown"


TLS_OFF_WORDS = ["PYTHONHTTPSVERIFY", "AZURE_CLI_DISABLE_CONNECTION_VERIFICATION", "insecure-skip-tls-verify",
                 "insecure_skip_tls_verify", "CERT_NONE", "_create_unverified_context", "--insecure",
                 "NODE_TLS_REJECT_UNAUTHORIZED"]


def test_no_file_in_the_package_names_a_tls_off_switch() -> None:
    """Stronger than tests/test_hygiene.py's syntax check: the environment variables and flags that turn
    verification off for Python, az, kubectl or node appear nowhere, not even in a string or a generated file."""
    offenders = []
    for path in files_under(PACKAGE):
        if path.suffix in {".pyc"} or "__pycache__" in path.parts:
            continue
        text = path.read_text(errors="replace")
        offenders += [f"{path.relative_to(PACKAGE.parent)}: {w}" for w in TLS_OFF_WORDS if w in text]
    assert offenders == []
