"""The `wi-wizard` command line.

Every failure a person can cause (a bad flag, a busy port, a second sandbox on the same state dir, a state dir
that cannot be written) ends with a non-zero exit and one message that says what is wrong and how to fix it,
never a traceback: usage errors exit 2 (click's convention), everything else 1.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from wizard import __version__, paths

if TYPE_CHECKING:
    pass

AZ_CLOUD = "WiWizardSandbox"


def _state_dir_option(f: Any) -> Any:
    return click.option(
        "--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
        help="Where the sandbox keeps its world, CA and endpoints.json "
             "(default: $WI_WIZARD_HOME/sandbox, else ~/.local/state/wi-wizard/sandbox).",
    )(f)


def _target(state_dir: Path | None) -> Path:
    return (state_dir or paths.sandbox_dir()).absolute()


def _self_command() -> str:
    """How to run this same wi-wizard again from a shell: `wi-wizard` when that is what PATH finds, else the full
    path of the script that is running (`.venv/bin/wi-wizard` under `make run`), else `python -m wizard`."""
    argv0 = Path(sys.argv[0]).absolute() if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == "wi-wizard":
        on_path = shutil.which("wi-wizard")
        if on_path and Path(on_path).absolute() == argv0:
            return "wi-wizard"
        return shlex.quote(str(argv0))
    return f"{shlex.quote(sys.executable)} -m wizard"


def _state_dir_flag(state_dir: Path | None, target: Path) -> str:
    """` --state-dir DIR` when the user gave one, so suggested commands work when pasted."""
    return f" --state-dir {shlex.quote(str(target))}" if state_dir else ""


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--sandbox", is_flag=True, help="Run against the embedded sandbox instead of real Azure.")
@click.version_option(__version__, prog_name="wi-wizard")
@click.pass_context
def main(ctx: click.Context, sandbox: bool) -> None:
    """Set up cross-tenant AKS workload identity, and prove it with live pod logs."""
    if ctx.invoked_subcommand is not None:
        return
    from wizard.tui.launch import run

    sys.exit(run(sandbox=sandbox))


@main.group()
def sandbox() -> None:
    """The embedded sandbox: two Entra tenants, ARM and AKS clusters on loopback HTTPS."""


def _parse_faults(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    from wizard.sandbox.faults import Faults, FaultSpecError

    try:
        return Faults.parse(value)
    except FaultSpecError as exc:
        raise click.BadParameter(str(exc)) from None


def _check_scenario(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Reject an unknown scenario name or a broken scenario file before anything is started or written."""
    if value is None:
        return None
    from wizard.sandbox import scenario
    from wizard.sandbox.store import Store

    store = Store(None)  # in memory: only the scenario itself is checked here
    try:
        scenario.load(value, store)
    except scenario.ScenarioError as exc:
        raise click.BadParameter(str(exc)) from None
    finally:
        store.close()
    return value


def _faults_help() -> str:
    from wizard.sandbox.faults import PROFILES

    return ("Misbehave like Azure does: a comma-separated list of " + ", ".join(PROFILES)
            + ", or all; NAME=SECONDS sets a profile's time (e.g. throttle,fic-propagation=30).")


class _FaultsOption(click.Option):
    """`--faults`, whose help lists the sandbox's fault profiles: read when help is shown, not on every start."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        if self.help is None:
            self.help = _faults_help()
        return super().get_help_record(ctx)


@sandbox.command()
@_state_dir_option
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0: reuse the last one, or any free one).")
@click.option("--scenario", "scenario_ref", default=None, metavar="NAME|FILE", callback=_check_scenario,
              help="The world a fresh state dir starts with: a built-in name (default) or a TOML file.")
@click.option("--faults", default=None, metavar="PROFILE[,PROFILE…]", callback=_parse_faults, cls=_FaultsOption)
@click.option("--device-code-approve", type=click.FloatRange(min=0), default=2.0, show_default=True,
              metavar="SECONDS", help="Approve device-code logins automatically after this long.")
@click.option("--manual-approval", is_flag=True, help="Never approve device codes automatically.")
@click.option("--lro-seconds", type=click.FloatRange(min=0), default=1.0, show_default=True, metavar="SECONDS",
              help="How long cluster creates and updates stay InProgress (slow-lro overrides it).")
@click.option("--kubelet-speed", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              metavar="FACTOR", help="Pod lifecycle pace: every kubelet delay is divided by this.")
def serve(state_dir: Path | None, port: int, scenario_ref: str | None, faults: Any,
          device_code_approve: float, manual_approval: bool, lro_seconds: float, kubelet_speed: float) -> None:
    """Run the sandbox in the foreground until Ctrl-C (SIGINT) or SIGTERM."""
    import sqlite3

    from wizard.sandbox.faults import Faults
    from wizard.sandbox.server import Sandbox, SandboxError
    from wizard.sandbox.world import Settings

    settings = Settings(device_code_auto_approve=None if manual_approval else device_code_approve,
                        lro_seconds=lro_seconds, kubelet_speed=kubelet_speed)
    target = _target(state_dir)
    box = Sandbox(target, port=port, scenario_ref=scenario_ref,
                  faults=faults if isinstance(faults, Faults) else Faults(), settings=settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        box.start()
    except SandboxError as exc:
        raise click.ClickException(str(exc)) from None
    except (OSError, sqlite3.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise click.ClickException(
            f"cannot use {target} as the sandbox state dir ({reason}); choose a writable --state-dir, "
            "or set WI_WIZARD_HOME") from None
    try:
        click.echo(f"Sandbox listening on {box.base_url} (faults: {box.faults.spec()})")
        click.echo(f"  endpoints:  {box.state_dir / 'endpoints.json'}")
        click.echo(f"  CA bundle:  {box.ca_bundle}")
        click.echo(f"  kubeconfig: {box.kubeconfig}")
        click.echo(f"  device login page: {box.base_url}/devicelogin")
        click.echo("Shell set-up (add --az for the Azure CLI): "
                   f"eval \"$({_self_command()} sandbox env{_state_dir_flag(state_dir, target)})\"")
        click.echo("Press Ctrl-C to stop.")
        while not stop.wait(0.5):
            pass
    finally:
        box.stop()
        click.echo("Sandbox stopped.")


def _running_pid(state_dir: Path) -> int | None:
    """The PID of the sandbox that holds the state dir's lock, or None when none runs there."""
    from wizard.sandbox.server import LOCK_FILE

    try:
        fd = os.open(state_dir / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raw = os.read(fd, 32).decode(errors="replace").strip()
            return int(raw) if raw.isdigit() else -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


@sandbox.command()
@_state_dir_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def reset(state_dir: Path | None, yes: bool) -> None:
    """Forget the sandbox world (tenants, resources, clusters, pods). The CA is kept, so trust set-ups stay."""
    from wizard.sandbox.server import forget_world

    target = _target(state_dir)
    pid = _running_pid(target)
    if pid is not None:
        raise click.ClickException(
            f"a sandbox (pid {pid if pid > 0 else 'unknown'}) is running on {target}; stop it before resetting "
            f"(Ctrl-C where it runs, or `wi-wizard sandbox stop{_state_dir_flag(state_dir, target)}`)")
    if not yes and sys.stdin.isatty():
        click.confirm(f"Forget the sandbox world in {target}?", abort=True)
    try:
        removed = forget_world(target)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot reset {target}: {exc.strerror or exc}") from None
    click.echo(f"Sandbox world forgotten ({removed} file(s) removed from {target}); the CA is kept."
               if removed else f"Nothing to forget in {target}.")


def _is_serve_process(pid: int) -> bool | None:
    """Whether `pid` is a `wi-wizard sandbox serve` (or `--sandbox`) process; None when that cannot be told."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    words = [a.decode(errors="replace") for a in argv]
    return ("sandbox" in words and "serve" in words) or "--sandbox" in words


@sandbox.command()
@_state_dir_option
@click.option("--timeout", type=click.FloatRange(min=0), default=30.0, show_default=True, metavar="SECONDS",
              help="How long to wait for it to finish.")
def stop(state_dir: Path | None, timeout: float) -> None:
    """Stop the sandbox serving a state dir, e.g. the one `apply --sandbox` left running in the background."""
    target = _target(state_dir)
    pid = _running_pid(target)
    if pid is None:
        click.echo(f"No sandbox runs on {target}.")
        return
    if pid <= 0:
        raise click.ClickException(f"a sandbox holds {target} but its pid is unknown; stop it where it runs")
    if _is_serve_process(pid) is False:
        raise click.ClickException(f"the sandbox on {target} runs inside process {pid}, which is not a "
                                   "`wi-wizard sandbox serve`; stop it from that program instead")
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass  # it ended on its own meanwhile
    except PermissionError:
        raise click.ClickException(f"process {pid} belongs to another user; it cannot be stopped from here") from None
    deadline = time.monotonic() + timeout
    while _running_pid(target) is not None:
        if time.monotonic() > deadline:
            raise click.ClickException(f"the sandbox (pid {pid}) did not stop within {timeout:g} s; "
                                       f"end it with `kill -KILL {pid}`")
        time.sleep(0.1)
    click.echo(f"Sandbox (pid {pid}) on {target} stopped.")


def _load_endpoints(state_dir: Path | None, target: Path) -> dict[str, Any]:
    path = target / "endpoints.json"
    start = f"`wi-wizard sandbox serve{_state_dir_flag(state_dir, target)}`"
    try:
        endpoints: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise click.ClickException(f"no running sandbox: {path} does not exist. Start one with {start}.") from None
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from None
    if _running_pid(target) is None:
        raise click.ClickException(f"{path} is stale: no sandbox runs on {target} any more. Start one with {start}.")
    missing = [k for k in ("authority_host", "resource_manager", "ca_bundle", "kubeconfig", "tenants")
               if k not in endpoints]
    if missing:
        raise click.ClickException(f"{path} lacks {', '.join(missing)}; restart the sandbox to rewrite it.")
    return endpoints


def _pick_tenant(endpoints: dict[str, Any], ref: str) -> dict[str, Any]:
    ref_l = ref.lower()
    for t in endpoints["tenants"]:
        if ref_l in {str(t.get(k, "")).lower() for k in ("name", "domain", "tenant_id")}:
            return dict(t)
    names = ", ".join(t["name"] for t in endpoints["tenants"])
    raise click.BadParameter(f"no tenant {ref!r} in the sandbox; tenants: {names}", param_hint="--tenant")


def _az_commands(endpoints: dict[str, Any]) -> list[str]:
    """Register the sandbox as a custom cloud in the sandbox's own AZURE_CONFIG_DIR and make it active.

    Instance discovery must be off, as with `disable_instance_discovery=True` in the SDK: otherwise MSAL asks
    login.microsoftonline.com about the unknown authority. All required endpoints are given, so no metadata
    discovery happens; the Graph resource is the sandbox too (`az role assignment list` resolves principals).
    """
    arm = endpoints["resource_manager"]
    flags = " ".join([
        "--skip-endpoint-discovery",
        f"--endpoint-resource-manager {shlex.quote(arm)}",
        f"--endpoint-active-directory {shlex.quote(endpoints['authority_host'])}",
        "--endpoint-active-directory-resource-id https://management.core.windows.net/",
        "--endpoint-management https://management.core.windows.net/",
        "--endpoint-active-directory-graph-resource-id https://graph.windows.net/",
        f"--endpoint-microsoft-graph-resource-id {shlex.quote(endpoints.get('microsoft_graph', arm))}",
    ])
    return [
        "az config set core.instance_discovery=false --only-show-errors >/dev/null",
        f"if az cloud show -n {AZ_CLOUD} >/dev/null 2>&1; then az cloud update -n {AZ_CLOUD} {flags} "
        f"--only-show-errors >/dev/null; else az cloud register -n {AZ_CLOUD} {flags} --only-show-errors "
        ">/dev/null; fi",
        f"az cloud set -n {AZ_CLOUD} --only-show-errors",
    ]


@sandbox.command()
@_state_dir_option
@click.option("--tenant", default=None, metavar="NAME|DOMAIN|ID",
              help="Also export this tenant's ID, first subscription and service principal (AZURE_CLIENT_*).")
@click.option("--az", "with_az", is_flag=True,
              help="Also print the az commands that register and select the sandbox as a custom cloud "
                   "(in AZURE_CONFIG_DIR under the state dir: your own az configuration is not touched).")
def env(state_dir: Path | None, tenant: str | None, with_az: bool) -> None:
    """Print shell exports that point the Azure SDKs, the Azure CLI and kubectl at a running sandbox.

    Use it as: eval "$(wi-wizard sandbox env)". REQUESTS_CA_BUNDLE replaces the trust store of Python's
    requests, so this shell then reaches the sandbox, not real Azure.
    """
    target = _target(state_dir)
    endpoints = _load_endpoints(state_dir, target)
    exports = {
        "WI_WIZARD_SANDBOX_ENDPOINTS": str(target / "endpoints.json"),
        "AZURE_AUTHORITY_HOST": endpoints["authority_host"],
        "REQUESTS_CA_BUNDLE": endpoints["ca_bundle"],
        "KUBECONFIG": endpoints["kubeconfig"],
        "AZURE_CONFIG_DIR": str(target / "azure-cli"),
        "AZURE_CORE_COLLECT_TELEMETRY": "false",
    }
    if tenant:
        match = _pick_tenant(endpoints, tenant)
        exports["AZURE_TENANT_ID"] = match["tenant_id"]
        if match.get("subscriptions"):
            exports["AZURE_SUBSCRIPTION_ID"] = match["subscriptions"][0]["subscription_id"]
        sp = match.get("service_principal")
        if sp:
            exports["AZURE_CLIENT_ID"] = sp["client_id"]
            exports["AZURE_CLIENT_SECRET"] = sp["client_secret"]
    for name, value in exports.items():
        click.echo(f"export {name}={shlex.quote(value)}")
    if with_az:
        if shutil.which("az") is None:
            click.echo("wi-wizard: note: `az` is not on PATH; the az commands below will fail until the Azure CLI "
                       "is installed", err=True)
        for line in _az_commands(endpoints):
            click.echo(line)
        if tenant and "AZURE_CLIENT_ID" in exports:
            click.echo('# then: az login --service-principal -u "$AZURE_CLIENT_ID" -p "$AZURE_CLIENT_SECRET" '
                       '--tenant "$AZURE_TENANT_ID"')
        elif endpoints["tenants"]:
            domain = endpoints["tenants"][0]["domain"]
            click.echo(f"# then: az login --use-device-code --tenant {domain}  (or use --tenant with this command)")


_LOGIN_HELP = ("How to sign in: auto (the sandbox's service principals on a sandbox, the Azure CLI's login on real "
               "Azure), sandbox, azure-cli, device-code, browser or service-principal (AZURE_CLIENT_ID/"
               "AZURE_CLIENT_SECRET); CLUSTER_METHOD,IDENTITY_METHOD for one per tenant.")


@main.command()
@click.argument("plan_file", metavar="PLAN.toml", type=click.Path(path_type=Path))
@click.option("--sandbox", "use_sandbox", is_flag=True,
              help="Run against the embedded sandbox (started in the background if none runs; its state is kept).")
@click.option("--sandbox-endpoints", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Run against the sandbox described by this endpoints.json.")
@click.option("--session", "session_name", default=None, metavar="NAME",
              help="Session name (default: the plan file's name). Re-running a session converges it.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable results on stdout.")
@click.option("--login", default="auto", show_default=True, metavar="METHOD[,METHOD]", help=_LOGIN_HELP)
def apply(plan_file: Path, use_sandbox: bool, sandbox_endpoints: Path | None, session_name: str | None,
          as_json: bool, login: str) -> None:
    """Run a plan headless: exit 0 only when the workload's logs prove access; otherwise the diagnosis."""
    from wizard import headless

    if use_sandbox and sandbox_endpoints is not None:
        raise click.UsageError("use either --sandbox or --sandbox-endpoints, not both")
    sys.exit(headless.apply(plan_file, sandbox=use_sandbox, endpoints=sandbox_endpoints,
                            session_name=session_name, as_json=as_json, login=login))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable results.")
def sessions(as_json: bool) -> None:
    """List saved sessions: name, target, current step, last change."""
    from wizard import headless

    sys.exit(headless.sessions(as_json))


@main.command()
@click.argument("session_name", metavar="SESSION")
@click.option("--headless", "run_headless", is_flag=True, help="Resume without the TUI.")
@click.option("--json", "as_json", is_flag=True, help="With --headless: machine-readable results on stdout.")
@click.option("--login", default="auto", show_default=True, metavar="METHOD[,METHOD]",
              help=_LOGIN_HELP + " On resume, auto signs in the way the session did before.")
def resume(session_name: str, run_headless: bool, as_json: bool, login: str) -> None:
    """Reopen a saved session where it stopped (it remembers its target: real Azure or which sandbox)."""
    from wizard import headless

    if not run_headless:
        from wizard.tui.launch import run

        sys.exit(run(sandbox=False, resume=session_name))
    sys.exit(headless.resume(session_name, as_json=as_json, login=login))


@main.command()
@click.option("--sandbox", "use_sandbox", is_flag=True,
              help="Check against the running sandbox (default state dir) instead of real Azure.")
@click.option("--sandbox-endpoints", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Check against the sandbox described by this endpoints.json.")
@click.option("--plan", "plan_file", type=click.Path(path_type=Path), default=None, metavar="PLAN.toml",
              help="Also check what this plan needs: its tenants signed in to the Azure CLI, its cluster's context.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable results on stdout.")
@click.option("--timeout", type=click.FloatRange(min=0.1, max=60), default=5.0, show_default=True,
              metavar="SECONDS", help="How long to wait for each endpoint.")
def doctor(use_sandbox: bool, sandbox_endpoints: Path | None, plan_file: Path | None, as_json: bool,
           timeout: float) -> None:
    """Check this machine: Python, Azure CLI and its logins, kubeconfig, network, clock, keyring. Exit 1 on a
    failed check."""
    from wizard import doctor as checks
    from wizard import plan as plans
    from wizard import target

    if use_sandbox and sandbox_endpoints is not None:
        raise click.UsageError("use either --sandbox or --sandbox-endpoints, not both")
    try:
        cloud = target.sandbox(sandbox_endpoints or paths.sandbox_dir() / "endpoints.json") \
            if use_sandbox or sandbox_endpoints else target.real()
        plan = plans.load(plan_file) if plan_file is not None else None
    except (target.TargetError, plans.PlanError) as exc:
        click.echo(f"wi-wizard doctor: {exc}", err=True)
        sys.exit(1)
    findings = checks.run(cloud, plan, timeout=timeout)
    click.echo(checks.to_json(findings, cloud) if as_json else checks.render(findings, cloud))
    sys.exit(checks.exit_code(findings))


@main.command()
@click.argument("session_name", metavar="SESSION")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (needed without a terminal).")
@click.option("--sandbox", "use_sandbox", is_flag=True,
              help="The session's sandbox is the default one (started in the background if none runs).")
@click.option("--sandbox-endpoints", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="The session's sandbox is the one described by this endpoints.json.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable results on stdout.")
@click.option("--login", default="auto", show_default=True, metavar="METHOD[,METHOD]",
              help=_LOGIN_HELP + " auto signs in the way the session did before.")
def teardown(session_name: str, yes: bool, use_sandbox: bool, sandbox_endpoints: Path | None, as_json: bool,
             login: str) -> None:
    """Delete what a session created (after a preview and a confirmation), nothing else."""
    from wizard import teardown as teardown_mod

    if use_sandbox and sandbox_endpoints is not None:
        raise click.UsageError("use either --sandbox or --sandbox-endpoints, not both")
    sys.exit(teardown_mod.command(session_name, yes=yes, sandbox=use_sandbox, endpoints=sandbox_endpoints,
                                  as_json=as_json, login=login))


@main.command()
@click.argument("session_name", metavar="SESSION")
@click.option("--format", "fmt", required=True, metavar="script|manifests|terraform",
              help="script: the az/kubectl commands (bash); manifests: the Kubernetes objects as applied (YAML); "
                   "terraform: azurerm + kubernetes resources (main.tf).")
@click.option("-o", "--output", default=None, metavar="FILE|-",
              help="Where to write (a file, a directory, or - for stdout; default: SESSION-setup.sh, "
                   "SESSION-manifests.yaml or SESSION-main.tf in the current directory).")
def export(session_name: str, fmt: str, output: str | None) -> None:
    """Export what a finished session set up, to reproduce it elsewhere (no sign-in needed, no secret written)."""
    from wizard import export as export_mod

    sys.exit(export_mod.command(session_name, fmt, output))
