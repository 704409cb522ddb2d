"""Copy a dataset mirror into the repository's ``data/`` folder (tracked by DVC).

The copy is what ``data.dvc`` records, so a pipeline run is tied to the exact
bytes it read. Only files change that differ; the mirror itself is never
written to.
"""

from __future__ import annotations

import filecmp
import logging
import os
import shutil
from pathlib import Path

logger = logging.getLogger(__name__)


def snapshot_mirror(
    mirror: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    datasets: list[str] | None = None,
) -> list[Path]:
    """Mirror ``<mirror>/<dataset>/*`` into ``<out>/<dataset>/*``.

    Args:
        mirror: The dataset mirror folder (e.g. ``../shared/datasets``).
        out: Destination folder (``data`` in the pipeline).
        datasets: Sub-folders to copy; all sub-folders when ``None``.

    Returns:
        The files that were copied (unchanged files are skipped).

    Raises:
        FileNotFoundError: If ``mirror`` or a requested dataset folder is missing.
    """
    source_root, target_root = Path(mirror), Path(out)
    if not source_root.is_dir():
        raise FileNotFoundError(f"dataset mirror {source_root} is not an existing folder")
    names = datasets or sorted(p.name for p in source_root.iterdir() if p.is_dir())
    copied: list[Path] = []
    for name in names:
        folder = source_root / name
        if not folder.is_dir():
            raise FileNotFoundError(f"dataset {name!r} not found in mirror {source_root}")
        for source in sorted(p for p in folder.rglob("*") if p.is_file()):
            target = target_root / name / source.relative_to(folder)
            if target.is_file() and filecmp.cmp(source, target, shallow=False):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.partial")
            shutil.copyfile(source, partial)
            os.replace(partial, target)
            copied.append(target)
            logger.info("copied %s", target)
    return copied
