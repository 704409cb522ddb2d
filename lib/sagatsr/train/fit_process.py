"""Every data-parallel training run in a fresh Python process.

Lightning's subprocess launcher starts the processes of rank > 0 only when
``LOCAL_RANK`` is not yet in the environment, and it sets that variable in the
calling process; the processes it starts end after their one fit
(:func:`sagatsr.train.runner.fit_model`). A process can therefore run one
data-parallel fit: a second one would wait for peers that are gone (gloo:
"Connection closed by peer"). Commands that train several models (ensemble
members, Matbench folds, one model per target, the out-of-fold models of a
distillation) with ``devices`` > 1 run each fit as

    python -m sagatsr.train.fit_process REQUEST.json

REQUEST.json names a job of :data:`JOBS` and holds its arguments (written by
:func:`run_in_own_process` to a temporary folder, removed afterwards). The
child's Lightning starts its peers with the same command line; every result is
in the run folder, which the caller reads.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sagatsr.io_utils import write_json
from sagatsr.train.config import TrainConfig

# Set in the child (and inherited by its peers): train here, do not start another process.
IN_FIT_PROCESS = "SAGATSR_FIT_PROCESS"
# What a launcher leaves in a process's environment after a data-parallel fit: a
# child that inherited them would take itself for a peer of that finished fit.
_LAUNCHER_VARIABLES = ("LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
_ERROR_FILE = "error.txt"


def in_fit_process() -> bool:
    """Whether this process was started by :func:`run_in_own_process` (or is its peer)."""
    return os.environ.get(IN_FIT_PROCESS) == "1"


# The jobs a fit process runs: name -> (module, function). Each takes keyword
# arguments, ``train_config`` as a TrainConfig (it travels as a dict).
JOBS = {
    "train_on_split": ("sagatsr.train.pipeline", "train_on_split"),
    "fit_on_ids": ("sagatsr.train.oof", "fit_on_ids"),
}


def run_in_own_process(
    job: str, arguments: dict[str, Any], *, out_dir: str | os.PathLike[str]
) -> None:
    """Run one of :data:`JOBS` in a fresh Python process and wait for it.

    The child inherits this process's environment without a launcher's rank
    variables, and its log levels.

    Args:
        job: A key of :data:`JOBS`.
        arguments: The job's keyword arguments (JSON-serialisable, except
            ``train_config``, a :class:`TrainConfig`).
        out_dir: The run folder the job writes (for the error message).

    Raises:
        KeyError: If ``job`` is not one of :data:`JOBS`.
        RuntimeError: If the child failed (with its error message when it wrote
            one; its log and traceback went to this process's stderr).
    """
    if job not in JOBS:
        raise KeyError(f"unknown fit-process job {job!r} (known: {', '.join(JOBS)})")
    serialised = dict(arguments)
    if isinstance(serialised.get("train_config"), TrainConfig):
        serialised["train_config"] = serialised["train_config"].to_dict()
    with tempfile.TemporaryDirectory(prefix="sagatsr_fit_") as scratch:
        request = Path(scratch) / "request.json"
        write_json(
            request,
            {
                "job": job,
                "arguments": serialised,
                "log_level": logging.getLogger().getEffectiveLevel(),
                "runtime_log_level": logging.getLogger("sagatsr.runtime").getEffectiveLevel(),
            },
        )
        env = {k: v for k, v in os.environ.items() if k not in _LAUNCHER_VARIABLES}
        env[IN_FIT_PROCESS] = "1"
        completed = subprocess.run(
            [sys.executable, "-m", "sagatsr.train.fit_process", str(request)],
            env=env,
            check=False,
        )
        error_file = Path(scratch) / _ERROR_FILE
        message = error_file.read_text().strip() if error_file.is_file() else ""
    if completed.returncode != 0:
        detail = f": {message}" if message else " (its messages are above)"
        raise RuntimeError(
            f"training {out_dir} in its own process failed with exit status "
            f"{completed.returncode}{detail}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the job described by a request file (the child's entry point).

    Args:
        argv: ``[REQUEST.json]`` (``sys.argv[1:]`` when ``None``).

    Returns:
        0 on success. An error that a command reports (a missing file, invalid
        data) also goes to ``error.txt`` beside the request, for the caller's
        message, before it propagates (exit status 1, traceback on stderr).
    """
    import importlib

    from sagatsr.runtime import LOG_FORMAT, retain_freed_memory

    (request_path,) = list(sys.argv[1:] if argv is None else argv)
    request = json.loads(Path(request_path).read_text())
    logging.basicConfig(level=request["log_level"], format=LOG_FORMAT)
    logging.getLogger("sagatsr.runtime").setLevel(request["runtime_log_level"])
    retain_freed_memory()
    module_name, function_name = JOBS[request["job"]]
    job = getattr(importlib.import_module(module_name), function_name)
    arguments = dict(request["arguments"])
    if "train_config" in arguments:
        arguments["train_config"] = TrainConfig.from_dict(arguments["train_config"])
    try:
        job(**arguments)
    except (FileNotFoundError, ValueError, KeyError, RuntimeError) as error:
        (Path(request_path).parent / _ERROR_FILE).write_text(f"{type(error).__name__}: {error}")
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
