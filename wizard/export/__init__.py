"""Export what a finished session set up, so a team can reproduce it in its own pipeline: a bash script of the
equivalent `az`/`kubectl` commands, the Kubernetes manifests exactly as applied, or Terraform.

Everything is rendered from the session file alone (its plan and what each step observed): no sign-in, no cloud
call, so an export works offline and long after the sandbox or the login is gone. A session holds no secret, and
neither does an export: a service principal's secret is only ever named as "$AZURE_CLIENT_SECRET".
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from pathlib import Path

from wizard.session import Session

FORMATS = ("script", "manifests", "terraform")
_SUFFIX = {"script": "setup.sh", "manifests": "manifests.yaml", "terraform": "main.tf"}
# The steps whose results an export writes down; the role step may be skipped (a plan without roles).
REQUIRED = ("login", "cluster", "identity", "role", "federation", "deploy")
# The observations an export writes into commands and files, and the characters they may have: what Azure returns
# for them never needs more, and a session file edited to hold `$(…)`, quotes or a newline must not become a
# command in a script someone runs.
USED = {"login": ("cluster_tenant_id", "identity_tenant_id"),
        "cluster": ("subscription_id", "cluster_id", "issuer_url"),
        "identity": ("subscription_id", "resource_group_id", "identity_id", "client_id", "principal_id", "tenant_id"),
        "role": ("scopes",), "federation": ("issuer", "subject", "audience")}
_PLAIN = re.compile(r"[\w@%+=:,./~()-]+")


class ExportError(Exception):
    """The session cannot be exported (yet); the message says what is missing and how to get it."""


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
    return fmt


def check_finished(session: Session) -> None:
    """Refuse a session whose steps up to the deploy have not all succeeded: an export of half a set-up would
    reproduce something that was never proven to work."""
    for step in REQUIRED:
        outcome = session.outcomes.get(step)
        status = outcome.status if outcome is not None else "pending"
        if status == "done" or (status == "skipped" and step == "role"):
            continue
        how = "failed" if status == "failed" else "not run"
        raise ExportError(f"session {session.name!r} cannot be exported yet: its {step} step has {how} (the session "
                          f"is at {session.state!r}). Finish it first with `wi-wizard resume {session.name}`.")


def check_values(session: Session) -> None:
    """Refuse a plan that does not pass the plan's own checks, and observations that no cloud returns (spaces,
    quotes, `$`, control characters): the session file was damaged or edited, and its values would otherwise be
    written into commands."""
    from wizard.plan import Plan, PlanError

    try:
        Plan.from_dict(session.plan.to_dict(), f"the plan of session {session.name!r}")
    except PlanError as exc:
        raise ExportError(f"session {session.name!r} cannot be exported: {exc}") from None
    found = [(f"{step}.{key}", value) for step, keys in USED.items() if step in session.outcomes
             for key in keys for value in _lines(session.outcomes[step].values.get(key, ""), key == "scopes")]
    found += [(f"logins.{side}.account", login.account) for side, login in session.logins.items()
              if login.method in ("service-principal", "sandbox")]  # written into `az login --username`
    for where, value in found:
        if not _PLAIN.fullmatch(value):
            raise ExportError(f"session {session.name!r} cannot be exported: its {where} value {value[:80]!r} is not "
                              "what Azure returns (the session file was damaged or edited). Run that step again with "
                              f"`wi-wizard resume {session.name}`.")


def _lines(value: str, several: bool) -> list[str]:
    """The values one observation holds: the role step's `scopes` are newline-separated, others are one value."""
    return value.split("\n") if several else [value] if value else []


def render(session: Session, fmt: str) -> str:
    """The export of a finished session in one of FORMATS, as text (ExportError when it cannot be made)."""
    check_format(fmt)
    check_finished(session)
    check_values(session)
    module = importlib.import_module(f"wizard.export.{fmt}")
    text: str = module.render(session)
    return text


def default_filename(session: Session, fmt: str) -> str:
    return f"{session.name}-{_SUFFIX[check_format(fmt)]}"


def write(session: Session, fmt: str, path: Path | None = None) -> Path:
    """Write the export as 0644 text (run the script with `bash FILE`) to `path`, default: `default_filename` in
    the current directory. Returns the path written."""
    text = render(session, fmt)
    target = path if path is not None else Path(default_filename(session, fmt))
    try:
        target.write_text(text, encoding="utf-8")
        os.chmod(target, 0o644)
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}; choose another file with -o") from None
    return target


def command(session_name: str, fmt: str, output: str | None) -> int:
    """`wi-wizard export`: 0 when written (its path printed; `-o -` prints the export itself), 2 when the session or
    the format cannot be used (one message saying why and what to do, never a traceback)."""
    from wizard.session import SessionError, SessionStore

    try:
        check_format(fmt)
        session = SessionStore().load(session_name)
        if output == "-":
            sys.stdout.write(render(session, fmt))
            return 0
        target = Path(output) if output else None
        if target is not None and target.is_dir():
            target = target / default_filename(session, fmt)
        written = write(session, fmt, target)
    except (ExportError, SessionError) as exc:
        print(f"wi-wizard export: {exc}", file=sys.stderr)
        return 2
    print(f"Wrote {written} ({fmt} of session {session.name}).")
    return 0
