"""Which cloud the wizard talks to, on every screen, unmistakably."""

from __future__ import annotations

from textual.widgets import Static


class TargetBanner(Static):
    DEFAULT_CSS = """
    TargetBanner { dock: top; height: 1; padding: 0 1; text-style: bold; }
    TargetBanner.-sandbox { background: $warning; color: $background; }
    TargetBanner.-real { background: $error; color: $background; }
    """

    def __init__(self, label: str, detail: str = "") -> None:
        sandbox = label == "SANDBOX"
        text = f"wi-wizard · {label}" + (f" · {detail}" if detail else "")
        if sandbox:
            text += " · nothing here touches real Azure"
        super().__init__(text, classes="-sandbox" if sandbox else "-real", markup=False)
