"""How fast ``sagatsr predict`` handles many files: one at a time against batched.

``before`` is today's code one file at a time: each file parsed, turned into a
graph and run through the network on its own, in the main process. ``after`` is
the current path: files parsed and graphs built by a worker pool, the network
run in batches. The model is loaded once for both (its load time is reported
apart), and both must give the same predictions.

``cli`` is what a user waits for: the ``sagatsr predict`` command on all the
files, imports and model loading included, in a fresh process. An optional
``baseline_cli`` (another command line, for example an earlier release's
``sagatsr predict`` from a git worktree) is timed the same way on the same
files; each command must print one line per file and no error.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
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


def time_command_line(argv: Sequence[str], files: Sequence[str]) -> dict[str, Any]:
    """Run ``argv`` with ``files`` appended, in a fresh process, and time it.

    Returns:
        The command (``FILES`` standing for the file list), wall seconds, files
        per second and how many files got a prediction line.

    Raises:
        RuntimeError: If the command fails or does not predict every file.
    """
    started = time.perf_counter()
    done = subprocess.run([*argv, *files], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    shown = shlex.join(argv) + " FILES"
    heads = {line.split(": ", 1)[0] for line in done.stdout.splitlines() if ": " in line}
    errors = [line for line in done.stdout.splitlines() if ": ERROR " in line]
    predicted = sum(path in heads for path in files) - len(errors)
    if done.returncode != 0 or predicted != len(files):
        raise RuntimeError(
            f"{shown} exited {done.returncode} and predicted {predicted} of {len(files)} "
            f"files: {(errors[:1] or done.stderr.strip().splitlines()[-1:] or [''])[0]}"
        )
    return {
        "command": shown,
        "seconds": seconds,
        "files_per_second": len(files) / seconds,
        "n_predicted": predicted,
    }


def measure_predict_speed(
    model_dir: str | os.PathLike[str],
    files: Sequence[str],
    *,
    workers: int = 2,
    batch_size: int = 256,
    baseline_cli: Sequence[str] | None = None,
    baseline_label: str = "",
    out_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Time one-at-a-time against batched prediction of the same files, and the command.

    Args:
        model_dir: A run, model or ensemble folder.
        files: CIF files.
        workers: Worker processes of the batched path.
        batch_size: Structures per forward pass of the batched path.
        baseline_cli: Another prediction command line (files are appended) to
            time end to end against ``sagatsr predict``; ``None`` skips it.
        baseline_label: What the baseline is, for the result (e.g. its commit).
        out_path: Write the result JSON here.
        command: Command recorded in the result.

    Returns:
        Seconds of both in-process paths, files per second, the speed-up and
        whether the predictions agree; the end-to-end command timings.
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

    cli = time_command_line(
        [
            sys.executable,
            "-m",
            "sagatsr",
            "predict",
            str(model_dir),
            "--workers",
            str(workers),
            "--batch-size",
            str(batch_size),
        ],
        files,
    )
    baseline = None
    if baseline_cli:
        baseline = {**time_command_line(baseline_cli, files), "label": baseline_label}

    a = np.array([r.value if r.value is not None else np.nan for r in one_by_one])
    b = np.array([r.value if r.value is not None else np.nan for r in batched])
    n = len(files)
    result = {
        "summary": (
            f"predict {n} CIF files: {before:.1f} s one at a time, {after:.1f} s batched "
            f"({before / after:.1f}x; {workers} workers, batch {batch_size}); "
            f"sagatsr predict end to end {cli['seconds']:.1f} s"
            + (
                f" against {baseline['seconds']:.1f} s for {baseline_label or 'the baseline'} "
                f"({baseline['seconds'] / cli['seconds']:.1f}x)"
                if baseline
                else ""
            )
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
        "cli": cli,
        "baseline_cli": baseline,
        "cli_speedup": baseline["seconds"] / cli["seconds"] if baseline else None,
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
