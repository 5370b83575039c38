"""`wi-wizard doctor`: is this machine ready to run the wizard? Each check says ok / warn / fail and what to fix.

Checked, without signing anyone in and without printing a token: the Python version; the Azure CLI (present, its
version, which tenants it is signed in to, and with a plan whether those include the plan's tenants); the
kubeconfig kubectl would use (readable, its contexts, whether the plan's cluster has one); HTTPS reachability of
the ARM and Entra endpoints (TLS verified, short timeout); the clock against those servers' `Date` headers (tokens
are refused when the clock is minutes off); and whether the OS keyring can hold the encrypted token cache.
Only `fail` makes the exit status 1: a warning is something that works less well, not something that breaks.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from wizard.plan import Plan
from wizard.target import Cloud

OK, WARN, FAIL = "ok", "warn", "fail"
MIN_PYTHON = (3, 11)
MAX_SKEW = dt.timedelta(minutes=5)
ARM_METADATA = "/metadata/endpoints?api-version=2022-09-01"
ENTRA_METADATA = "/common/v2.0/.well-known/openid-configuration"
MAX_KUBECONFIG = 16 * 1024 * 1024


@dataclass(frozen=True)
class Finding:
    check: str  # python | az | az-login | kubeconfig | arm | entra | clock | keyring
    status: str  # ok | warn | fail
    summary: str  # what was found, one line
    fix: str = ""  # what to do about it (empty when ok)


@dataclass(frozen=True)
class Answer:
    """One HTTPS probe: the status (0 when no answer came), the server's Date header, or why it failed."""

    url: str
    status: int = 0
    date: dt.datetime | None = None
    error: str = ""


def run(cloud: Cloud, plan: Plan | None = None, *, environ: Mapping[str, str] | None = None,
        timeout: float = 5.0, now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> list[Finding]:
    """Every check, in the order they are printed."""
    env = os.environ if environ is None else environ
    findings = [python_check(sys.version_info[:3])]
    findings += az_checks(cloud, plan, env)
    findings.append(kubeconfig_check(env, plan, cloud))
    answers = [probe(cloud.arm_url + ARM_METADATA, cloud.ca_bundle, timeout),
               probe(cloud.authority + ENTRA_METADATA, cloud.ca_bundle, timeout)]
    findings += [reachability(name, answer, cloud) for name, answer in zip(("arm", "entra"), answers, strict=True)]
    findings.append(clock_check(answers, now()))
    findings.append(keyring_check())
    return findings


def exit_code(findings: list[Finding]) -> int:
    return 1 if any(f.status == FAIL for f in findings) else 0


def to_json(findings: list[Finding], cloud: Cloud) -> str:
    return json.dumps({"target": cloud.label.lower(), "ok": exit_code(findings) == 0,
                       "checks": [asdict(f) for f in findings]}, indent=2)


def render(findings: list[Finding], cloud: Cloud) -> str:
    marks = {OK: "✓", WARN: "!", FAIL: "✗"}
    lines = [f"wi-wizard doctor · {cloud.label} ({cloud.arm_url})"]
    for f in findings:
        lines.append(f"  {marks[f.status]} {f.check:<10} {f.summary}")
        if f.fix:
            lines.append(f"    {'':<10} fix: {f.fix}")
    failed = sum(f.status == FAIL for f in findings)
    warned = sum(f.status == WARN for f in findings)
    lines.append("Ready." if not failed and not warned else f"{failed} failed, {warned} warning(s).")
    return "\n".join(lines)


# -- Python ------------------------------------------------------------------------------------------------------

def python_check(version: tuple[int, ...]) -> Finding:
    shown = ".".join(str(part) for part in version)
    if tuple(version[:2]) >= MIN_PYTHON:
        return Finding("python", OK, f"Python {shown}")
    return Finding("python", FAIL, f"Python {shown} is too old (wi-wizard needs 3.11 or newer)",
                   "Install Python 3.11+ and reinstall: `pipx install --python python3.11 …`.")


# -- Azure CLI ---------------------------------------------------------------------------------------------------

def az_checks(cloud: Cloud, plan: Plan | None, env: Mapping[str, str]) -> list[Finding]:
    """The CLI's presence and version, then its logins (real Azure only: the sandbox signs in on its own)."""
    az = shutil.which("az", path=env.get("PATH"))
    if az is None:
        if cloud.is_sandbox:
            return [Finding("az", OK, "Azure CLI not installed (not needed on the sandbox)")]
        return [Finding("az", WARN, "Azure CLI (`az`) not found on PATH: the azure-cli login (the default on real "
                        "Azure) cannot be used",
                        "Install the Azure CLI (https://aka.ms/installazurecli) and run `az login --tenant <tenant>`"
                        ", or sign in with `--login device-code` (nothing to install).")]
    code, out, err = _run([az, "version", "-o", "json"], env)
    described = _json(out) if code == 0 else None
    version = described.get("azure-cli") if isinstance(described, dict) else None
    if not version:
        return [Finding("az", WARN, f"`az version` failed: {err or out or 'no output'}"[:300],
                        "Repair or reinstall the Azure CLI (`az upgrade`).")]
    found = [Finding("az", OK, f"Azure CLI {version} ({az})")]
    if not cloud.is_sandbox:
        code, out, err = _run([az, "account", "list", "--all", "-o", "json"], env)
        accounts = _json(out) if code == 0 else None
        found.append(az_login_check(accounts if isinstance(accounts, list) else None, _plan_tenants(cloud, plan),
                                    err))
    return found


def az_login_check(accounts: list[Any] | None, wanted: dict[str, str], error: str = "") -> Finding:
    """Which tenants `az account list --all` shows a login for (only tenant IDs and user names are read), and which
    of the plan's tenants (`wanted`: plan key → tenant ID) have none."""
    if accounts is None:
        return Finding("az-login", WARN, f"could not list the Azure CLI's logins ({error.strip()[:200] or 'no JSON'})",
                       "Run `az login` (or `az login --tenant <tenant>` for each tenant of the plan).")
    tenants: dict[str, str] = {}
    for account in accounts:
        if isinstance(account, dict) and isinstance(account.get("tenantId"), str):
            user = account.get("user")
            name = user.get("name", "?") if isinstance(user, dict) else "?"
            tenants.setdefault(account["tenantId"].lower(), str(name))
    if not tenants:
        return Finding("az-login", WARN, "the Azure CLI is not signed in",
                       "Run `az login --tenant <tenant>` for each tenant of the plan (or use --login device-code).")
    listed = ", ".join(f"{tenant} ({user})" for tenant, user in sorted(tenants.items()))
    missing = [f"{key} {tenant}" for key, tenant in wanted.items() if tenant.lower() not in tenants]
    if missing:
        commands = " and ".join(f"`az login --tenant {item.split()[-1]}`" for item in missing)
        return Finding("az-login", WARN, f"signed in to {listed}; not to {', '.join(missing)}",
                       f"Run {commands} (the CLI keeps one login per tenant), or use --login device-code.")
    named = f"; the plan's tenants ({', '.join(wanted)}) are signed in" if wanted else ""
    return Finding("az-login", OK, f"signed in to {listed}{named}")


def _plan_tenants(cloud: Cloud, plan: Plan | None) -> dict[str, str]:
    """The plan's tenants as IDs (domains looked up in Entra's public metadata; a failed lookup keeps the text)."""
    from wizard.azure.credentials import LoginError, resolve_tenant

    found: dict[str, str] = {}
    if plan is None:
        return found
    for key, ref in (("cluster.tenant", plan.cluster.tenant), ("identity.tenant", plan.identity.tenant)):
        if not ref:
            continue
        try:
            found[key] = resolve_tenant(cloud, ref, key)
        except LoginError:
            found[key] = ref
    return found


def _run(command: list[str], env: Mapping[str, str]) -> tuple[int, str, str]:
    """Run a command quietly (no terminal, no prompt), returning its exit code, stdout and first stderr line."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=dict(env),
                              stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return 1, "", str(exc)
    first = next((line for line in done.stderr.splitlines() if line.strip()), "")
    return done.returncode, done.stdout, first


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


# -- kubeconfig --------------------------------------------------------------------------------------------------

def kubeconfig_check(env: Mapping[str, str], plan: Plan | None, cloud: Cloud) -> Finding:
    """What kubectl would read (the wizard itself needs no kubeconfig: it asks ARM for the cluster's credentials,
    but the exported script and manifests are applied with kubectl)."""
    import yaml

    configured = env.get("KUBECONFIG", "")
    files = [Path(p).expanduser() for p in configured.split(os.pathsep) if p] if configured else \
        [Path(env.get("HOME", str(Path.home()))) / ".kube" / "config"]
    contexts: list[str] = []
    current = ""
    problems: list[str] = []
    for path in files:
        if not path.exists():  # kubectl skips a missing file of the list: worth a word, not a failure
            continue
        try:
            if path.is_file() and path.stat().st_size > MAX_KUBECONFIG:
                problems.append(f"{path} is larger than a kubeconfig can reasonably be")
                continue
            data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
        except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError) as exc:
            problems.append(f"{path} cannot be read as YAML ({str(exc).splitlines()[0][:120]})")
            continue
        if not isinstance(data, dict) or not isinstance(data.get("contexts", []), list):
            problems.append(f"{path} is not a kubeconfig (no contexts list)")
            continue
        contexts += [str(c["name"]) for c in data.get("contexts") or [] if isinstance(c, dict) and "name" in c]
        current = current or str(data.get("current-context") or "")
    if problems:
        return Finding("kubeconfig", FAIL, "; ".join(problems),
                       "Point KUBECONFIG at valid kubeconfig files (or unset it to use ~/.kube/config); kubectl "
                       "and the exported script fail with it as it is.")
    if not contexts:
        where = os.pathsep.join(str(f) + ("" if f.exists() else " (absent)") for f in files)
        hint = "`eval \"$(wi-wizard sandbox env)\"` points kubectl at the sandbox's clusters." if cloud.is_sandbox \
            else _get_credentials(plan) or "`az aks get-credentials -g <group> -n <cluster>`."
        return Finding("kubeconfig", WARN, f"no kubectl contexts ({where})",
                       f"Only needed to run kubectl yourself (the exported script and manifests): {hint}")
    summary = f"{len(contexts)} context(s), current: {current or '(none)'}"
    if plan is not None and plan.cluster.name:
        if plan.cluster.name not in contexts:
            return Finding("kubeconfig", WARN, f"{summary}; none for the plan's cluster {plan.cluster.name}",
                           _get_credentials(plan))
        summary += f"; the plan's cluster {plan.cluster.name} has a context"
    return Finding("kubeconfig", OK, summary)


def _get_credentials(plan: Plan | None) -> str:
    if plan is None or not plan.cluster.name:
        return ""
    c = plan.cluster
    return (f"To use kubectl on the plan's cluster: `az aks get-credentials --resource-group {c.resource_group} "
            f"--name {c.name} --subscription {c.subscription}` (signed in to tenant {c.tenant}).")


# -- network and clock -------------------------------------------------------------------------------------------

def probe(url: str, ca_bundle: str | None, timeout: float) -> Answer:
    """GET with TLS verified (the sandbox's CA, else certifi's bundle); any HTTP answer counts as reachable."""
    from wizard.web import tls_context

    if not url.startswith("https://"):
        return Answer(url, error="not an https:// URL")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 (https only)
    try:  # the CA bundle is read here too: a missing or broken one is an OSError (ssl.SSLError is one)
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=tls_context(ca_bundle)),
                                             _NoRedirects)
        with opener.open(request, timeout=timeout) as response:
            return Answer(url, response.status, _date(response.headers.get("Date")))
    except urllib.error.HTTPError as exc:
        return Answer(url, exc.code, _date(exc.headers.get("Date")))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return Answer(url, error=str(getattr(exc, "reason", exc)) or type(exc).__name__)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer (reachable) and is not followed: it could lead to plain http."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _date(header: str | None) -> dt.datetime | None:
    if not header:
        return None
    try:
        return email.utils.parsedate_to_datetime(header).astimezone(dt.UTC)
    except (TypeError, ValueError):
        return None


def reachability(name: str, answer: Answer, cloud: Cloud) -> Finding:
    what = {"arm": "Azure Resource Manager", "entra": "Entra ID (sign-in)"}[name]
    if answer.status:
        return Finding(name, OK, f"{what} answers (HTTP {answer.status}): {answer.url}")
    tls = "CERTIFICATE_VERIFY_FAILED" in answer.error or "SSL" in answer.error
    fix = ("A proxy or firewall re-signs TLS here: add its CA to the bundle the Azure SDKs use (REQUESTS_CA_BUNDLE) "
           "rather than turning verification off." if tls else
           "Is the sandbox still running? Start it with `wi-wizard sandbox serve` (its endpoints.json names the "
           "port)." if cloud.is_sandbox else
           "Check the network: outbound HTTPS (443) to this host must be allowed; behind a proxy set HTTPS_PROXY.")
    return Finding(name, FAIL, f"{what} unreachable: {answer.url} ({answer.error})", fix)


def clock_check(answers: list[Answer], now: dt.datetime) -> Finding:
    """The local clock against the servers' Date headers (1-second resolution, so only minutes matter)."""
    dates = [a.date for a in answers if a.date is not None]
    if not dates:
        return Finding("clock", WARN, "no server answered with a Date header, so the clock could not be checked",
                       "Fix the network checks above, then run doctor again.")
    skew = max((now - date for date in dates), key=abs)
    shown = f"{abs(skew.total_seconds()):.0f} s {'ahead of' if skew.total_seconds() > 0 else 'behind'} the servers"
    if abs(skew) > MAX_SKEW:
        return Finding("clock", WARN, f"the local clock is {shown}",
                       "Sync the clock (e.g. `sudo timedatectl set-ntp true`): Entra refuses tokens and assertions "
                       "outside their validity window, so sign-ins and the workload's token exchange fail.")
    return Finding("clock", OK, f"the local clock is within {MAX_SKEW.seconds // 60} minutes of the servers ({shown})")


# -- keyring -----------------------------------------------------------------------------------------------------

def keyring_check() -> Finding:
    from wizard.azure.credentials import keyring_problem

    problem = keyring_problem()
    if problem is None:
        return Finding("keyring", OK, "the OS keyring can hold the encrypted token cache (resume signs in silently)")
    fix = ("On Linux: install gnome-keyring (or another Secret Service), libsecret and PyGObject where wi-wizard "
           "runs (`pipx install --system-site-packages …` to see the system's python3-gi), inside a desktop or "
           "D-Bus session. Otherwise nothing breaks: device-code and browser logins ask again after a restart.")
    return Finding("keyring", WARN, f"no OS keyring for the token cache: {problem}", fix)
