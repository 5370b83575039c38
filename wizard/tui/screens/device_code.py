"""The device-code sign-in: the page to open and the code to type there, large and copyable, while the login step
waits in its worker. It closes itself when the login step finishes; escape closes it early (the sign-in keeps
waiting — the code still works)."""

from __future__ import annotations

from datetime import UTC, datetime

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, LoadingIndicator, Static

from wizard.tui.messages import StepFinished
from wizard.tui.screens.modal import EngineModal


def expiry_text(expires_on: object) -> str:
    """azure-identity passes the expiry as a UTC datetime; anything else is shown as it came."""
    if isinstance(expires_on, datetime):
        when = expires_on.astimezone(UTC) if expires_on.tzinfo else expires_on
        return f"The code expires at {when:%H:%M:%S} UTC."
    return f"The code expires at {expires_on}." if expires_on else ""


class DeviceCodeModal(EngineModal[None]):
    DEFAULT_CSS = """
    DeviceCodeModal { align: center middle; }
    DeviceCodeModal > Vertical { width: 72; height: auto; padding: 1 2; border: thick $primary;
                                 background: $surface; }
    DeviceCodeModal #dc-title { text-style: bold; margin-bottom: 1; }
    DeviceCodeModal #dc-uri { text-style: bold underline; color: $accent; margin: 0 0 1 2; }
    DeviceCodeModal #dc-code-row { height: auto; margin: 0 0 1 2; }
    DeviceCodeModal #dc-code { width: auto; padding: 1 4; border: round $accent; text-style: bold;
                               color: $text; background: $boost; }
    DeviceCodeModal #dc-code-row Button { margin: 1 0 0 2; }
    DeviceCodeModal #dc-expiry { color: $text-muted; margin-bottom: 1; }
    DeviceCodeModal #dc-waiting { height: 1; }
    DeviceCodeModal #dc-waiting LoadingIndicator { width: 10; height: 1; margin-right: 1; }
    DeviceCodeModal #dc-hint { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "close", "Close"), Binding("c", "copy_code", "Copy the code")]

    def __init__(self, uri: str, code: str, expires_on: object, step: str = "login") -> None:
        super().__init__()
        self.uri = uri
        self.code = code
        self.expires_on = expires_on
        self.step = step

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Sign in with a device code", id="dc-title")
            yield Static("Open this page in a browser:", markup=False)
            yield Static(self.uri, id="dc-uri", markup=False)
            yield Static("and enter this code:", markup=False)
            with Horizontal(id="dc-code-row"):
                yield Static(self.code, id="dc-code", markup=False)
                yield Button("Copy code", id="dc-copy", variant="primary")
                yield Button("Copy URL", id="dc-copy-uri")
            yield Static(expiry_text(self.expires_on), id="dc-expiry", markup=False)
            with Horizontal(id="dc-waiting"):
                yield LoadingIndicator()
                yield Static("Waiting for you to sign in…")
            yield Static("esc closes this window; the sign-in keeps waiting for the code.", id="dc-hint")

    def on_mount(self) -> None:
        self.query_one("#dc-copy", Button).focus()

    def action_copy_code(self) -> None:
        self.app.copy_to_clipboard(self.code)
        self.notify("Code copied.", timeout=3)

    def action_close(self) -> None:
        self.close()

    @on(Button.Pressed, "#dc-copy")
    def _copy_code(self) -> None:
        self.action_copy_code()

    @on(Button.Pressed, "#dc-copy-uri")
    def _copy_uri(self) -> None:
        self.app.copy_to_clipboard(self.uri)
        self.notify("URL copied.", timeout=3)

    def step_finished(self, message: StepFinished) -> None:
        if message.step == self.step:
            self.close()
