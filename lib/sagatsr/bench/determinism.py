"""How far trained figures move with the torch thread count, against the seed spread.

A fixed seed gives bit-identical training on one CPU with one thread count; another
thread count (or another CPU) sums floating-point values in another order, so the
trained model and its test error move. :func:`measure_determinism` trains one recipe
for every (seed, thread count) pair on a saved split, repeats the first pair to check
same-machine determinism, and reports the spread due to threads beside the spread
due to seeds (``reports/metrics/determinism.json``). Results from other CPUs are kept
in their own files; the hardware is recorded.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from sagatsr.io_utils import write_json
from sagatsr.provenance import run_info
from sagatsr.train.config import TrainConfig
from sagatsr.train.pipeline import train_on_split


def measure_determinism(
    prepared_dir: str | os.PathLike[str],
    work_dir: str | os.PathLike[str],
    *,
    subset: str,
    split: str,
    target: str,
    model_settings: dict[str, Any] | None,
    train_config: TrainConfig,
    seeds: Sequence[int] = (0, 1, 2),
    threads: Sequence[int] = (1, 2),
    out_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Train every (seed, thread count) pair and compare the test MAEs.

    Args:
        prepared_dir: A prepared dataset folder.
        work_dir: Run folders go to ``<work_dir>/seed<s>_threads<t>`` (finished runs
            are only re-evaluated, so an interrupted measurement resumes).
        subset: Subset of the runs.
        split: Saved split.
        target: Target.
        model_settings: Model overrides.
        train_config: Training settings (its seed and threads are replaced).
        seeds: Seeds (at least one).
        threads: Torch thread counts (at least one).
        out_path: Result file to write.
        command: Command recorded in the result.

    Returns:
        ``runs`` (seed, threads, test MAE, unit), ``repeat_identical`` (the first
        pair trained twice gives the same test MAE), ``thread_spread`` (per seed,
        largest minus smallest MAE over the thread counts, absolute and relative to
        the mean), ``seed_spread`` (same over seeds at the first thread count) and
        a ``summary`` line.
    """
    if not seeds or not threads:
        raise ValueError("give at least one seed and one thread count")
    work = Path(work_dir)
    common = {"subset": subset, "split": split, "target": target}

    def train(seed: int, count: int, folder: Path) -> tuple[float, str]:
        config = replace(train_config, seed=seed, threads=count)
        metrics = train_on_split(
            prepared_dir,
            **common,
            out_dir=folder,
            model_settings=model_settings,
            train_config=config,
            command=command,
        )
        return float(metrics["metrics"]["test"]["mae"]), str(metrics.get("unit", ""))

    runs = []
    for seed in seeds:
        for count in threads:
            mae, unit = train(seed, count, work / f"seed{seed}_threads{count}")
            runs.append({"seed": seed, "threads": count, "test_mae": mae, "unit": unit})
    repeat_mae, _ = train(seeds[0], threads[0], work / f"seed{seeds[0]}_threads{threads[0]}_repeat")

    def spread(values: list[float]) -> dict[str, float]:
        return {
            "abs": float(np.max(values) - np.min(values)),
            "rel": float((np.max(values) - np.min(values)) / np.mean(values)),
        }

    by_seed = {s: [r["test_mae"] for r in runs if r["seed"] == s] for s in seeds}
    thread_spread = {str(s): spread(v) for s, v in by_seed.items()}
    seed_values = [r["test_mae"] for r in runs if r["threads"] == threads[0]]
    seed_spread = spread(seed_values)
    largest_thread = max(v["rel"] for v in thread_spread.values())
    result = {
        "summary": (
            f"{target}: thread count moves the test MAE by up to {100 * largest_thread:.1f} % "
            f"(threads {list(threads)}), seeds by {100 * seed_spread['rel']:.1f} % "
            f"(seeds {list(seeds)}); same seed and threads again: "
            f"{'identical' if repeat_mae == runs[0]['test_mae'] else 'DIFFERENT'}"
        ),
        **common,
        "unit": runs[0]["unit"],
        "seeds": list(seeds),
        "threads": list(threads),
        "runs": runs,
        "repeat_test_mae": repeat_mae,
        "repeat_identical": repeat_mae == runs[0]["test_mae"],
        "thread_spread": thread_spread,
        "seed_spread": seed_spread,
        "train_config": train_config.to_dict(),
        "model_settings": model_settings or {},
        **run_info(command),
    }
    if out_path is not None:
        write_json(Path(out_path), result)
    return result
