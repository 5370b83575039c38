"""The `wi-wizard` command line."""

from __future__ import annotations

import json
import shlex
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from wizard import __version__, paths


def _state_dir_option(f: Any) -> Any:
    return click.option(
        "--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
        help="Where the sandbox keeps its world, CA and endpoints.json (default: $WI_WIZARD_HOME/sandbox).",
    )(f)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--sandbox", is_flag=True, help="Run against the embedded sandbox instead of real Azure.")
@click.version_option(__version__, prog_name="wi-wizard")
@click.pass_context
def main(ctx: click.Context, sandbox: bool) -> None:
    """Set up cross-tenant AKS workload identity, and prove it with live pod logs."""
    if ctx.invoked_subcommand is not None:
        return
    if sandbox:
        ctx.invoke(serve)
        return
    click.echo(ctx.get_help())


@main.group()
def sandbox() -> None:
    """The embedded sandbox: two Entra tenants, ARM and AKS clusters on loopback HTTPS."""


@sandbox.command()
@_state_dir_option
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0: reuse the last one, or any free one).")
@click.option("--scenario", "scenario_ref", default=None, metavar="NAME|FILE",
              help="The world a fresh state dir starts with (built-in: default).")
@click.option("--faults", default=None, metavar="PROFILE[,PROFILE…]",
              help="Misbehave like Azure does: throttle, flaky, drop, slow-lro, fic-propagation[=S], "
                   "role-propagation[=S], or all.")
@click.option("--device-code-approve", type=click.FloatRange(min=0), default=2.0, show_default=True,
              metavar="SECONDS", help="Approve device-code logins automatically after this long.")
@click.option("--manual-approval", is_flag=True, help="Never approve device codes automatically.")
def serve(state_dir: Path | None, port: int, scenario_ref: str | None, faults: str | None,
          device_code_approve: float, manual_approval: bool) -> None:
    """Run the sandbox in the foreground until Ctrl-C (SIGINT) or SIGTERM."""
    from wizard.sandbox.faults import Faults, FaultSpecError
    from wizard.sandbox.server import Sandbox, SandboxError
    from wizard.sandbox.world import Settings

    try:
        fault_profile = Faults.parse(faults)
    except FaultSpecError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from None
    settings = Settings(device_code_auto_approve=None if manual_approval else device_code_approve)
    box = Sandbox(state_dir, port=port, scenario_ref=scenario_ref, faults=fault_profile, settings=settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        box.start()
    except SandboxError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        click.echo(f"Sandbox listening on {box.base_url} (faults: {box.faults.spec()})")
        click.echo(f"  endpoints: {box.state_dir / 'endpoints.json'}")
        click.echo(f"  CA bundle: {box.ca_bundle}")
        click.echo(f"  kubeconfig: {box.kubeconfig}")
        click.echo(f"  device login page: {box.base_url}/devicelogin")
        click.echo(f"Shell set-up: eval \"$(wi-wizard sandbox env --state-dir {shlex.quote(str(box.state_dir))})\"")
        click.echo("Press Ctrl-C to stop.")
        while not stop.wait(0.5):
            pass
    finally:
        box.stop()
        click.echo("Sandbox stopped.")


@sandbox.command()
@_state_dir_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def reset(state_dir: Path | None, yes: bool) -> None:
    """Forget the sandbox world (tenants, resources, clusters, pods). The CA is kept, so trust set-ups stay."""
    from wizard.sandbox.server import forget_world

    target = (state_dir or paths.sandbox_dir()).absolute()
    if not yes and sys.stdin.isatty():
        click.confirm(f"Forget the sandbox world in {target}?", abort=True)
    try:
        removed = forget_world(target)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Sandbox world forgotten ({removed} file(s) removed from {target})." if removed
               else f"Nothing to forget in {target}.")


@sandbox.command()
@_state_dir_option
@click.option("--tenant", default=None, help="Also export this tenant's service principal (name, domain or ID).")
def env(state_dir: Path | None, tenant: str | None) -> None:
    """Print shell exports that point the Azure SDKs, the Azure CLI and kubectl at a running sandbox."""
    target = (state_dir or paths.sandbox_dir()).absolute()
    endpoints_path = target / "endpoints.json"
    try:
        endpoints = json.loads(endpoints_path.read_text())
    except FileNotFoundError:
        raise click.ClickException(
            f"no running sandbox: {endpoints_path} does not exist. Start one with `wi-wizard sandbox serve`"
            + (f" --state-dir {shlex.quote(str(target))}" if state_dir else "") + ".") from None
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read {endpoints_path}: {exc}") from None
    exports = {
        "WI_WIZARD_SANDBOX_ENDPOINTS": str(endpoints_path),
        "AZURE_AUTHORITY_HOST": endpoints["authority_host"],
        "REQUESTS_CA_BUNDLE": endpoints["ca_bundle"],
        "KUBECONFIG": endpoints["kubeconfig"],
        "AZURE_CONFIG_DIR": str(target / "azure-cli"),
        "AZURE_CORE_COLLECT_TELEMETRY": "false",
    }
    if tenant:
        match = next((t for t in endpoints["tenants"]
                      if tenant.lower() in {t["name"].lower(), t["domain"].lower(), t["tenant_id"].lower()}), None)
        if match is None:
            names = ", ".join(t["name"] for t in endpoints["tenants"])
            raise click.ClickException(f"no tenant {tenant!r} in the sandbox; tenants: {names}")
        sp = match.get("service_principal")
        exports["AZURE_TENANT_ID"] = match["tenant_id"]
        if sp:
            exports["AZURE_CLIENT_ID"] = sp["client_id"]
            exports["AZURE_CLIENT_SECRET"] = sp["client_secret"]
    for name, value in exports.items():
        click.echo(f"export {name}={shlex.quote(value)}")
