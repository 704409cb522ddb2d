"""Training recipes compared on their validation slice: a result file of finished runs.

Recipes are chosen on validation data only. This collects, for finished run
folders, their settings, best validation MAE, training time, and the time each
needed to first reach the reference run's best validation MAE (time to
accuracy), and the validation MAE of the mean of every pair of runs (how much
two recipes, or two seeds, gain as an ensemble of two: runs that err
differently gain more). Test metrics and test predictions are deliberately left
out.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sagatsr.io_utils import write_json
from sagatsr.model.config import PAPER_ENCODING
from sagatsr.provenance import run_info
from sagatsr.sr.units import format_quantity
from sagatsr.train.ensemble import combine_predictions
from sagatsr.train.run import Run
from sagatsr.train.runner import read_history

#: Settings that tell recipes apart.
MODEL_KEYS = (
    "embedding",
    "hidden",
    "layers",
    "heads",
    "edge_dim",
    "dropout",
    "sae_score",
    *PAPER_ENCODING,
)
TRAIN_KEYS = (
    "epochs",
    "batch_size",
    "lr",
    "weight_decay",
    "ema_decay",
    "loss",
    "compile",
    "seed",
    "devices",
)


def _time_to(history: Any, threshold: float) -> dict[str, Any]:
    reached = history[history["val_mae"] <= threshold]
    if reached.empty:
        return {"epoch": None, "seconds": None, "cpu_seconds": None}
    row = reached.iloc[0]  # clocks since the run began (over resumes)
    cpu = row.get("run_cpu_seconds")
    return {
        "epoch": int(row["epoch"]),
        "seconds": float(row["run_seconds"]),
        "cpu_seconds": None if cpu is None or cpu != cpu else float(cpu),
    }


def pair_ensembles(
    run_dirs: Sequence[str | os.PathLike[str]], names: Sequence[str]
) -> list[dict[str, Any]]:
    """Validation MAE of the mean prediction of every pair of runs (validation rows only).

    Args:
        run_dirs: Finished run folders of one task.
        names: Their names in the result.

    Returns:
        ``{"runs": [name_i, name_j], "val_mae": ...}`` for every pair ``i < j``.

    Raises:
        ValueError: If two runs predicted other validation structures or labels.
    """
    validation = []
    for folder in run_dirs:
        frame = Run(folder).predictions()
        validation.append(frame[frame["part"] == "val"].reset_index(drop=True))
    target = validation[0].columns[2]
    pairs = []
    for i, j in itertools.combinations(range(len(validation)), 2):
        try:  # the ensemble's own mean, with its check that both predicted the same rows
            mean = combine_predictions([validation[i], validation[j]], [names[i], names[j]])
        except ValueError as error:
            raise ValueError(
                f"{names[i]} and {names[j]} predicted other validation structures"
            ) from error
        error = float(np.abs(mean[target] - mean["prediction"]).mean())
        pairs.append({"runs": [names[i], names[j]], "val_mae": error})
    return pairs


def collect_trials(
    run_dirs: Sequence[str | os.PathLike[str]],
    *,
    out_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Summarize finished runs as recipe trials; the first run is the reference.

    Args:
        run_dirs: Finished run folders (same dataset, split and target), the
            reference recipe first.
        out_path: Write the result JSON here.
        command: Command recorded in the result.

    Returns:
        Per run: settings, best validation MAE and epoch, training wall and CPU
        time, threads, and the time to reach the reference's best validation MAE;
        ``pairs``: the validation MAE of every two-run ensemble (:func:`pair_ensembles`);
        at the top level the best validation MAE of the reference and of the
        best trial (the figures ``dvc exp show`` lists for the ``trial`` stage).

    Raises:
        ValueError: With no runs, or runs of different datasets, splits or targets.
    """
    if not run_dirs:
        raise ValueError("need at least one run folder")
    metrics = [Run(folder).metrics() for folder in run_dirs]
    task = {(m["dataset"], m["subset"], m["split"], m["target"]) for m in metrics}
    if len(task) > 1:
        raise ValueError(f"the runs are of different tasks: {sorted(task)}")
    reference = metrics[0]["best_val_mae"]
    trials = []
    for folder, m in zip(run_dirs, metrics, strict=True):
        history = read_history(folder)
        trials.append(
            {
                "run": "/".join(Path(folder).parts[-2:]),
                "model": {k: m["model_config"].get(k) for k in MODEL_KEYS},
                "train": {k: m["train_config"].get(k) for k in TRAIN_KEYS},
                # share of the training part (runs before --train-fraction used all of it)
                "train_fraction": m.get("train_fraction", 1.0),
                "best_val_mae": m["best_val_mae"],
                "best_epoch": m["best_epoch"],
                "epochs_run": m["epochs_run"],
                "train_seconds": m["train_seconds"],
                "train_cpu_seconds": m.get("train_cpu_seconds"),
                "torch_threads": m.get("torch_threads"),
                "reaches_reference": _time_to(history, reference),
                "commit": m.get("commit"),
            }
        )
    dataset, subset, split, target = task.pop()
    best = min(trials, key=lambda t: t["best_val_mae"])
    result = {
        "summary": (
            f"{len(trials)} recipe trial(s) on {dataset}/{subset} {split} {target}: best "
            f"validation MAE {format_quantity(best['best_val_mae'], metrics[0]['unit'])} "
            f"({best['run']}); "
            f"reference {reference:.4g} ({trials[0]['run']})"
        ),
        "dataset": dataset,
        "subset": subset,
        "split": split,
        "target": target,
        "unit": metrics[0]["unit"],
        "reference": trials[0]["run"],
        "reference_best_val_mae": reference,
        "best_val_mae": best["best_val_mae"],
        "trials": trials,
        "pairs": pair_ensembles(run_dirs, [t["run"] for t in trials]) if len(trials) > 1 else [],
        **run_info(command),
    }
    if out_path:
        write_json(Path(out_path), result)
    return result
