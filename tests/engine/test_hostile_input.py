"""Hostile input: whatever a plan field or a file holds, the user gets a short, printable message and exit 2 —
never a traceback, never a changed or lost file — and whatever is valid survives the trip through a TOML file.

Properties (hypothesis) over every validator of wizard/names.py and over Plan.from_dict: messages are bounded and
free of control characters (a hostile value is quoted escaped and shortened, never echoed raw into a terminal);
valid plans round-trip through TOML text. Then hostile files through the real CLI: plan files for `apply` and
session files for `resume --headless` that are truncated, not the right format, of the wrong types, with unknown
keys, from a future version, symlinks, directories and unreadable.
(Store-level set-aside rules: tests/engine/test_session.py; plan file reading: tests/engine/test_plan.py.)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tests.engine.cli_support import ROOT, SEED_PLAN, endpoints, no_traceback
from tests.engine.test_plan import HOSTILE, _name_validators, plan_like, valid, with_value
from wizard import names
from wizard.plan import PLACEHOLDERS, Plan, PlanError
from wizard.sandbox import Sandbox
from wizard.session import SCHEMA_VERSION, Session, SessionStore, Target

PROPERTY = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
MAX_MESSAGE = 300  # a validator's sentence
# One `key = 'value…': message` line of a PlanError: key and value are cut to 60 characters, then escaped (up to
# ten characters each), so the line stays this short whatever the input's size.
MAX_PROBLEM_LINE = 1500

hostile_text = (st.text() | st.sampled_from(HOSTILE)
                | st.text(alphabet=st.characters(codec="utf-8"), min_size=1000, max_size=5000)
                | st.builds(lambda a, b: a + b, st.text(max_size=20), st.sampled_from(["\x00", "\x1b[2J", "\u202e",
                                                                                       "\x7f", "\x85", "\r\n"])))


def printable_lines(text: str) -> bool:
    return all(line.isprintable() for line in text.split("\n"))


# -- validators and Plan.from_dict -------------------------------------------------------------------------------

@PROPERTY
@given(value=hostile_text)
@example(value="\x1b]0;pwned\x07")
@example(value="../../etc/passwd\x00")
def test_every_validator_answers_hostile_text_with_a_short_printable_sentence(value: str) -> None:
    def pod_name(v: str) -> str | None:
        return names.object_name(v, "a pod name")

    validators: list[Callable[[str], str | None]] = [*_name_validators(), pod_name]
    for validator in validators:
        verdict = validator(value)
        if verdict is not None:
            assert 0 < len(verdict) <= MAX_MESSAGE, verdict[:100]
            assert verdict.isprintable(), f"{verdict!r} carries control characters"


FIELDS = ["cluster.tenant", "cluster.subscription", "cluster.resource_group", "cluster.name", "identity.tenant",
          "identity.subscription", "identity.resource_group", "identity.location", "identity.name",
          "federation.name", "federation.audience", "kubernetes.namespace", "kubernetes.service_account",
          "workload.pod", "workload.image", "workload.probe_resource", "roles.0.role", "roles.0.scope"]


def refusal(data: Any) -> PlanError | None:
    try:
        Plan.from_dict(data)
    except PlanError as exc:
        return exc
    return None


def assert_readable(exc: PlanError) -> None:
    text = str(exc)
    assert printable_lines(text), repr(text[:300])
    for line in text.splitlines():
        assert len(line) <= MAX_PROBLEM_LINE, line[:120]


@PROPERTY
@given(field=st.sampled_from(FIELDS), value=hostile_text)
def test_a_hostile_value_in_any_plan_field_is_refused_or_kept_and_named_in_short_printable_lines(field: str,
                                                                                                  value: str) -> None:
    refused = refusal(with_value(field, value))
    if refused is None:
        plan = Plan.from_dict(with_value(field, value))
        assert plan.problems() == []
    else:
        assert_readable(refused)
        assert all(p.key.startswith(field.split(".", maxsplit=1)[0]) for p in refused.problems)


@PROPERTY
@given(name=hostile_text, value=hostile_text)
@example(name="E" * 10_000, value="x")
@example(name="A\x1b[31m", value="x")
@example(name="X", value="${" + "\x1b" * 5000 + "}")
@example(name="X", value="${" + "a" * 5000 + "}")
def test_hostile_environment_variables_are_named_in_short_printable_lines(name: str, value: str) -> None:
    refused = refusal(with_value("workload.env", {name: value}))
    if refused is not None:
        assert_readable(refused)


@PROPERTY
@given(data=plan_like)
@example(data={"k" * 10_000: 1})
@example(data={"cluster": {"\x1b[2J\u202e": "x"}})
def test_arbitrary_plan_data_is_refused_in_short_printable_lines(data: Any) -> None:
    refused = refusal(data)
    if refused is not None:
        assert_readable(refused)


# -- valid plans round-trip through TOML -------------------------------------------------------------------------

def toml_text(data: dict[str, Any]) -> str:
    """A plan dict as a TOML file (strings as basic strings: JSON's escapes are TOML's, unicode kept as is)."""

    def scalar(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return json.dumps(value, ensure_ascii=False)

    def body(table: dict[str, Any]) -> list[str]:
        lines = [f"{json.dumps(k)} = {scalar(v)}" for k, v in table.items() if not isinstance(v, dict)]
        for key, sub in table.items():
            if isinstance(sub, dict):
                lines.append(f"{json.dumps(key)} = {{ " + ", ".join(
                    f"{json.dumps(k, ensure_ascii=False)} = {scalar(v)}" for k, v in sub.items()) + " }")
        return lines

    out: list[str] = []
    for section, content in data.items():
        if isinstance(content, list):
            for item in content:
                out += [f"[[{section}]]", *body(item)]
        else:
            out += [f"[{section}]", *body(content)]
    return "\n".join(out) + "\n"


guid = st.uuids().map(str)
label = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?\Z")
azure_name = st.from_regex(r"\A[A-Za-z0-9][-A-Za-z0-9_]{0,30}\Z")
tenant = guid | label.map(lambda s: f"{s}.onmicrosoft.com")
scope = st.sampled_from(["subscription", "resource-group"]) | st.builds(
    lambda sub, rg: f"/subscriptions/{sub}/resourceGroups/{rg}", guid, azure_name)
env_values = st.text(max_size=200) | st.sampled_from([f"${{{p}}}" for p in PLACEHOLDERS]) | st.just("ünïcødé ✓ 名前")


@st.composite
def valid_plans(draw: st.DrawFn) -> dict[str, Any]:
    data = valid()
    data["cluster"].update(tenant=draw(tenant), subscription=draw(guid | azure_name),
                           resource_group=draw(azure_name), name=draw(azure_name),
                           enable_workload_identity=draw(st.booleans()))
    data["identity"].update(tenant=draw(tenant), subscription=draw(guid | azure_name),
                            resource_group=draw(azure_name), name=draw(azure_name), location=draw(label),
                            reuse=draw(st.booleans()))
    data["roles"] = draw(st.lists(st.fixed_dictionaries({"role": st.sampled_from(["Reader", "Contributor"]) | guid,
                                                         "scope": scope}), min_size=1, max_size=3))
    data["federation"] = {"name": draw(azure_name), "audience": "api://AzureADTokenExchange"}
    data["kubernetes"] = {"namespace": draw(label), "service_account": draw(label)}
    data["workload"]["env"] = draw(st.dictionaries(st.from_regex(r"\A[A-Z_][A-Z0-9_]{0,20}\Z"), env_values,
                                                   max_size=4))
    return data


@settings(PROPERTY, max_examples=40)  # each example is a whole plan of many drawn fields
@given(data=valid_plans())
def test_a_valid_plan_survives_a_trip_through_a_toml_file_unchanged(data: dict[str, Any]) -> None:
    assume(refusal(data) is None)  # a drawn env name may be one the webhook sets, or a value a control character
    plan = Plan.from_dict(data)

    again = Plan.from_dict(tomllib.loads(toml_text(plan.to_dict())))

    assert again == plan


# -- hostile files through the CLI -------------------------------------------------------------------------------

def run_cli(*args: str | Path, unprivileged: bool = False) -> subprocess.CompletedProcess[str]:
    """`python -m wizard ARGS`; `unprivileged` drops the power to read any file (root has it), so that a file
    without read permission is unreadable to the program as it is to any user."""
    command = [sys.executable, "-m", "wizard", *map(str, args)]
    if unprivileged and os.geteuid() == 0:
        drop = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}", *command]
    return subprocess.run(command, env=os.environ.copy(), cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)


def refused_cleanly(run: subprocess.CompletedProcess[str], words: str) -> None:
    assert run.returncode == 2, run.stdout + run.stderr
    no_traceback(run)
    # The program's own refusal, or the command line's (click checks a PLAN.toml argument is readable first).
    assert run.stderr.startswith("wi-wizard: ") or "\nError: Invalid value for 'PLAN.toml'" in run.stderr, run.stderr
    assert words in run.stderr, run.stderr
    assert len(run.stderr) < 2000 and printable_lines(run.stderr.rstrip("\n"))


SEED_TEXT = SEED_PLAN.read_text()


def _unreadable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0)


def _directory_with_a_file(path: Path) -> None:
    path.mkdir()
    (path / "inside.txt").write_text("kept")

PLAN_FILES: dict[str, tuple[Callable[[Path], object], str]] = {
    "truncated": (lambda p: p.write_text(SEED_TEXT[:SEED_TEXT.index('name = "aks-wi-demo"') + 12]),
                  "is not valid TOML"),
    "not TOML (JSON)": (lambda p: p.write_text(json.dumps(valid())), "is not valid TOML"),
    "binary": (lambda p: p.write_bytes(b"\x00\xff\xfe" * 100), "is not UTF-8 text"),
    "wrong types": (lambda p: p.write_text(SEED_TEXT.replace('name = "aks-wi-demo"', "name = 42")),
                    "cluster.name: expected text, got 42"),
    "unknown keys": (lambda p: p.write_text(SEED_TEXT + '\n[secrets]\npassword = "hunter2"\n'),
                     "secrets: unknown key"),
    "a future format": (lambda p: p.write_text('version = 2\n' + SEED_TEXT), "version: unknown key"),
    "a directory": (lambda p: p.mkdir(), "is a directory"),
    "a symlink to a directory": (lambda p: p.symlink_to(p.parent), "is a directory"),
    "a dangling symlink": (lambda p: p.symlink_to(p.parent / "nowhere.toml"), "does not exist"),
    "unreadable": (lambda p: _unreadable(p, SEED_TEXT), "is not readable"),
}


def snapshot(path: Path) -> tuple[str, bytes | str | None]:
    """What a path is, byte for byte (a link by its target, a directory by its listing)."""
    if path.is_symlink():
        return "link", os.readlink(path)
    if path.is_dir():
        return "dir", "\n".join(sorted(os.listdir(path)))
    mode = path.stat().st_mode
    path.chmod(0o600)
    try:
        return f"file {oct(mode)}", path.read_bytes()
    finally:
        path.chmod(mode)


@pytest.mark.parametrize("case", list(PLAN_FILES))
def test_a_hostile_plan_file_is_refused_by_apply_with_exit_2_and_left_as_it_was(
        sandbox: Sandbox, tmp_path: Path, case: str) -> None:
    make, words = PLAN_FILES[case]
    path = tmp_path / "plans" / "plan.toml"
    path.parent.mkdir()
    make(path)
    before = snapshot(path)

    run = run_cli("apply", path, "--sandbox-endpoints", endpoints(sandbox), unprivileged=case == "unreadable")

    refused_cleanly(run, words)
    assert f"{path} is not a usable plan" in run.stderr or (case == "unreadable" and f"'{path}'" in run.stderr)
    assert run.stdout == ""
    assert snapshot(path) == before
    assert not SessionStore().directory.exists() or not any(SessionStore().directory.iterdir()), \
        "no session was started"


def _session_json(**changes: Any) -> str:
    data = json.loads(Session("bad", Plan.from_dict(valid()), Target("sandbox", "/nowhere/endpoints.json"))
                      .to_json())
    data.update(changes)
    return json.dumps(data, indent=2)


GOOD_SESSION = _session_json()

SESSION_FILES: dict[str, tuple[Callable[[Path], object], str]] = {
    "truncated": (lambda p: p.write_text(GOOD_SESSION[:len(GOOD_SESSION) // 2]), "it is not JSON"),
    "not JSON": (lambda p: p.write_text(SEED_TEXT), "it is not JSON"),
    "wrong types": (lambda p: p.write_text(_session_json(state=["cluster"])), "state should be text"),
    "unknown keys": (lambda p: p.write_text(_session_json(access_token="eyJhbGciOi.x.y")),
                     "it has unknown keys: access_token"),
    "a future schema": (lambda p: p.write_text(_session_json(schema=SCHEMA_VERSION + 1)),
                        "it was written by a newer wi-wizard"),
    "a symlink": (lambda p: p.symlink_to(p.parent.parent / "elsewhere.json"), "it is not a regular file"),
    "a directory": (_directory_with_a_file, "it is not a regular file"),
    "unreadable": (lambda p: _unreadable(p, GOOD_SESSION),
                   "cannot be read (" + "{path}: permission denied); fix the file's permissions"),
}


@pytest.mark.parametrize("case", list(SESSION_FILES))
def test_a_hostile_session_file_is_refused_by_resume_with_exit_2_and_its_bytes_kept(tmp_path: Path,
                                                                                    case: str) -> None:
    store = SessionStore()
    store.directory.mkdir(parents=True, mode=0o700)
    (store.directory.parent / "elsewhere.json").write_text(GOOD_SESSION)
    path = store.path("bad")
    make, words = SESSION_FILES[case]
    make(path)
    before = snapshot(path)

    run = run_cli("resume", "bad", "--headless", unprivileged=case == "unreadable")

    refused_cleanly(run, words.format(path=path))
    assert run.stdout == ""
    if case == "unreadable":  # not set aside: the file is fine, its permissions are not
        assert snapshot(path) == before
        return
    aside = re.search(r"The file was kept as (\S+) and was not changed", run.stderr)
    assert aside, run.stderr
    kept = Path(aside.group(1))
    assert kept.parent == store.directory and not path.exists() and not path.is_symlink()
    assert snapshot(kept) == before, "the original is kept byte for byte under its new name"
    assert (store.directory.parent / "elsewhere.json").read_text() == GOOD_SESSION, "a link's target is untouched"
    shutil.rmtree(store.directory)
