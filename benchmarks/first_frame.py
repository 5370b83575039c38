"""`python -m benchmarks.first_frame (wizard|bare) OUT.json`: run an app in this terminal and, after its first
refresh, write to OUT.json the wall-clock time, the screen shown and which azure/kubernetes modules were loaded.

The same hook is installed for both apps before either is imported further: `App._ready` (Textual calls it
once the first screen is composed and mounted, right before processing messages) schedules the write with
`call_after_refresh`, i.e. after the first frame has been painted. The benchmark starts the process under a pty
and times from just before the process starts to the time written here.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult


def install_hook(out: Path) -> None:
    original = App._ready

    async def ready(self: App[Any]) -> None:
        await original(self)

        def first_frame() -> None:
            loaded = sorted(name for name in sys.modules
                            if name.split(".")[0] in {"azure", "kubernetes", "msal"})
            out.write_text(json.dumps({"at": time.time(), "screen": type(self.screen).__name__,
                                       "heavy_modules": loaded, "modules": len(sys.modules)}))
            self.exit()

        self.call_after_refresh(first_frame)

    App._ready = ready  # type: ignore[method-assign]


class BareApp(App[None]):
    """The baseline: a Textual app that shows one label."""

    def compose(self) -> ComposeResult:
        from textual.widgets import Label

        yield Label("Hello from a bare Textual app")


def main() -> int:
    which, out = sys.argv[1], Path(sys.argv[2])
    install_hook(out)
    if which == "bare":
        BareApp().run()
        return 0
    from wizard.entry import main as cli  # what the console script runs (pyproject.toml [project.scripts])

    sys.argv = ["wi-wizard", "--sandbox"]
    try:
        cli()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
