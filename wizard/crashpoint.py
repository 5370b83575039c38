"""Crash points: named places where a crash-safety test makes the process SIGKILL itself.

A test names one point in `WI_WIZARD_CRASH_AT` (e.g. `applied:identity`, `lro:cluster`, `wait:trust`) and the
process kills itself exactly there, between two lines a real crash could separate: chosen by hooks, not by sleeps,
so every run dies at the same place. Unset in normal use, where each call is one environment lookup.

The points: `boundary:<step>` (outcome saved, flow not moved on) and `applied:<step>` (apply returned, outcome not
saved) in the engine; `accepted:cluster` (the cluster update's PUT accepted, its operation running) and
`lro:cluster` (polling that operation) in the ARM gateway; `wait:<step>` (a visible wait, e.g. the trust check
waiting out propagation); `starting:logs` (the pod seen, its container not yet running) and `streaming:logs` (a
log line read, no verdict yet) in the logs step.
"""

from __future__ import annotations

import os
import signal

CRASH_AT_ENV = "WI_WIZARD_CRASH_AT"


def crash_point(point: str) -> None:
    if os.environ.get(CRASH_AT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
