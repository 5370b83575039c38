"""Messages from the engine (running in a worker thread) to the screens."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # the engine's modules are not on the first frame's path
    from wizard.diagnose import Diagnosis
    from wizard.steps.base import Event


class EngineEvent(Message):
    """Something a step reported (progress, a wait with its countdown, a log line).

    A "log" event may carry several of the workload's lines joined by "\\n": the app hands a chatty pod's lines
    over in batches (see `WizardApp._report`), so a handler of log events splits the message into lines."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class StepFinished(Message):
    """A step's run ended: `diagnosis` is None on success. It arrives after every event the step reported."""

    def __init__(self, step: str, diagnosis: Diagnosis | None) -> None:
        super().__init__()
        self.step = step
        self.diagnosis = diagnosis


class EventsQueued(Message):
    """To the app, from a worker thread: engine events are waiting in the app's queue to be handed to the screen."""
