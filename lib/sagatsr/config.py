"""Where the dataset mirror lives: configuration, never a path baked into code."""

from __future__ import annotations

import os
from pathlib import Path

MIRROR_ENV_VAR = "SAGATSR_DATA_MIRROR"


def mirror_root(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """Resolve the dataset mirror folder.

    Args:
        explicit: A path given by the caller (CLI option, notebook parameter);
            it wins over the environment. An empty string means "not given".

    Returns:
        The mirror folder, or ``None`` when neither ``explicit`` nor the
        ``SAGATSR_DATA_MIRROR`` environment variable is set (the public
        originals are then downloaded).

    Raises:
        FileNotFoundError: If a configured path does not exist or is not a folder.
    """
    chosen = explicit if explicit not in (None, "") else os.environ.get(MIRROR_ENV_VAR) or None
    if chosen is None:
        return None
    path = Path(chosen).expanduser().resolve()
    if not path.is_dir():
        origin = "argument" if explicit not in (None, "") else f"${MIRROR_ENV_VAR}"
        raise FileNotFoundError(f"dataset mirror {path} (from {origin}) is not an existing folder")
    return path
