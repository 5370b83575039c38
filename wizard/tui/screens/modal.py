"""A modal over a step screen that keeps the engine's messages flowing to that step screen.

The app posts engine events and `StepFinished` to whatever screen is on top; while a modal is up that is the
modal, so it hands a copy of each message to the screen beneath (the step screen keeps its log, its rail and its
"Continue" button right) and lets subclasses react to a step finishing.
"""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen, Screen

from wizard.tui.messages import EngineEvent, StepFinished

ResultT = TypeVar("ResultT")


class EngineModal(ModalScreen[ResultT]):
    def _beneath(self) -> Screen[object] | None:
        stack = self.app.screen_stack
        if self not in stack:  # already popped (e.g. the flow moved on): nothing to hand the message to
            return None
        index = stack.index(self)
        return stack[index - 1] if index > 0 else None

    def on_engine_event(self, message: EngineEvent) -> None:
        message.stop()
        if (beneath := self._beneath()) is not None:
            beneath.post_message(EngineEvent(message.event))

    def on_step_finished(self, message: StepFinished) -> None:
        message.stop()
        if (beneath := self._beneath()) is not None:
            beneath.post_message(StepFinished(message.step, message.diagnosis))
        self.step_finished(message)

    def step_finished(self, message: StepFinished) -> None:
        """A step's run ended while this modal was up (after the step screen has been told)."""

    def close(self, result: ResultT | None = None) -> None:
        """Dismiss, but only while on top: `dismiss` pops whatever screen is on top."""
        if self.is_current:
            self.dismiss(result)
