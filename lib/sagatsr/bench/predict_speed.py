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
:func:`baseline_from_commit` builds that baseline from the project's own history:
the ``lib/`` of an earlier commit (``git archive``), a slice of the Castelli mirror
prepared by that code, a model of the measured model's architecture trained by it
for one epoch, and its ``sagatsr predict`` command.
"""

from __future__ import annotations

import io
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
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


#: Options of ``sagatsr train`` that fix a model's architecture, and their config fields
#: (the earliest commits' ``train`` has these; other fields keep that code's defaults).
ARCHITECTURE_OPTIONS = {
    "--embedding": "embedding",
    "--hidden": "hidden",
    "--heads": "heads",
    "--layers": "layers",
    "--edge-dim": "edge_dim",
    "--dropout": "dropout",
}


def _run_step(argv: Sequence[str], what: str) -> None:
    """Run one step of building a baseline; a failure names it with the end of its output."""
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise RuntimeError(f"{what} failed (exit {done.returncode}): {shlex.join(argv)}\n{tail}")


def export_commit_lib(commit: str, dest: Path, *, repo: str | os.PathLike[str] = ".") -> str:
    """Write the ``lib/`` folder of a commit of the project's repository into ``dest``.

    Args:
        commit: Any revision git understands (``bd33122``, a tag, ``HEAD``).
        dest: Folder to write ``dest/lib`` into.
        repo: A folder inside the repository.

    Returns:
        The commit's full hash.

    Raises:
        ValueError: If ``repo`` is not in a git repository, or it has no such commit
            (a shallow clone may lack it); git's message is included.
    """
    sha = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if sha.returncode != 0:
        raise ValueError(
            f"no commit {commit!r} in the git repository at {Path(repo).resolve()} "
            f"(a shallow clone may lack it) {sha.stderr.strip()}".rstrip()
        )
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", sha.stdout.strip(), "lib"],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise ValueError(f"git archive of {commit!r} failed: {archive.stderr.decode().strip()}")
    dest.mkdir(parents=True, exist_ok=True)
    # The archive is this repository's own code; the "data" filter (Python >= 3.11.4)
    # refuses links and paths outside ``dest`` where it exists.
    safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, **safe)
    return sha.stdout.strip()


def baseline_from_commit(
    commit: str,
    model_dir: str | os.PathLike[str],
    mirror: str | os.PathLike[str],
    work: Path,
    *,
    n_entries: int = 2000,
    repo: str | os.PathLike[str] = ".",
) -> tuple[list[str], str, dict[str, Any]]:
    """The ``sagatsr predict`` command of an earlier commit, with a model trained by that code.

    The commit's ``lib/`` is exported into ``work``; that code prepares the first
    ``n_entries`` Castelli structures of the mirror and trains a model of
    ``model_dir``'s architecture (:data:`ARCHITECTURE_OPTIONS`) on them for one
    epoch (its accuracy does not matter, only its size).

    Args:
        commit: The earlier revision.
        model_dir: The model whose architecture the baseline's copies.
        mirror: The dataset mirror (its ``castelli_perovskites`` folder is prepared).
        work: An empty folder for the code, the prepared slice and the run.
        n_entries: Structures the earlier code prepares (and trains on).
        repo: A folder inside the project's git repository.

    Returns:
        ``(argv, label, details)``: the command line to time (the files are
        appended), what it is, and the commit and architecture for the result.

    Raises:
        ValueError: If the commit cannot be exported.
        RuntimeError: If the earlier code fails to prepare or train; its output is shown.
    """
    from sagatsr.model.persistence import read_model_config
    from sagatsr.train.ensemble import model_dir_of

    config, _ = read_model_config(model_dir_of(model_dir))
    sha = export_commit_lib(commit, work / "code", repo=repo)
    code = ["env", f"PYTHONPATH={work / 'code' / 'lib'}", sys.executable, "-m", "sagatsr"]
    prepared = work / "prepared" / "castelli_perovskites"
    _run_step(
        [
            *code,
            "prepare",
            "castelli_perovskites",
            "--raw",
            str(mirror),
            "--out",
            str(prepared),
            "--max-entries",
            str(n_entries),
            "--workers",
            "2",
            "--quiet",
        ],
        f"preparing the Castelli slice with the code of {commit}",
    )
    architecture = {option: getattr(config, name) for option, name in ARCHITECTURE_OPTIONS.items()}
    options = [str(part) for pair in architecture.items() for part in pair]
    _run_step(
        [
            *code,
            "train",
            str(prepared),
            "--split",
            "matbench_fold0",
            "--target",
            "e_form",
            *options,
            "--epochs",
            "1",
            "--out",
            str(work / "runs"),
            "--quiet",
        ],
        f"training the baseline model with the code of {commit}",
    )
    label = (
        f"sagatsr predict at {sha[:7]} (a model of the same architecture trained by that code "
        "for one epoch)"
    )
    details = {"commit": sha, "architecture": architecture, "n_entries_prepared": n_entries}
    return [*code, "predict", str(work / "runs" / "e_form" / "model")], label, details


def measure_predict_speed(
    model_dir: str | os.PathLike[str],
    files: Sequence[str],
    *,
    workers: int = 2,
    batch_size: int = 256,
    baseline_cli: Sequence[str] | None = None,
    baseline_label: str = "",
    baseline_details: dict[str, Any] | None = None,
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
        baseline_details: More about the baseline, kept with its timing (the commit
            and architecture from :func:`baseline_from_commit`).
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
        baseline = {
            **time_command_line(baseline_cli, files),
            "label": baseline_label,
            **(baseline_details or {}),
        }

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
    mirror: str | os.PathLike[str],
    *,
    n_files: int = 2000,
    baseline_commit: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """:func:`measure_predict_speed` on the first ``n_files`` Castelli CIFs of the mirror.

    Args:
        model_dir: The model to time.
        mirror: The dataset mirror (``castelli_perovskites/structures.zip`` is read).
        n_files: CIF files predicted.
        baseline_commit: Time this earlier commit's ``sagatsr predict`` as the
            baseline (:func:`baseline_from_commit`, ``n_files`` structures prepared).
        **kwargs: Passed on to :func:`measure_predict_speed`.
    """
    folder = Path(tempfile.mkdtemp(prefix="sagatsr-predict-"))
    try:
        files = cif_files_from_zip(
            Path(mirror) / "castelli_perovskites" / "structures.zip", folder / "cifs", n_files
        )
        if baseline_commit:
            argv, label, details = baseline_from_commit(
                baseline_commit, model_dir, mirror, folder / "baseline", n_entries=n_files
            )
            kwargs.update(baseline_cli=argv, baseline_label=label, baseline_details=details)
        return measure_predict_speed(model_dir, files, **kwargs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
