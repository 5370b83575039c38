"""The console script `wi-wizard`: opening the screens (`wi-wizard`, `wi-wizard --sandbox`) starts them directly;
any other arguments go to the command line (wizard/cli.py). Opening the screens is what people do most, and the
command line's parser (click, ~12 ms of imports) is not needed for it: the first frame comes that much sooner."""

from __future__ import annotations

import sys

TUI_ARGUMENTS: tuple[list[str], ...] = ([], ["--sandbox"])


def main() -> None:
    arguments = sys.argv[1:]
    if arguments in TUI_ARGUMENTS:
        from wizard.tui.launch import run

        sys.exit(run(sandbox=arguments == ["--sandbox"]))
    from wizard.cli import main as command_line

    command_line()
