"""`wi-wizard teardown SESSION` as a user runs it (a subprocess, stdin not a terminal) against a private sandbox:
at a terminal a "no" deletes nothing; without --yes and without a terminal it shows the preview and refuses;
with --yes --json it removes the session's resources and says so in JSON; run again it has nothing left to
remove; an unknown session or conflicting flags exit 2 with a clear message, never a traceback."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable

import pytest
from click.testing import CliRunner

from tests.engine.cli_support import ROOT, census, endpoints, no_traceback
from tests.engine.test_teardown import ASSIGNMENT, FIC, GROUP, IDENTITY, SEED_ORDER, applied
from wizard import cli
from wizard import teardown as teardown_mod
from wizard.sandbox import Sandbox
from wizard.session import SessionStore


def teardown(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m wizard teardown ARGS` with stdin that is not a terminal (WI_WIZARD_HOME: the test's)."""
    return subprocess.run([sys.executable, "-m", "wizard", "teardown", *args], env=os.environ.copy(), cwd=ROOT,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False)


def test_declined_or_refused_deletes_nothing_then_yes_removes_everything_and_a_rerun_has_nothing_left(
        make_sandbox: Callable[..., Sandbox], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) \
        -> None:
    box = make_sandbox()
    applied(box, SessionStore())  # the default store: the one the subprocess reads
    before = census(box)
    where = ("--sandbox-endpoints", str(endpoints(box)))

    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))  # at a terminal, the person answers no
    declined = teardown_mod.command("seed", interactive=lambda: True)

    assert declined == 1
    out = capsys.readouterr().out
    assert "Remove the 6 item(s) marked delete / remove annotations? [y/N]" in out and "Nothing was deleted." in out
    assert census(box) - before == {}

    refused = teardown("seed", *where)

    no_traceback(refused)
    assert refused.returncode == 2
    assert "no terminal to confirm on" in refused.stderr and "--yes" in refused.stderr
    assert "delete             pod default/wi-demo-app: created by this session" in refused.stdout
    assert "keep               cluster aks-wi-demo: never touched" in refused.stdout
    assert census(box) - before == {}

    done = teardown("seed", *where, "--yes", "--json")

    no_traceback(done)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert [(i["kind"], i["action"]) for i in result["items"]] == SEED_ORDER
    assert len(result["deleted"]) == 6 and result["failed"] == [] and result["ok"] is True
    assert "deleted managed identity mi-wi-demo" in done.stderr  # progress goes to stderr under --json
    assert census(box) - before == {"pods": -1, "serviceaccounts": -1, FIC: -1, ASSIGNMENT: -1, IDENTITY: -1,
                                    GROUP: -1}

    again = teardown_mod.command("seed", yes=True)

    assert again == 0
    assert "Nothing left to remove for session seed." in capsys.readouterr().out


def test_an_unknown_session_exits_2_saying_how_to_list_the_saved_ones() -> None:
    run = CliRunner().invoke(cli.main, ["teardown", "no-such-session", "--yes"])

    assert run.exit_code == 2 and "Traceback" not in run.output
    assert "no session named 'no-such-session'" in run.stderr and "wi-wizard sessions" in run.stderr


def test_sandbox_and_sandbox_endpoints_together_are_a_usage_error() -> None:
    run = CliRunner().invoke(cli.main, ["teardown", "seed", "--sandbox", "--sandbox-endpoints", "x.json"])

    assert run.exit_code == 2 and "either --sandbox or --sandbox-endpoints" in run.stderr
