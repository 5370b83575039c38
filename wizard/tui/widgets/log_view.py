"""A bounded, live view of a workload's log lines.

Lines arrive a few messages a frame (the app hands a chatty pod's lines over in batches, joined by "\n") and can
arrive fast: they are queued and written to the `Log` in batches at most every `BATCH_SECONDS`, so a chatty pod
costs a few repaints a second, not one per line. The view keeps the last `max_lines` lines (the queue too: memory
stays flat however long the pod runs) and can:

- pause (`f`): the view freezes where it is, new lines are still kept (bounded) and counted, `f` again follows;
- wrap (`w`): long lines are cut into rows of the view's width (the `Log` itself never wraps);
- search (`/`): only the lines containing the text (case-insensitive) are shown, the text highlighted; `escape`
  closes the search and shows every line again.

Log lines are untrusted: they are only ever shown as plain text (`Log` renders no markup and replaces control
codes), and the status line is a `Static` with markup off.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable

from rich.cells import chop_cells
from rich.highlighter import Highlighter
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.events import Resize
from textual.timer import Timer
from textual.widgets import Input, Log, Static

BATCH_SECONDS = 0.25
DEFAULT_MAX_LINES = 5000

# Control characters (C0, DEL, C1) and the Unicode line separators: a pod's ESC sequences must not reach the
# terminal (`Log` itself only replaces \x00-\x14, so ESC passes), and one line stays one row (`Log` splits lines).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


# The same characters but the newline, for lines joined by "\n".
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def plain(line: str) -> str:
    """A log line as it is kept and shown: tabs expanded, control characters replaced by U+FFFD."""
    return _CONTROL.sub("\ufffd", line.expandtabs())


def plain_lines(text: str) -> list[str]:
    """Lines joined by "\n", each as `plain` makes it: one tab expansion and one regex pass for all of them (on a
    chatty pod's short lines the per-line calls cost more than the work itself). Tab stops restart at each line,
    as expandtabs restarts its column at every newline."""
    return _CONTROL_BUT_NEWLINE.sub("\ufffd", text.expandtabs()).split("\n")


class MatchHighlighter(Highlighter):
    """Highlights every case-insensitive occurrence of the search text."""

    def __init__(self) -> None:
        self.term = ""

    def highlight(self, text: Text) -> None:
        if self.term:
            text.highlight_words([self.term], "bold reverse", case_sensitive=False)


class LogView(Vertical, can_focus=False):
    DEFAULT_CSS = """
    LogView { height: 1fr; }
    LogView > Log { height: 1fr; border: round $panel-lighten-2; }
    LogView > #log-search { display: none; height: 3; }
    LogView.-searching > #log-search { display: block; }
    LogView > #log-status { height: 1; width: 1fr; color: $text-muted; }
    """

    def __init__(self, *, max_lines: int = DEFAULT_MAX_LINES, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.max_lines = max_lines
        self.lines: deque[str] = deque(maxlen=max_lines)  # the last lines received, shown or not
        self.following = True
        self.wrapping = False
        self.term = ""
        self.unseen = 0  # lines received while paused
        self._pending: list[str] = []
        self._dropped = 0  # lines queued and dropped before a batch was written (more than max_lines came)
        self._timer: Timer | None = None
        self._highlighter = MatchHighlighter()
        self._wrap_width = 0

    def compose(self) -> ComposeResult:
        log = Log(max_lines=self.max_lines, auto_scroll=True, highlight=True, id="log-lines")
        log.highlighter = self._highlighter
        yield log
        yield Input(placeholder="Search the log (escape closes)", id="log-search")
        yield Static("", id="log-status", markup=False)

    def on_mount(self) -> None:
        self._show_status()

    @property
    def log_widget(self) -> Log:
        return self.query_one("#log-lines", Log)

    # -- lines in -------------------------------------------------------------------------------------------

    def add(self, line: str) -> None:
        """Queue one line (a "\n" in it is shown, not split); it is written with the next batch."""
        self._pending.append(plain(line))
        self._schedule()

    def add_text(self, text: str) -> None:
        """Queue the lines of `text` (lines joined by "\n": a reporter may hand over many in one message)."""
        self._pending.extend(plain_lines(text))
        self._schedule()

    def _schedule(self) -> None:
        if len(self._pending) > 2 * self.max_lines:  # only the last max_lines can be shown: memory stays flat
            excess = len(self._pending) - self.max_lines
            del self._pending[:excess]
            self._dropped += excess
        if self._timer is None:
            self._timer = self.set_timer(BATCH_SECONDS, self.flush)

    def flush(self) -> None:
        """Write the queued lines now (the batch timer calls this; so does the end of a step)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not self._pending:
            return
        received, self._dropped = len(self._pending) + self._dropped, 0
        batch, self._pending = self._pending[-self.max_lines:], []
        self.lines.extend(batch)
        if self.following:
            self.log_widget.write_lines(self._rows(batch))
        else:
            self.unseen += received
        self._show_status()

    def clear(self) -> None:
        """Forget every line (a new run of the step streams the log from its start again)."""
        self._pending.clear()
        self._dropped = 0
        self.lines.clear()
        self.unseen = 0
        self.log_widget.clear()
        self.log_widget.refresh()
        self._show_status()

    # -- actions (bound to keys by the screen, so they work wherever the focus is) ----------------------------

    def action_toggle_follow(self) -> None:
        self.following = not self.following
        if self.following:
            self.unseen = 0
            self._rebuild()
            self.log_widget.scroll_end(animate=False, immediate=True, x_axis=False)
        self.log_widget.auto_scroll = self.following
        self._show_status()

    def action_toggle_wrap(self) -> None:
        self.wrapping = not self.wrapping
        self._rebuild()
        self._show_status()

    def action_search(self) -> None:
        self.add_class("-searching")
        self.query_one("#log-search", Input).focus()

    def action_close_search(self) -> None:
        search = self.query_one("#log-search", Input)
        self.remove_class("-searching")
        if search.value:
            search.value = ""  # Input.Changed clears the filter
        self.log_widget.focus()

    @on(Input.Changed, "#log-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.term = event.value
        self._highlighter.term = event.value
        self._rebuild()
        self._show_status()

    @on(Input.Submitted, "#log-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.log_widget.focus()  # keep the filter, go back to reading

    def on_resize(self, event: Resize) -> None:
        if self.wrapping and self._width() != self._wrap_width:
            self._rebuild()

    # -- rendering ------------------------------------------------------------------------------------------

    def _rows(self, lines: Iterable[str]) -> list[str]:
        """The rows of the Log for these lines: the matching ones, cut to the view's width when wrapping."""
        term = self.term.casefold()
        shown = [line for line in lines if term in line.casefold()] if term else list(lines)
        if not self.wrapping:
            return shown
        width = self._wrap_width = self._width()
        rows: list[str] = []
        for line in shown:
            rows.extend(chop_cells(line, width) or [""])
        return rows

    def _width(self) -> int:
        return max(self.log_widget.scrollable_content_region.width, 10)

    def _rebuild(self) -> None:
        log = self.log_widget
        log.clear()
        log.write_lines(self._rows(self.lines), scroll_end=self.following)
        log.refresh()

    def _show_status(self) -> None:
        parts = ["following" if self.following else f"paused, {self.unseen} new lines (f follows)"]
        if self.term:
            matching = sum(1 for line in self.lines if self.term.casefold() in line.casefold())
            parts.append(f"{matching} of {len(self.lines)} lines match {self.term!r}")
        else:
            parts.append(f"{len(self.lines)} lines")
        parts.append("wrap on" if self.wrapping else "wrap off")
        # One row of fixed size (see DEFAULT_CSS): no layout pass needed (a chatty pod updates it with every batch).
        self.query_one("#log-status", Static).update(" · ".join(parts), layout=False)
