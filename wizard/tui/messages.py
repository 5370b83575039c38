"""Messages from the engine (running in a worker thread) to the screens."""

from __future__ import annotations

from textual.message import Message

from wizard.diagnose import Diagnosis
from wizard.steps.base import Event


class EngineEvent(Message):
    """Something a step reported (progress, a wait with its countdown, a log line)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class StepFinished(Message):
    """A step's run ended: `diagnosis` is None on success."""

    def __init__(self, step: str, diagnosis: Diagnosis | None) -> None:
        super().__init__()
        self.step = step
        self.diagnosis = diagnosis
