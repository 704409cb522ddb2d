"""How fast ``sagatsr predict`` handles many files: one at a time against batched.

``before`` is the way files were predicted before: each file parsed, turned into
a graph and run through the network on its own, in the main process. ``after``
is the current path: files parsed and graphs built by a worker pool, the network
run in batches. The model is loaded once for both (its load time is reported
apart), and both must give the same predictions.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sagatsr.io_utils import write_json
from sagatsr.predict import Predictor
from sagatsr.provenance import run_info


def cif_files_from_zip(archive: str | os.PathLike[str], folder: Path, n: int) -> list[str]:
    """Extract the first ``n`` ``.cif`` members of a zip into ``folder`` (sorted paths)."""
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as handle:
        names = [m for m in handle.namelist() if m.endswith(".cif")][:n]
        for name in names:
            (folder / Path(name).name).write_bytes(handle.read(name))
    return sorted(str(folder / Path(name).name) for name in names)


def measure_predict_speed(
    model_dir: str | os.PathLike[str],
    files: Sequence[str],
    *,
    workers: int = 2,
    batch_size: int = 256,
    out_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Time one-at-a-time against batched prediction of the same files.

    Args:
        model_dir: A run, model or ensemble folder.
        files: CIF files.
        workers: Worker processes of the batched path.
        batch_size: Structures per forward pass of the batched path.
        out_path: Write the result JSON here.
        command: Command recorded in the result.

    Returns:
        Seconds of both paths, files per second, the speed-up and whether the
        predictions agree.
    """
    started = time.perf_counter()
    predictor = Predictor(model_dir)
    load_seconds = time.perf_counter() - started

    started = time.perf_counter()
    one_by_one = [predictor.predict_files([path], workers=1, batch_size=1)[0] for path in files]
    before = time.perf_counter() - started

    started = time.perf_counter()
    batched = predictor.predict_files(files, workers=workers, batch_size=batch_size)
    after = time.perf_counter() - started

    a = np.array([r.value if r.value is not None else np.nan for r in one_by_one])
    b = np.array([r.value if r.value is not None else np.nan for r in batched])
    n = len(files)
    result = {
        "summary": (
            f"predict {n} CIF files: {before:.1f} s one at a time, {after:.1f} s batched "
            f"({before / after:.1f}x; {workers} workers, batch {batch_size})"
        ),
        "n_files": n,
        "n_failed": int(sum(bool(r.error) for r in batched)),
        "model_load_seconds": round(load_seconds, 3),
        "before": {
            "seconds": before,
            "files_per_second": n / before,
            "workers": 1,
            "batch_size": 1,
        },
        "after": {
            "seconds": after,
            "files_per_second": n / after,
            "workers": workers,
            "batch_size": batch_size,
        },
        "speedup": before / after,
        "max_abs_difference": float(np.nanmax(np.abs(a - b))) if n else 0.0,
        **run_info(command),
    }
    if out_path:
        write_json(Path(out_path), result)
    return result


def measure_on_mirror_cifs(
    model_dir: str | os.PathLike[str],
    archive: str | os.PathLike[str],
    *,
    n_files: int = 2000,
    **kwargs: Any,
) -> dict[str, Any]:
    """:func:`measure_predict_speed` on the first ``n_files`` CIFs of a structures zip."""
    folder = Path(tempfile.mkdtemp(prefix="sagatsr-predict-"))
    try:
        files = cif_files_from_zip(archive, folder, n_files)
        return measure_predict_speed(model_dir, files, **kwargs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
