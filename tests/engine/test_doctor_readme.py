"""The README's real-Azure troubleshooting table says what the wizard says: every diagnosis rule, and the sign-in
wording of the login step, appears there with its code, cause and fix verbatim (so the two cannot drift apart)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wizard.diagnose import RULES
from wizard.steps.login import _AT_SIGN_IN

README = Path(__file__).resolve().parents[2] / "README.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    assert "## Using wi-wizard with real Azure" in text
    return text.split("## Using wi-wizard with real Azure", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_every_diagnosis_rule_is_in_the_readme_troubleshooting_table(rule: Any) -> None:
    section = _section()
    code, cause, fix = rule.code, rule.cause, rule.fix

    codes = ["AADSTS53003", "AADSTS50005"] if code == "AADSTS-ConditionalAccess" else [code]
    assert all(f"`{c}`" in section for c in codes)
    if code in _AT_SIGN_IN and rule.step == "login":
        cause, fix = _AT_SIGN_IN[code][1:]  # only ever shown by the login step, which words it for sign-in
    assert f"| {cause} | {fix} |" in section


@pytest.mark.parametrize("code", sorted(_AT_SIGN_IN))
def test_every_sign_in_explanation_is_in_the_readme_troubleshooting_table(code: str) -> None:
    _, cause, fix = _AT_SIGN_IN[code]

    assert f"| {cause} | {fix} | login |" in _section()
