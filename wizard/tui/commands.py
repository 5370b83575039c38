"""The command palette's wizard actions (ctrl+p): start a new session, resume a saved one, go back to a step
already reached, run the current step, open the diagnosis, export, tear down, switch dark/light (quit and the
theme picker are Textual's own commands, listed with these).

Only what makes sense now is offered (no "go to" before a session is open, no diagnosis when nothing failed), so
the palette doubles as a list of what can be done from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from wizard.flow import ORDER
from wizard.tui.widgets.step_rail import TITLES

if TYPE_CHECKING:
    from textual.screen import Screen

    from wizard.tui.app import WizardApp

Command = tuple[str, Callable[[], object], str]  # (what the palette shows, what it does, help text)


def reached_steps(app: WizardApp) -> list[str]:
    """The steps the open session has reached: run (done or failed) or current."""
    from wizard.engine import Engine

    engine = app.engine
    if not isinstance(engine, Engine):
        return []
    session = engine.session
    return [name for name in ORDER
            if name == session.state or (name in session.outcomes and session.outcomes[name].status != "pending")]


def _show_welcome(app: WizardApp) -> None:
    from textual.screen import ModalScreen

    from wizard.tui.screens.welcome import WelcomeScreen

    while isinstance(app.screen, ModalScreen):
        app.pop_screen()
    app.switch_screen(WelcomeScreen(app.store, app.target_label, app.default_plan))


def _toggle_theme(app: WizardApp) -> None:
    app.theme = "textual-light" if app.current_theme.dark else "textual-dark"


def _formats() -> tuple[str, ...]:
    try:
        from wizard import export
    except ImportError:  # the exporter is not part of this build
        return ()
    return tuple(export.FORMATS)


def wizard_commands(app: WizardApp, screen: Screen[object]) -> Iterator[Command]:
    """Every action that applies in the app's current state, on `screen` (the one the palette was opened over)."""
    import os

    from wizard.tui.screens.step import StepScreen

    yield "New session", partial(_show_welcome, app), "Back to the welcome screen to start a new session"
    for summary in app.store.list():
        if summary.problem is None and summary.holder in (None, os.getpid()):  # not one open in another wi-wizard
            yield (f"Resume {summary.name}", partial(app.open_existing, summary.name),
                   f"{summary.target}, at {summary.state}, last changed {summary.updated_at}")
    for step in reached_steps(app):
        yield f"Go to step: {TITLES[step]}", partial(app.revisit, step), "Revisit a step the session has reached"
    if isinstance(screen, StepScreen):
        yield f"Run this step: {TITLES[screen.step]}", screen.action_run, "Same as the Run button"
        if screen.diagnosis is not None:
            yield "Show the diagnosis", screen.action_details, screen.diagnosis.title
    if app.engine is not None:
        for fmt in _formats():
            yield f"Export as {fmt}", partial(app.export, fmt), "Write the set-up to a file"
        yield "Tear down", app.teardown, "Preview and delete what this session created (asks first)"
    yield "Toggle dark / light", partial(_toggle_theme, app), "Switch the colour theme"
    # Quit is Textual's own system command (listed next to these): one "Quit", not two.


class WizardCommands(Provider):
    def _commands(self) -> list[Command]:
        return list(wizard_commands(cast("WizardApp", self.app), self.screen))

    async def discover(self) -> Hits:
        for text, action, help_text in self._commands():
            yield DiscoveryHit(text, action, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, action, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), action, help=help_text)
