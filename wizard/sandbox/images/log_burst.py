"""A benchmark image (`wi-wizard/log-burst*`): prints `WI_LOG_LINES` numbered lines (default 200000) as fast as
it can, then exits 0 — a chatty pod for measuring how fast log readers keep up (benchmarks/logs.py).

Lines look like `log-burst 000042 ` + filler, 80 characters, the last one `log-burst done <count>`, so a reader
knows it has everything. A bad `WI_LOG_LINES` is reported on one line and exits 1.
"""

from __future__ import annotations

import os
import sys

DEFAULT_LINES = 200_000
CHUNK = 5000
DONE = "log-burst done"


def line(index: int) -> str:
    return f"log-burst {index:06d} " + "x" * 63


def main() -> int:
    raw = os.environ.get("WI_LOG_LINES") or str(DEFAULT_LINES)
    try:
        count = int(raw)
        if count < 0:
            raise ValueError
    except ValueError:
        print(f"log-burst: WI_LOG_LINES must be a whole number of lines, not {raw!r}", flush=True)
        return 1
    out = sys.stdout
    for start in range(0, count, CHUNK):
        out.write("".join(line(i) + "\n" for i in range(start, min(start + CHUNK, count))))
    out.write(f"{DONE} {count}\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
