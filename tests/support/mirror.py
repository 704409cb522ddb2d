"""The dataset mirror for tests that read real data: skipped on a developer machine without
one, a failure in CI (``CI=true``), where the mirror is always configured."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def mirror_root() -> Path:
    """``$SAGATSR_DATA_MIRROR``, or ``../shared/datasets`` beside the repository."""
    default = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
    return Path(os.environ.get("SAGATSR_DATA_MIRROR", default))


def require_mirror(path: Path) -> Path:
    """Return ``path`` if it exists; else skip the test, or fail it under CI.

    Args:
        path: A file or folder inside the mirror.
    """
    if path.exists():
        return path
    message = f"dataset mirror not found at {path} (set SAGATSR_DATA_MIRROR)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
