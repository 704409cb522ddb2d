"""Matbench ``matbench_perovskites`` protocol on a prepared Castelli dataset.

For each of the 5 official folds: train only on the fold's training part (a
seeded slice of it is the validation set for early stopping and checkpoint
selection), report the MAE on the fold's test part; then the mean and standard
deviation over the folds. Nothing is tuned on a test part.

A benchmark of ensembles takes many CPU hours. With a *parts* folder, each
finished fold is also written there as ``fold<k>.json`` (its result, the recipe
and the commit, hardware and date it ran with); a later call with the same
recipe reads that fold instead of training it again, so the five folds can be
run in separate sessions, on separate machines, and merged into one result. A
part made with another recipe is refused, never mixed in.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from sagatsr.io_utils import write_json
from sagatsr.provenance import run_info
from sagatsr.train.config import TrainConfig
from sagatsr.train.ensemble import ensemble_predictions, member_folder, train_ensemble
from sagatsr.train.pipeline import train_on_split
from sagatsr.train.run import Run

#: Published 5-fold mean test MAE (eV per cell), Matbench v0.1 leaderboard.
PUBLISHED_MAE = {
    "ALIGNN": 0.0288,
    "DeeperGATGNN": 0.0288,
    "coNGN": 0.0290,
    "Finder": 0.0320,
    "CGCNN": 0.0452,
    "Automatminer express": 0.2005,
    "random forest": 0.2355,
    "predicting the mean": 0.566,
}


def run_matbench(
    prepared_dir: str | os.PathLike[str],
    out_root: str | os.PathLike[str],
    *,
    folds: Sequence[int] = (0, 1, 2, 3, 4),
    subset: str = "all",
    target: str = "e_form",
    model_settings: dict[str, Any] | None = None,
    train_config: TrainConfig | None = None,
    seeds: Sequence[int] = (),
    out_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
    parts_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Train and evaluate one model, or one ensemble, per Matbench fold.

    Args:
        prepared_dir: Prepared ``castelli_perovskites`` folder (with
            ``splits/<subset>/matbench_fold<k>``).
        out_root: Run folders go to ``out_root/fold<k>`` (resumable).
        folds: Folds to run (all five for the official protocol).
        subset: Subset (``"all"`` is the Matbench task).
        target: ``"e_form"`` (eV per cell) for the Matbench task.
        model_settings: Model overrides.
        train_config: Optimisation settings.
        seeds: Two or more seeds: an ensemble per fold (members in
            ``fold<k>/seed<s>``; the fold's prediction is their mean, its
            uncertainty their spread calibrated on the fold's validation slice,
            see :mod:`sagatsr.train.ensemble`). Empty: one model per fold
            (``train_config.seed``).
        out_path: Write the result JSON here (also after every fold, so an
            interrupted benchmark leaves the folds it finished).
        command: Command recorded in the result.
        parts_dir: Folder of per-fold parts (see the module docstring): a fold
            whose part holds the same recipe is read from it, every fold trained
            here is written to it.

    Returns:
        Per-fold MAE, mean, std, epochs, training wall and CPU time per fold
        (every member's), with ensembles the interval coverage, and provenance;
        a fold read from a part carries the commit, hardware and date it ran with.

    Raises:
        ValueError: If a part of a requested fold was made with another recipe
            (names the file and the settings that differ).
    """
    train_config = train_config or TrainConfig()
    provenance = run_info(command)  # the code that runs: taken before the first fold
    recipe = fold_recipe(subset, target, model_settings, train_config, seeds)
    per_fold: list[dict[str, Any]] = []
    result: dict[str, Any] = {}
    for fold in folds:
        part = _read_part(parts_dir, fold, recipe)
        if part is None:
            fold_result, metrics = _train_fold(
                prepared_dir,
                out_root,
                fold,
                subset,
                target,
                seeds,
                model_settings,
                train_config,
                command,
            )
            part = (
                _write_part(parts_dir, fold, recipe, fold_result, metrics, command)
                if parts_dir is not None
                else {**metrics, "fold_result": fold_result}
            )
        per_fold.append(part["fold_result"])
        # A part, like a run's metrics, holds the unit and model configuration.
        result = summarize(per_fold, target, part, train_config, provenance, seeds)
        if out_path:
            write_json(out_path, result)
    return result


def _train_fold(
    prepared_dir: str | os.PathLike[str],
    out_root: str | os.PathLike[str],
    fold: int,
    subset: str,
    target: str,
    seeds: Sequence[int],
    model_settings: dict[str, Any] | None,
    train_config: TrainConfig,
    command: str | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train one fold (a model or an ensemble); its result and its (first) run's metrics."""
    started = time.perf_counter()
    split = f"matbench_fold{fold}"
    folder = Path(out_root) / f"fold{fold}"
    if seeds:
        fold_result = _ensemble_fold(
            prepared_dir,
            subset,
            split,
            target,
            folder,
            seeds,
            model_settings,
            train_config,
            command,
        )
    else:
        metrics = train_on_split(
            prepared_dir,
            subset=subset,
            split=split,
            target=target,
            out_dir=folder,
            model_settings=model_settings,
            train_config=train_config,
            command=command,
        )
        fold_result = _single_fold(metrics)
    fold_result = {"fold": fold, **fold_result}
    fold_result["wall_seconds"] = round(time.perf_counter() - started, 1)
    metrics = Run(folder if not seeds else member_folder(folder, seeds[0])).metrics()
    return fold_result, metrics


#: Training settings that do not enter a fold part's recipe: they change neither
#: what is learned nor how the data are split over processes.
_PART_IGNORED = frozenset({"progress_bar", "num_workers", "threads"})


def fold_recipe(
    subset: str,
    target: str,
    model_settings: dict[str, Any] | None,
    train_config: TrainConfig,
    seeds: Sequence[int],
) -> dict[str, Any]:
    """What must agree for two folds to belong to one benchmark result (JSON-ready).

    Args:
        subset: Subset of the prepared dataset.
        target: Target column.
        model_settings: Model overrides.
        train_config: Optimisation settings (all but progress bars, loader workers
            and threads count).
        seeds: Ensemble seeds (empty: one model, ``train_config.seed``).

    Returns:
        The recipe as plain JSON types.
    """
    train = {k: v for k, v in train_config.to_dict().items() if k not in _PART_IGNORED}
    recipe = {
        "subset": subset,
        "target": target,
        "model_settings": dict(model_settings or {}),
        "train_config": train,
        "seeds": list(seeds),
    }
    return json.loads(json.dumps(recipe))


def part_path(parts_dir: str | os.PathLike[str], fold: int) -> Path:
    """``parts_dir/fold<k>.json``, the part of one fold."""
    return Path(parts_dir) / f"fold{fold}.json"


def _read_part(
    parts_dir: str | os.PathLike[str] | None, fold: int, recipe: dict[str, Any]
) -> dict[str, Any] | None:
    if parts_dir is None or not (path := part_path(parts_dir, fold)).is_file():
        return None
    part = json.loads(path.read_text(encoding="utf-8"))
    saved = part.get("recipe", {})
    if saved != recipe:
        now, before = _flatten(recipe), _flatten(saved)
        changed = sorted(
            key for key in now.keys() | before.keys() if now.get(key) != before.get(key)
        )
        raise ValueError(
            f"{path}: fold {fold} was run with another recipe ({', '.join(changed)}); "
            "rerun with that recipe, or use another parts folder"
        )
    return part


def _flatten(recipe: dict[str, Any]) -> dict[str, Any]:
    """``{"train_config": {"lr": 1}}`` -> ``{"train_config.lr": 1}`` (one level)."""
    flat: dict[str, Any] = {}
    for group, value in recipe.items():
        if isinstance(value, dict):
            flat.update({f"{group}.{key}": item for key, item in value.items()})
        else:
            flat[group] = value
    return flat


def _write_part(
    parts_dir: str | os.PathLike[str],
    fold: int,
    recipe: dict[str, Any],
    fold_result: dict[str, Any],
    metrics: dict[str, Any],
    command: str | None,
) -> dict[str, Any]:
    """Write a fold's part and return it (its result stamped with commit, hardware and date)."""
    info = run_info(command)
    stamped = {
        **fold_result,
        "commit": info["commit"],
        "hardware": info["hardware"],
        "date": info["date"],
    }
    part = {
        "recipe": recipe,
        "fold_result": stamped,
        "unit": metrics["unit"],
        "model_config": metrics["model_config"],
        **info,
    }
    write_json(part_path(parts_dir, fold), part)
    return part


def _single_fold(metrics: dict[str, Any]) -> dict[str, Any]:
    return {
        "test_mae": metrics["metrics"]["test"]["mae"],
        "test_rmse": metrics["metrics"]["test"]["rmse"],
        "test_r2": metrics["metrics"]["test"]["r2"],
        "val_mae": metrics["best_val_mae"],
        "n_train": metrics["metrics"]["train"]["n"],
        "n_val": metrics["metrics"]["val"]["n"],
        "n_test": metrics["metrics"]["test"]["n"],
        "best_epoch": metrics["best_epoch"],
        "epochs_run": metrics["epochs_run"],
        "train_seconds": metrics["train_seconds"],
        "train_cpu_seconds": metrics.get("train_cpu_seconds", 0.0),
        "device": metrics["device"],
    }


def _ensemble_fold(
    prepared_dir: str | os.PathLike[str],
    subset: str,
    split: str,
    target: str,
    folder: Path,
    seeds: Sequence[int],
    model_settings: dict[str, Any] | None,
    train_config: TrainConfig,
    command: str | None,
) -> dict[str, Any]:
    ensemble = train_ensemble(
        prepared_dir,
        subset=subset,
        split=split,
        target=target,
        out_dir=folder,
        seeds=seeds,
        model_settings=model_settings,
        train_config=train_config,
        command=command,
    )
    members = [Run(member_folder(folder, seed)).metrics() for seed in seeds]
    scores = ensemble["metrics"]
    # Accuracy against compute: the ensemble of the first k members, k = 1 .. K.
    by_size = []
    for k in range(1, len(seeds) + 1):
        frame = Run(member_folder(folder, seeds[0])).predictions()
        if k > 1:
            frame = ensemble_predictions([member_folder(folder, s) for s in seeds[:k]])
        test = frame[frame["part"] == "test"]
        by_size.append(
            {
                "members": k,
                "test_mae": float(np.abs(test[target] - test["prediction"]).mean()),
                "train_cpu_seconds": float(
                    sum(m.get("train_cpu_seconds", 0.0) for m in members[:k])
                ),
            }
        )
    return {
        "test_mae": scores["test"]["mae"],
        "test_rmse": scores["test"]["rmse"],
        "test_r2": scores["test"]["r2"],
        "val_mae": scores["val"]["mae"],
        "member_test_mae": ensemble["member_test_mae"],
        "member_val_mae": [m["best_val_mae"] for m in members],
        "n_train": scores["train"]["n"],
        "n_val": scores["val"]["n"],
        "n_test": scores["test"]["n"],
        "seeds": list(seeds),
        "best_epoch": [m["best_epoch"] for m in members],
        "epochs_run": [m["epochs_run"] for m in members],
        "train_seconds": ensemble["train_seconds"],
        "train_cpu_seconds": ensemble["train_cpu_seconds"],
        "uncertainty_test": ensemble["uncertainty"]["test"],
        "by_ensemble_size": by_size,
        "calibration": ensemble["calibration"],
        "device": members[0]["device"],
    }


def summarize(
    per_fold: list[dict[str, Any]],
    target: str,
    last_metrics: dict[str, Any],
    train_config: TrainConfig,
    provenance: dict[str, Any],
    seeds: Sequence[int] = (),
) -> dict[str, Any]:
    """The result JSON from the folds done so far (``provenance``: :func:`run_info` at start)."""
    maes = np.array([f["test_mae"] for f in per_fold])
    mean = float(maes.mean())
    complete = len(per_fold) == 5
    beaten = [name for name, mae in PUBLISHED_MAE.items() if mean < mae]
    uncertainty = {}
    if seeds:
        reports = [f["uncertainty_test"] for f in per_fold]
        uncertainty = {
            "uncertainty_test_mean_over_folds": {
                "coverage": {
                    level: float(np.mean([r["coverage"][level] for r in reports]))
                    for level in reports[0]["coverage"]
                },
                "reliability": {
                    "nominal": reports[0]["reliability"]["nominal"],
                    "observed": np.mean(
                        [r["reliability"]["observed"] for r in reports], axis=0
                    ).tolist(),
                },
                "mae_most_uncertain_decile": float(
                    np.mean([r["mae_most_uncertain_decile"] for r in reports])
                ),
                "mae_other_deciles": float(np.mean([r["mae_other_deciles"] for r in reports])),
            },
        }
        uncertainty["by_ensemble_size"] = [
            {
                "members": size[0]["members"],
                "mean_test_mae": float(np.mean([entry["test_mae"] for entry in size])),
                "train_cpu_seconds": float(sum(entry["train_cpu_seconds"] for entry in size)),
            }
            for size in zip(*(f["by_ensemble_size"] for f in per_fold), strict=True)
        ]
    return {
        "summary": (
            f"Matbench perovskites {target}: mean test MAE {mean:.4f} eV/cell over "
            f"{len(per_fold)} fold(s)" + ("" if complete else " (INCOMPLETE: not all 5 folds)")
        ),
        "task": "matbench_perovskites",
        "target": target,
        "unit": last_metrics["unit"],
        "complete": complete,
        "folds": per_fold,
        "mean_mae": mean,
        "std_mae": float(maes.std(ddof=1)) if maes.size > 1 else float("nan"),
        # Validation MAE (each fold's held-out slice of its training part): the figure to
        # compare training recipes by, so that no choice is made on the test folds.
        "mean_val_mae": float(np.mean([f["val_mae"] for f in per_fold])),
        "ensemble_seeds": list(seeds),
        "train_seconds": float(sum(f["train_seconds"] for f in per_fold)),
        "train_cpu_seconds": float(sum(f["train_cpu_seconds"] for f in per_fold)),
        **uncertainty,
        "minimum_bar_cgcnn": PUBLISHED_MAE["CGCNN"],
        "goal": 0.027,
        "meets_minimum": bool(complete and mean < PUBLISHED_MAE["CGCNN"]),
        "meets_goal": bool(complete and mean < 0.027),
        "better_than": beaten if complete else [],
        "published_mae": PUBLISHED_MAE,
        "model_config": last_metrics["model_config"],
        "train_config": train_config.to_dict(),
        **provenance,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
