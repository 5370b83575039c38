"""What importing the wizard costs: the UI-free core never imports Textual, and nothing imports the Azure SDKs, the
kubernetes client or the sandbox's server (aiohttp) before it needs them, so the first frame and `--help` stay fast.

Checked in a fresh interpreter each time: this test process has long since imported all of them.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import wizard

PACKAGE = Path(wizard.__file__).parent
CORE = ["wizard.plan", "wizard.session", "wizard.flow", "wizard.engine", "wizard.headless", "wizard.diagnose",
        "wizard.target", "wizard.names", "wizard.paths", "wizard.web", "wizard.workloads"]
LAZY = ["azure", "kubernetes", "textual"]


def _modules_of(package: str) -> list[str]:
    path = PACKAGE / package.split(".", 1)[1]
    return [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(path)])]


def core_modules() -> list[str]:
    return [*CORE, *_modules_of("wizard.steps"), *_modules_of("wizard.azure"), *_modules_of("wizard.kube")]


def newly_loaded(modules: list[str], watched: list[str]) -> dict[str, list[str]]:
    """Import `modules` one after another in a fresh interpreter; for each, which of `watched` (top-level packages
    or full module names) its import brought in."""
    code = (
        "import importlib, json, sys\n"
        f"watched = {watched!r}\n"
        "def loaded():\n"
        "    return {w for w in watched if w in sys.modules or any(m.startswith(w + '.') for m in sys.modules)}\n"
        "found = {}\n"
        f"for name in {modules!r}:\n"
        "    before = loaded()\n"
        "    importlib.import_module(name)\n"
        "    found[name] = sorted(loaded() - before)\n"
        "print(json.dumps(found))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return dict(json.loads(done.stdout))


def test_the_core_modules_are_all_listed() -> None:
    modules = core_modules()
    for expected in ("wizard.steps.login", "wizard.steps.logs", "wizard.steps.base", "wizard.azure.arm",
                     "wizard.azure.credentials", "wizard.kube.client"):
        assert expected in modules


def test_importing_the_engine_loads_neither_textual_nor_azure_nor_kubernetes() -> None:
    found = newly_loaded(core_modules(), LAZY)

    offenders = {name: loaded for name, loaded in found.items() if loaded}
    assert offenders == {}, f"imported at module level (import them inside the function that needs them): {offenders}"
    assert set(found) == set(core_modules())


def test_importing_the_command_line_loads_no_sdk_and_no_sandbox_server() -> None:
    found = newly_loaded(["wizard.cli"], ["azure", "kubernetes", "textual", "aiohttp", "wizard.sandbox.server"])
    assert found == {"wizard.cli": []}


def textual_imports(source: str) -> list[int]:
    """Lines of `source` that import textual, at module level or inside functions."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        if any(name.split(".")[0] == "textual" for name in names):
            lines.append(node.lineno)
    return lines


def test_the_textual_import_finder_sees_every_form_and_nothing_else() -> None:
    source = ("import os, textual\n"
              "def f():\n    import textual.app\n    from textual.widgets import Button\n"
              "from . import textual_like\nimport textualize\n'import textual'\n")
    assert textual_imports(source) == [1, 3, 4]


def test_no_module_outside_wizard_tui_imports_textual_even_lazily() -> None:
    """The import check above sees module-level imports; this one also sees imports inside functions."""
    tui = PACKAGE / "tui"
    offenders = [f"{path.relative_to(PACKAGE.parent)}:{line}" for path in sorted(PACKAGE.rglob("*.py"))
                 if tui not in path.parents for line in textual_imports(path.read_text())]
    assert offenders == [], "Textual belongs to wizard/tui only"
