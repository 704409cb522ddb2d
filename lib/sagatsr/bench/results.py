"""Read committed benchmark result files back as tables.

The accuracy suites (Matbench, embedding ablation, subsets) take tens of minutes
to hours and run from the command line (``sagatsr benchmark ...``); their JSON
files under ``reports/metrics`` are what the benchmark notebook shows.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

#: Result files of the command-line accuracy benchmarks, by suite name.
SUITE_FILES: dict[str, str] = {
    "matbench": "matbench_perovskites.json",
    "matbench_refit": "matbench_refit.json",
    "embedding_ablation": "embedding_ablation.json",
    "subsets": "subsets.json",
    "ic_faithfulness": "ic_faithfulness.json",
    "ic_encodings": "ic_encodings.json",
}


def read_results(
    directory: str | os.PathLike[str], names: Sequence[str] = tuple(SUITE_FILES)
) -> dict[str, dict[str, Any] | None]:
    """Load result files of named suites; a suite not run yet maps to ``None``.

    Args:
        directory: Folder holding the result JSON files (``reports/metrics``).
        names: Suite names, keys of :data:`SUITE_FILES`.

    Raises:
        KeyError: An unknown suite name.
        ValueError: A result file that is not valid JSON (named in the message).
    """
    results: dict[str, dict[str, Any] | None] = {}
    for name in names:
        if name not in SUITE_FILES:
            raise KeyError(f"unknown benchmark suite {name!r}; known: {sorted(SUITE_FILES)}")
        path = Path(directory) / SUITE_FILES[name]
        if not path.is_file():
            results[name] = None
            continue
        try:
            results[name] = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not a valid result file ({error})") from error
    return results


def suite_frame(result: dict[str, Any]) -> pd.DataFrame:
    """One row per run of a suite result (``embedding_ablation.json``, ``subsets.json``).

    Columns: name, dataset, subset, split, target, embedding, unit, test_mae,
    test_rmse, test_r2, n_train, n_test, epochs_run, best_epoch, train_seconds.
    """
    columns = [
        "name",
        "dataset",
        "subset",
        "split",
        "target",
        "embedding",
        "unit",
        "test_mae",
        "test_rmse",
        "test_r2",
        "n_train",
        "n_test",
        "epochs_run",
        "best_epoch",
        "train_seconds",
    ]
    return pd.DataFrame(result.get("runs", []), columns=columns)


def matbench_frame(result: dict[str, Any]) -> pd.DataFrame:
    """One row per Matbench fold plus a ``mean`` row (``matbench_perovskites.json``)."""
    frame = pd.DataFrame(result.get("folds", []))
    if frame.empty:
        return frame
    keep = [
        c
        for c in (
            "fold",
            "test_mae",
            "test_rmse",
            "test_r2",
            "best_epoch",
            "epochs_run",
            "train_seconds",
            "wall_seconds",
        )
        if c in frame.columns
    ]
    frame = frame[keep].astype({"fold": object})
    mean = {"fold": "mean", "test_mae": result.get("mean_mae")}
    return pd.concat([frame, pd.DataFrame([mean])], ignore_index=True)
