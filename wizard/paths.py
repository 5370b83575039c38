"""Where wi-wizard keeps what it writes. `WI_WIZARD_HOME` relocates all of it (tests and CI set it)."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    configured = os.environ.get("WI_WIZARD_HOME")
    if configured:
        return Path(configured).expanduser().absolute()
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return (base / "wi-wizard").absolute()


def sandbox_dir() -> Path:
    return home() / "sandbox"


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) readable by the owner only; tighten it if it already exists."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def write_private(path: Path, data: str | bytes) -> None:
    """Write a file atomically with mode 0600 (temp file in the same folder, then rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    raw = data.encode() if isinstance(data, str) else data
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    path.chmod(0o600)
