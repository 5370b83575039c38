"""Hygiene rules that hold across the whole package: TLS verification is never switched off, the sandbox is
reachable from this machine only, and what it keeps on disk (secrets, keys, tokens) is readable by its owner
only."""

from __future__ import annotations

import ast
import ipaddress
import socket
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import wizard
from tests.conftest import Env
from wizard.sandbox import Sandbox

PACKAGE = Path(wizard.__file__).parent

# Keyword arguments and settings that switch certificate checks off, in any client we use:
# requests/azure-core (verify, connection_verify), kubernetes (verify_ssl), aiohttp (ssl, verify_ssl).
VERIFY_SWITCHES = {"verify", "connection_verify", "verify_ssl", "ssl", "check_hostname"}
UNVERIFIED_NAMES = {"CERT_NONE", "_create_unverified_context", "InsecureRequestWarning"}
INSECURE_KUBECONFIG_KEY = "insecure-skip-tls-verify"


def _is_false(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def tls_bypasses(source: str) -> list[tuple[int, str]]:
    """Places in Python source that disable TLS verification: `verify=False`, `connection_verify=False`,
    `ctx.check_hostname = False`, `{"verify_ssl": False}`, `ssl.CERT_NONE`, `ssl._create_unverified_context`,
    `"insecure-skip-tls-verify": True`. Read from the syntax tree, so prose that names them does not count."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and node.arg in VERIFY_SWITCHES and _is_false(node.value):
            found.append((node.value.lineno, f"{node.arg}=False"))
        elif isinstance(node, ast.Assign | ast.AnnAssign) and _is_false(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
                if name in VERIFY_SWITCHES:
                    found.append((node.lineno, f"{name} = False"))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in VERIFY_SWITCHES and _is_false(value):
                    found.append((key.lineno, f"{key.value!r}: False"))
                if isinstance(key, ast.Constant) and key.value == INSECURE_KUBECONFIG_KEY and _is_true(value):
                    found.append((key.lineno, f"{INSECURE_KUBECONFIG_KEY!r}: True"))
        elif isinstance(node, ast.Attribute) and node.attr in UNVERIFIED_NAMES:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Name) and node.id in UNVERIFIED_NAMES:
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.alias) and node.name.rsplit(".", 1)[-1] in UNVERIFIED_NAMES:
            found.append((getattr(node, "lineno", 0), node.name))
    return found


def _python_files() -> Iterator[Path]:
    yield from sorted(PACKAGE.rglob("*.py"))


def test_the_tls_bypass_detector_catches_every_known_form() -> None:
    """Guards the guard: each way of switching verification off is recognised, prose about them is not."""
    bad = '''
import ssl
from ssl import CERT_NONE
from urllib3.exceptions import InsecureRequestWarning
ctx = ssl._create_unverified_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
requests.get(url, verify=False)
Client(cred, connection_verify=False)
cfg.verify_ssl = False
session.get(url, ssl=False)
kw = {"connection_verify": False}
cluster = {"insecure-skip-tls-verify": True}
'''
    kinds = {kind for _, kind in tls_bypasses(bad)}
    assert {"_create_unverified_context", "check_hostname = False", "CERT_NONE", "verify=False",
            "connection_verify=False", "verify_ssl = False", "ssl=False", "'connection_verify': False",
            "'insecure-skip-tls-verify': True", "InsecureRequestWarning"} <= kinds
    prose = '"""Never pass verify=False or use CERT_NONE; trust the CA."""\n# check_hostname = False is banned\n'
    assert tls_bypasses(prose) == []


def test_no_code_path_in_the_package_disables_tls_verification() -> None:
    files = list(_python_files())
    assert len(files) > 10, f"expected the whole package under {PACKAGE}"
    offenders = [f"{path.relative_to(PACKAGE.parent)}:{line}: {kind}"
                 for path in files for line, kind in tls_bypasses(path.read_text())]
    assert offenders == [], "TLS verification must never be switched off:\n" + "\n".join(offenders)


def test_no_data_file_in_the_package_skips_tls_verification() -> None:
    """Kubeconfigs, scenarios and templates shipped with the package must not opt out of verification either."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and path.suffix in {".yaml", ".yml", ".json", ".toml", ".cfg", ".ini", ".txt"}:
            text = path.read_text(errors="replace").lower()
            if INSECURE_KUBECONFIG_KEY in text or "verify = false" in text or "verify: false" in text:
                offenders.append(str(path.relative_to(PACKAGE.parent)))
    assert offenders == []


# -- the sandbox's socket --------------------------------------------------------------------------------------

def _decode(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    # IPv6 in /proc is four little-endian 32-bit words.
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)


def listening_addresses(port: int) -> list[str]:
    """The local addresses of every listening TCP socket on `port` on this machine (from /proc/net/tcp{,6})."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                found.append(_decode(address))
    return found


def test_the_sandbox_listens_on_the_loopback_address_only(sandbox: Sandbox) -> None:
    addresses = listening_addresses(sandbox.port)
    assert addresses == ["127.0.0.1"], f"port {sandbox.port} must be bound to 127.0.0.1 alone, found {addresses}"
    assert ipaddress.ip_address(addresses[0]).is_loopback


# -- what the sandbox keeps on disk ----------------------------------------------------------------------------

def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_dir_is_0700_and_its_secrets_0600(make_sandbox: Callable[..., Sandbox], tmp_path: Path) -> None:
    box = make_sandbox(state_dir=tmp_path / "state")
    state = box.state_dir
    assert _mode(state) == 0o700
    private = ["endpoints.json", "world.db", "ca-key.pem", "server-key.pem", "kubeconfig", "sandbox.log",
               "sandbox.lock"]
    for name in private:
        assert _mode(state / name) == 0o600, f"{name} holds secrets or keys: it must be 0600"
    for path in state.iterdir():
        if path.is_file() and path.name != "ca.pem":
            assert _mode(path) & 0o077 == 0, f"{path.name} is readable or writable by others"
    assert _mode(state / "ca.pem") & 0o022 == 0, "the public CA certificate must not be writable by others"


def test_an_existing_state_dir_with_loose_permissions_is_tightened(make_sandbox: Callable[..., Sandbox],
                                                                   tmp_path: Path) -> None:
    state = tmp_path / "loose"
    state.mkdir(mode=0o755)
    state.chmod(0o755)
    box = make_sandbox(state_dir=state)
    assert _mode(box.state_dir) == 0o700


def test_secrets_and_tokens_never_reach_the_sandbox_log(env: Env) -> None:
    """A client secret sent to Entra and the access token sent to ARM appear nowhere in sandbox.log."""
    from azure.mgmt.resource.subscriptions import SubscriptionClient

    credential = env.sp_credential("contoso")
    token = credential.get_token("https://management.azure.com/.default").token
    subs = list(SubscriptionClient(credential, **env.client_kwargs()).subscriptions.list())
    assert [s.subscription_id for s in subs] == [env.subscription_id("contoso")]
    log = (env.box.state_dir / "sandbox.log").read_text()
    assert "GET /subscriptions" in log, "the request log is where secrets could leak; it must be written"
    secret = env.tenants["contoso"]["service_principal"]["client_secret"]
    assert secret not in log
    assert token not in log
    assert token.split(".")[2] not in log, "not even the token's signature"

