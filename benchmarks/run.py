"""The one benchmark command: `python -m benchmarks [NAME …] [--runs N] [--quick]` (or `benchmarks/run.py`).

Runs the chosen benchmarks (all by default) in order, prints one table (benchmark, measured, baseline, ratio,
goal, met?) and writes it as Markdown to benchmarks/results.md with the machine it ran on, so the README can
show the latest numbers. Exit status 0 when every benchmark ran (goals missed are reported, not failures);
1 when one crashed (its row says why).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: benchmarks/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Row, machine

# Name → module; the order is the table's.
BENCHMARKS = {
    "startup": "benchmarks.startup",
    "seed": "benchmarks.seed",
    "logs": "benchmarks.logs",
    "resume": "benchmarks.resume",
    "capacity": "benchmarks.capacity",
}
RESULTS = Path(__file__).resolve().parent / "results.md"
HEADER = ("benchmark", "measured", "baseline", "ratio", "goal", "met?")


def _mark(met: bool | None) -> str:
    return "—" if met is None else "yes" if met else "NO"


def _cells(row: Row) -> tuple[str, ...]:
    return (row.benchmark, row.measured, row.baseline, row.ratio, row.goal, _mark(row.met))


def text_table(rows: list[Row]) -> str:
    table = [HEADER, *(_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  {r.benchmark}: {r.note}" for r in rows if r.note]
    return "\n".join(lines + (["", "Notes:", *notes] if notes else []))


def markdown(rows: list[Row], *, command: str, runs: int, quick: bool, took: float) -> str:
    def esc(cell: str) -> str:
        return cell.replace("|", "\\|")

    out = [
        "# Benchmark results",
        "",
        f"Command: `{command}` · {runs} run(s) per measurement (medians){' · quick smoke pass' if quick else ''}"
        f" · took {took:.0f} s",
        "",
        f"Machine: {machine()} · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
        *("| " + " | ".join(esc(c) for c in _cells(r)) + " |" for r in rows),
    ]
    notes = [f"- **{r.benchmark}**: {r.note}" for r in rows if r.note]
    if notes:
        out += ["", "Notes:", "", *notes]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run wi-wizard's ratio benchmarks and print (and write to benchmarks/results.md) the table.")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"which to run (default all): {', '.join(BENCHMARKS)}")
    parser.add_argument("--runs", type=int, default=None, metavar="N",
                        help="runs per measurement; the table shows medians (default 5, 1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="a fast smoke pass: one run, smaller workloads (numbers are not comparable)")
    parser.add_argument("--output", type=Path, default=None, metavar="FILE",
                        help="where to write the Markdown table (default: "
                             f"{RESULTS.relative_to(RESULTS.parents[1])} for a full run of every benchmark; a subset "
                             "or --quick writes no file unless asked, so the published table is never half replaced)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    runs = args.runs if args.runs is not None else (1 if args.quick else 5)
    if runs < 1:
        parser.error("--runs must be at least 1")
    names = args.names or list(BENCHMARKS)
    print(f"Machine: {machine()}", flush=True)
    started = time.monotonic()
    rows: list[Row] = []
    crashed = False
    for name in names:
        print(f"== {name} ({runs} run(s){', quick' if args.quick else ''}) ...", flush=True)
        t0 = time.monotonic()
        try:
            module = importlib.import_module(BENCHMARKS[name])
            found: list[Row] = module.run(runs=runs, quick=args.quick)
        except Exception as exc:  # one broken benchmark must not hide the others' results
            traceback.print_exc()
            found = [Row(name, "error", "", "", "", False, f"crashed: {type(exc).__name__}: {exc}")]
            crashed = True
        for row in found:
            print(f"   {row.benchmark}: {row.measured} vs {row.baseline} -> {row.ratio} (goal {row.goal}: "
                  f"{_mark(row.met)})", flush=True)
        print(f"   ({time.monotonic() - t0:.0f} s)", flush=True)
        rows.extend(found)
    took = time.monotonic() - started
    command = "python -m benchmarks" + "".join(f" {n}" for n in args.names) \
        + (f" --runs {args.runs}" if args.runs is not None else "") + (" --quick" if args.quick else "")
    print()
    print(text_table(rows))
    output = args.output or (RESULTS if not args.names and not args.quick else None)
    if output is not None:
        output.write_text(markdown(rows, command=command, runs=runs, quick=args.quick, took=took))
        print(f"\nWritten to {output}")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
