"""The benchmark command works end to end: one tiny benchmark in --quick mode prints the table and writes it as
Markdown. Only that the table is produced is asserted, never the numbers (benchmarks are not timed tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmark_run_prints_the_table_and_writes_it_as_markdown(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    result = subprocess.run([sys.executable, "-m", "benchmarks", "capacity", "--quick", "--output", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Machine: " in result.stdout and "CPUs" in result.stdout
    header = ["benchmark", "measured", "baseline", "ratio", "goal", "met?"]
    table_lines = result.stdout.splitlines()
    assert any(line.split() == header for line in table_lines)
    assert any(line.startswith("capacity: ARM GET resource group") for line in table_lines)
    assert any(line.startswith("capacity: Kubernetes GET namespace") for line in table_lines)
    text = out.read_text()
    assert "| " + " | ".join(header) + " |" in text
    assert "| capacity: ARM GET resource group |" in text and "Machine: " in text


def test_an_unknown_benchmark_name_is_a_usage_error_naming_the_choices(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "benchmarks", "nosuch", "--output", str(tmp_path / "r.md")],
                            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 2
    assert "unknown benchmark(s) nosuch; choose from startup, seed, logs, resume, capacity" in result.stderr
    assert not (tmp_path / "r.md").exists()
