"""The trust step with the chain of trust drawn above the generic step body: each arrow turns green or red as the
step announces its links, so the person sees which hop holds before the whole check ends."""

from __future__ import annotations

from textual import on
from textual.events import Mount

from wizard.tui.messages import EngineEvent, StepFinished
from wizard.tui.screens.step import StepScreen
from wizard.tui.widgets.trust_diagram import TrustDiagram, link_from_event, trust_panel


class TrustScreen(StepScreen):
    @on(Mount)
    async def _show_diagram(self) -> None:
        # StepScreen.on_mount runs too: it shows a saved diagnosis.
        await self.query_one("#body").mount(trust_panel(TrustDiagram(self.session)), after="#step-title")

    def action_run(self) -> None:
        if not self.finished:
            # A new run checks every link again: forget the saved states until it announces them.
            self.query_one(TrustDiagram).show(self.session, {})
        super().action_run()

    def on_engine_event(self, message: EngineEvent) -> None:
        # StepScreen.on_engine_event also runs and logs the event.
        found = link_from_event(message.event.message) if message.event.step == self.step else None
        if found is not None:
            diagram = self.query_one(TrustDiagram)
            link, state = found
            diagram.show(self.session, {**diagram.states, link: state})

    def on_step_finished(self, message: StepFinished) -> None:
        # The engine has saved the run's link states in the session by now; they are the final word.
        self.query_one(TrustDiagram).show(self.session)
