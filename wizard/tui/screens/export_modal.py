"""Export the session's set-up (a script, Kubernetes manifests or Terraform): pick the format, edit the file name
(default: wizard.export's, in the current directory), write. A problem (the session has not run far enough, the
path cannot be written) is shown in the modal; the written path is announced."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from wizard.session import Session


class ExportModal(ModalScreen[Path | None]):
    DEFAULT_CSS = """
    ExportModal { align: center middle; }
    ExportModal > Vertical { width: 76; height: auto; padding: 1 2; border: thick $primary; background: $surface; }
    ExportModal #ex-title { text-style: bold; margin-bottom: 1; }
    ExportModal RadioSet { width: 100%; margin-bottom: 1; }
    ExportModal #ex-error { color: $error; height: auto; }
    ExportModal #ex-actions { height: auto; margin-top: 1; }
    ExportModal #ex-actions Button { margin-right: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, session: Session, fmt: str | None = None) -> None:
        from wizard import export

        super().__init__()
        self.session = session
        self.formats = tuple(export.FORMATS)
        self.fmt = fmt if fmt in self.formats else self.formats[0]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Export this set-up", id="ex-title")
            with RadioSet(id="ex-format"):
                for fmt in self.formats:
                    yield RadioButton(fmt, value=fmt == self.fmt, name=fmt)
            yield Label("File")
            yield Input(self._default_path(), id="ex-path")
            yield Static("", id="ex-error", markup=False)
            with Horizontal(id="ex-actions"):
                yield Button("Export", id="ex-write", variant="primary")
                yield Button("Cancel", id="ex-cancel")

    def on_mount(self) -> None:
        self.query_one("#ex-path", Input).focus()

    def _default_path(self) -> str:
        from wizard import export

        return export.default_filename(self.session, self.fmt)

    @on(RadioSet.Changed, "#ex-format")
    def _format(self, event: RadioSet.Changed) -> None:
        path = self.query_one("#ex-path", Input)
        was_default = path.value == self._default_path()
        self.fmt = event.pressed.name or self.fmt
        if was_default:  # a name the person typed is kept
            path.value = self._default_path()

    @on(Input.Submitted, "#ex-path")
    @on(Button.Pressed, "#ex-write")
    def action_write(self) -> None:
        from wizard import export

        raw = self.query_one("#ex-path", Input).value.strip()
        error = self.query_one("#ex-error", Static)
        if not raw:
            error.update("✗ type a file name")
            return
        try:
            written = export.write(self.session, self.fmt, Path(raw).expanduser())
        except export.ExportError as exc:
            error.update(f"✗ {exc}")
            return
        except OSError as exc:
            error.update(f"✗ cannot write {raw}: {exc.strerror or exc}")
            return
        self.dismiss(written)

    @on(Button.Pressed, "#ex-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
