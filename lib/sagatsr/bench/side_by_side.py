"""One benchmark's items (datasets, encodings) run as processes side by side, then merged.

The IC benchmarks train many small models, one after another; a second torch
thread speeds such a model up far less than a second process does
(:mod:`sagatsr.runtime`). :func:`run_benchmark_parts` splits the items into
groups, runs ``sagatsr benchmark NAME OPTION GROUP ...`` for each group as its
own process with its share of the cores, and returns the parts' results for
the benchmark's merge function. Each part resumes in the shared work folder
like a single run does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sagatsr.runtime import training_threads


def split_evenly(items: Sequence[str], parts: int) -> list[list[str]]:
    """``items`` in at most ``parts`` contiguous groups whose sizes differ by at most one.

    Args:
        items: What to split, in order.
        parts: Groups wanted (``>= 1``); fewer when there are fewer items.

    Returns:
        Non-empty groups, the larger ones first, every item once and in order.

    Raises:
        ValueError: If ``parts < 1``.
    """
    if parts < 1:
        raise ValueError(f"parts must be at least 1, got {parts}")
    count = min(parts, len(items))
    size, extra = divmod(len(items), count) if count else (0, 0)
    groups, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        groups.append(list(items[start:end]))
        start = end
    return groups


def run_side_by_side(commands: Sequence[Sequence[str]], *, threads: int) -> None:
    """Run commands as processes at once, each with ``threads`` torch threads, and wait for all.

    Every process runs to its end even when another fails (what it finished is
    kept for a rerun); the processes still running are stopped if this one is
    interrupted.

    Args:
        commands: Argument vectors.
        threads: ``OMP_NUM_THREADS`` of each process.

    Raises:
        RuntimeError: Naming each command that exited non-zero, with its status.
    """
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    processes = []
    try:
        for command in commands:
            processes.append(subprocess.Popen(list(command), env=env))
        statuses = [process.wait() for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait()
    failed = [
        f"`{' '.join(command)}` exited {status}"
        for command, status in zip(commands, statuses, strict=True)
        if status != 0
    ]
    if failed:
        raise RuntimeError("; ".join(failed))


def run_benchmark_parts(
    benchmark: str,
    option: str,
    items: Sequence[str],
    *,
    processes: int,
    arguments: Sequence[str],
    parts_dir: str | os.PathLike[str],
    program: Sequence[str] = (sys.executable, "-m", "sagatsr", "benchmark"),
) -> list[dict[str, Any]]:
    """Run ``sagatsr benchmark BENCHMARK OPTION GROUP ARGUMENTS`` per group, side by side.

    Args:
        benchmark: The benchmark's command name (``ic_faithfulness``, ``ic_encodings``).
        option: Its option that takes the items (``--datasets``, ``--encodings``).
        items: The items to split among the processes.
        processes: Processes to run (at most one per item); each gets its share
            of the available cores as torch threads.
        arguments: The other options every part gets (its settings, ``--work-dir``).
        parts_dir: Where each part writes its result (``part_<i>.json``).
        program: The command that runs a benchmark (default: this interpreter's
            ``sagatsr benchmark``).

    Returns:
        The parts' results, in the order of the groups.

    Raises:
        RuntimeError: If a part fails (see :func:`run_side_by_side`).
    """
    groups = split_evenly(items, processes)
    folder = Path(parts_dir)
    folder.mkdir(parents=True, exist_ok=True)
    outs = [folder / f"part_{index}.json" for index in range(len(groups))]
    for out in outs:  # never read a result left by an earlier run
        out.unlink(missing_ok=True)
    commands = [
        [*program, benchmark, option, *group, *arguments, "--out", str(out)]
        for group, out in zip(groups, outs, strict=True)
    ]
    run_side_by_side(commands, threads=training_threads(processes=len(groups)))
    return [json.loads(out.read_text()) for out in outs]
