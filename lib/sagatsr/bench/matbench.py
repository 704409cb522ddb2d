"""Matbench ``matbench_perovskites`` protocol on a prepared Castelli dataset.

For each of the 5 official folds: train only on the fold's training part (a
seeded slice of it is the validation set for early stopping and checkpoint
selection), report the MAE on the fold's test part; then the mean and standard
deviation over the folds. Nothing is tuned on a test part.

A benchmark of ensembles takes many CPU hours. With a *parts* folder
(:mod:`sagatsr.bench.matbench_parts`), each finished fold is also written there
as ``fold<k>.json`` (its result, the recipe and the commit, hardware and date it
ran with), and each finished ensemble member as ``fold<k>_seed<s>.json`` (its
metrics and validation and test predictions); a later call with the same recipe
reads those folds and members instead of training them again, so the five folds,
and the members of one fold, can be run in separate sessions, on separate
machines, and merged into one result. A part made with another recipe is
refused, never mixed in.

A *refit* benchmark trains each model on the fold's training and validation parts
together and keeps its last epoch (:func:`sagatsr.train.pipeline.train_on_split`),
a recipe's final model once the recipe is fixed. Its validation figures are
in-sample, so an ensemble's spread is calibrated with the calibration of the same
recipe's ensemble trained without the validation part (:func:`fold_calibrations`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sagatsr.bench.matbench_parts import (
    PREDICTED_PARTS,
    fold_recipe,
    member_part_path,
    member_predictions,
    member_recipe,
    part_path,
    read_fold_part,
    read_member_part,
    split_labels,
    write_fold_part,
    write_member_part,
)
from sagatsr.io_utils import write_json
from sagatsr.provenance import run_info
from sagatsr.train.config import TrainConfig
from sagatsr.train.ensemble import (
    combine_predictions,
    ensemble_result,
    evaluate_ensemble,
    member_folder,
    train_member,
)
from sagatsr.train.pipeline import train_on_split
from sagatsr.train.run import Run
from sagatsr.train.uncertainty import SpreadCalibration

#: The official folds of the task.
MATBENCH_FOLDS: tuple[int, ...] = (0, 1, 2, 3, 4)

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
    folds: Sequence[int] = MATBENCH_FOLDS,
    subset: str = "all",
    target: str = "e_form",
    model_settings: dict[str, Any] | None = None,
    train_config: TrainConfig | None = None,
    seeds: Sequence[int] = (),
    out_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
    parts_dir: str | os.PathLike[str] | None = None,
    refit: bool = False,
    calibrations: Mapping[int, SpreadCalibration] | None = None,
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
        parts_dir: Folder of parts (see the module docstring): a fold or an
            ensemble member whose part holds the same recipe is read from it,
            every fold and member finished here is written to it.
        refit: Train every model on the training and validation parts, for all
            its epochs, keeping the last (see the module docstring).
        calibrations: Per fold, the spread calibration of an ensemble (required
            for a refit ensemble, whose validation errors are in-sample; see
            :func:`fold_calibrations`).

    Returns:
        Per-fold MAE, mean, std, epochs, training wall and CPU time per fold
        (every member's), with ensembles the interval coverage, and provenance;
        a fold read from a part carries the commit, hardware and date it ran with.

    Raises:
        ValueError: If a part of a requested fold was made with another recipe
            (names the file and the settings that differ), or a refit ensemble
            has no calibration for a requested fold.
    """
    train_config = train_config or TrainConfig()
    if refit and seeds:
        missing = [fold for fold in folds if fold not in (calibrations or {})]
        if missing:
            raise ValueError(
                f"a refit ensemble is trained on its validation slice: give the calibration of "
                f"an ensemble trained without it (missing for fold(s) {missing})"
            )
    provenance = run_info(command)  # the code that runs: taken before the first fold
    recipe = fold_recipe(subset, target, model_settings, train_config, seeds, refit=refit)
    per_fold: list[dict[str, Any]] = []
    result: dict[str, Any] = {}
    for fold in folds:
        part = read_fold_part(parts_dir, fold, recipe)
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
                recipe,
                parts_dir,
                refit,
                (calibrations or {}).get(fold),
            )
            part = (
                write_fold_part(parts_dir, fold, recipe, fold_result, metrics, command)
                if parts_dir is not None
                else {**metrics, "fold_result": fold_result}
            )
        per_fold.append(part["fold_result"])
        # A part, like a run's metrics, holds the unit and model configuration.
        result = summarize(per_fold, target, part, train_config, provenance, seeds, refit=refit)
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
    recipe: dict[str, Any],
    parts_dir: str | os.PathLike[str] | None,
    refit: bool = False,
    calibration: SpreadCalibration | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train one fold (a model or an ensemble); its result and its (first) run's metrics.

    The result's ``wall_seconds`` is this call's wall time: ensemble members read
    from parts add none (their own times are in ``train_seconds``).
    """
    started = time.perf_counter()
    split = f"matbench_fold{fold}"
    folder = Path(out_root) / f"fold{fold}"
    if seeds:
        fold_result, metrics = _ensemble_fold(
            prepared_dir,
            subset,
            split,
            target,
            folder,
            seeds,
            model_settings,
            train_config,
            command,
            fold,
            recipe,
            parts_dir,
            refit,
            calibration,
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
            refit=refit,
        )
        fold_result = _single_fold(metrics)
    fold_result = {"fold": fold, **fold_result}
    fold_result["wall_seconds"] = round(time.perf_counter() - started, 1)
    return fold_result, metrics


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
    fold: int,
    recipe: dict[str, Any],
    parts_dir: str | os.PathLike[str] | None,
    refit: bool = False,
    calibration: SpreadCalibration | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train (or read from member parts) each member, then evaluate the fold's ensemble.

    Returns:
        The fold's result and the first member's ``metrics.json``.
    """
    members: list[dict[str, Any]] = []
    frames: list[pd.DataFrame] = []
    local: list[Path] = []
    labels = None
    for seed in seeds:
        run = Run(member_folder(folder, seed))
        wanted = member_recipe(recipe, seed)
        stored = read_member_part(parts_dir, fold, seed, wanted)
        if stored is None:
            train_member(
                prepared_dir,
                subset=subset,
                split=split,
                target=target,
                out_dir=folder,
                seed=seed,
                model_settings=model_settings,
                train_config=train_config,
                command=command,
                refit=refit,
            )
        if run.is_finished():
            metrics = run.metrics()
            predictions = run.predictions()
            predictions = predictions[predictions["part"].isin(PREDICTED_PARTS)]
            predictions = predictions.reset_index(drop=True).astype({"id": str})
            if stored is None and parts_dir is not None:
                write_member_part(parts_dir, fold, seed, wanted, metrics, predictions, command)
            local.append(run.folder)
        else:  # finished in another session: its part holds what the fold needs
            if labels is None:
                labels = split_labels(prepared_dir, subset, split, target)
            metrics = stored["metrics"]
            where = str(member_part_path(parts_dir, fold, seed))
            predictions = member_predictions(stored, labels, target, where)
        members.append(metrics)
        frames.append(predictions)
    if len(local) == len(seeds):  # every member here: an ensemble folder to predict with
        ensemble = evaluate_ensemble(folder, local, command=command, calibration=calibration)
    else:
        ensemble, _ = ensemble_result(
            combine_predictions(frames), members, command=command, calibration=calibration
        )
    result = ensemble_fold_result(ensemble, frames, members, target)
    return {**result, "seeds": list(seeds)}, members[0]


def ensemble_fold_result(
    ensemble: dict[str, Any],
    frames: Sequence[pd.DataFrame],
    members: Sequence[dict[str, Any]],
    target: str,
) -> dict[str, Any]:
    """A fold's result from its evaluated ensemble and its members, in member order.

    Args:
        ensemble: :func:`sagatsr.train.ensemble.ensemble_result` of the members.
        frames: Each member's validation and test predictions (columns ``id``,
            ``part``, the target, ``prediction``).
        members: Each member's ``metrics.json``.
        target: Target name.

    Returns:
        Test and validation scores, member scores, epochs, training time, the
        uncertainty report and ``by_ensemble_size``: the ensemble of the first k
        members, k = 1 .. K (accuracy against compute).
    """
    scores = ensemble["metrics"]
    by_size = []
    for k in range(1, len(frames) + 1):
        frame = frames[0] if k == 1 else combine_predictions(frames[:k])
        by_size.append(
            {
                "members": k,
                "val_mae": _part_mae(frame, "val", target),
                "test_mae": _part_mae(frame, "test", target),
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
        "n_train": members[0]["metrics"]["train"]["n"],
        "n_val": scores["val"]["n"],
        "n_test": scores["test"]["n"],
        "best_epoch": [m["best_epoch"] for m in members],
        "epochs_run": [m["epochs_run"] for m in members],
        "train_seconds": ensemble["train_seconds"],
        "train_cpu_seconds": ensemble["train_cpu_seconds"],
        "uncertainty_test": ensemble["uncertainty"]["test"],
        "by_ensemble_size": by_size,
        "calibration": ensemble["calibration"],
        "device": members[0]["device"],
    }


def _part_mae(frame: pd.DataFrame, part: str, target: str) -> float:
    """MAE of the ``prediction`` column against ``target`` over the rows of one part."""
    rows = frame[frame["part"] == part]
    return float(np.abs(rows[target] - rows["prediction"]).mean())


def summarize(
    per_fold: list[dict[str, Any]],
    target: str,
    last_metrics: dict[str, Any],
    train_config: TrainConfig,
    provenance: dict[str, Any],
    seeds: Sequence[int] = (),
    qualifier: str = "",
    *,
    refit: bool = False,
) -> dict[str, Any]:
    """The result JSON from the folds done so far (``provenance``: :func:`run_info` at start).

    ``qualifier`` describes the models after the mean in the summary line, e.g.
    ``"(ensembles of 6 members from 2 recipes)"``; ``refit`` marks models trained
    on the validation slices too (their validation figures are in-sample).
    """
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
                # The figure to choose the ensemble size by (folds run before it was kept: nan).
                "mean_val_mae": float(np.mean([entry.get("val_mae", np.nan) for entry in size])),
                "mean_test_mae": float(np.mean([entry["test_mae"] for entry in size])),
                "train_cpu_seconds": float(sum(entry["train_cpu_seconds"] for entry in size)),
            }
            for size in zip(*(f["by_ensemble_size"] for f in per_fold), strict=True)
        ]
    return {
        "summary": (
            f"Matbench perovskites {target}: mean test MAE {mean:.4f} eV/cell "
            + (f"{qualifier} " if qualifier else "")
            + ("(refit on training + validation) " if refit else "")
            + "over "
            f"{len(per_fold)} fold(s)" + ("" if complete else " (INCOMPLETE: not all 5 folds)")
        ),
        "task": "matbench_perovskites",
        "target": target,
        "unit": last_metrics["unit"],
        "complete": complete,
        "refit": refit,
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


def fold_calibrations(path: str | os.PathLike[str]) -> dict[int, SpreadCalibration]:
    """Each fold's spread calibration from a finished ensemble benchmark.

    Args:
        path: Its result file (``folds``, e.g. ``matbench_perovskites.json``) or
            its parts folder (``fold<k>.json``).

    Returns:
        ``{fold: calibration}`` of every fold that has one.

    Raises:
        ValueError: If the file or folder holds no fold with a calibration.
    """
    source = Path(path)
    if source.is_dir():
        parts = [part_path(source, fold) for fold in MATBENCH_FOLDS]
        folds = [
            json.loads(part.read_text(encoding="utf-8"))["fold_result"]
            for part in parts
            if part.is_file()
        ]
    else:
        folds = json.loads(source.read_text(encoding="utf-8")).get("folds", [])
    found = {
        int(fold["fold"]): SpreadCalibration.from_dict(fold["calibration"])
        for fold in folds
        if fold.get("calibration")
    }
    if not found:
        raise ValueError(f"{source}: no fold with an ensemble calibration")
    return found
