"""Copy a dataset mirror into the repository's ``data/`` folder (tracked by DVC).

The copy is what ``data.dvc`` records, so a pipeline run is tied to the exact
bytes it read. Only files change that differ, files the mirror no longer has are
removed from the copied dataset folders (with what an interrupted copy left), and
the mirror itself is never written to.
"""

from __future__ import annotations

import filecmp
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass
class SnapshotChanges:
    """What a snapshot changed.

    Attributes:
        copied: Files copied (new or different from the mirror's).
        removed: Files removed (absent from the mirror, or left by an interrupted copy).
    """

    copied: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)


def snapshot_mirror(
    mirror: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    datasets: list[str] | None = None,
) -> SnapshotChanges:
    """Make ``<out>/<dataset>/`` an exact copy of ``<mirror>/<dataset>/`` for each dataset.

    Args:
        mirror: The dataset mirror folder (e.g. ``../shared/datasets``).
        out: Destination folder (``data`` in the pipeline).
        datasets: Sub-folders to copy; all sub-folders when ``None``. Other folders
            of ``out`` are left as they are.

    Returns:
        The files copied (unchanged files are skipped) and removed.

    Raises:
        FileNotFoundError: If ``mirror`` or a requested dataset folder is missing.
    """
    source_root, target_root = Path(mirror), Path(out)
    if not source_root.is_dir():
        raise FileNotFoundError(f"dataset mirror {source_root} is not an existing folder")
    names = datasets or sorted(p.name for p in source_root.iterdir() if p.is_dir())
    missing = [name for name in names if not (source_root / name).is_dir()]
    if missing:
        raise FileNotFoundError(f"dataset {missing[0]!r} not found in mirror {source_root}")
    changes = SnapshotChanges()
    for name in names:
        folder = source_root / name
        wanted = set()
        for source in sorted(p for p in folder.rglob("*") if p.is_file()):
            target = target_root / name / source.relative_to(folder)
            wanted.add(target)
            if target.is_file() and filecmp.cmp(source, target, shallow=False):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.partial")
            shutil.copyfile(source, partial)
            os.replace(partial, target)
            changes.copied.append(target)
            logger.info("copied %s", target)
        copy = target_root / name
        stale = sorted(p for p in copy.rglob("*") if p.is_file() and p not in wanted)
        for path in stale:
            path.unlink()
            changes.removed.append(path)
            logger.info("removed %s (not in the mirror)", path)
    return changes
