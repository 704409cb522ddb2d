"""One Matbench ensemble per fold from the members of several finished benchmarks.

Members trained with different recipes (another weight decay, another width)
err differently, so their mean can beat an ensemble of as many seeds of one
recipe. Each recipe is run as its own benchmark into its own parts folder
(:mod:`sagatsr.bench.matbench_parts`; every part is checked against its folder's
recipe, as when a benchmark reads it); :func:`combine_matbench` then reads the
members of every folder, without training anything, and scores each fold's
ensemble of all of them as :func:`sagatsr.bench.matbench.run_matbench` scores
one: mean prediction, spread calibrated on the fold's validation slice, test
MAE, interval coverage and the MAE by ensemble size. Members are taken in turn
from each folder (first seed of each recipe, then the second...), so the
ensemble of the first k members mixes the recipes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sagatsr.bench.matbench import MATBENCH_FOLDS, ensemble_fold_result, summarize
from sagatsr.bench.matbench_parts import (
    member_part_path,
    member_predictions,
    member_recipe,
    part_path,
    read_member_part,
    split_labels,
)
from sagatsr.io_utils import write_json
from sagatsr.provenance import run_info
from sagatsr.train.config import TrainConfig
from sagatsr.train.ensemble import combine_predictions, ensemble_result
from sagatsr.train.uncertainty import SpreadCalibration


def _finished_fold(parts_dir: Path, fold: int) -> dict[str, Any]:
    """The fold part of one folder (its recipe names the members).

    Raises:
        ValueError: If the folder has no finished fold ``fold``, or it is not an ensemble.
    """
    path = part_path(parts_dir, fold)
    if not path.is_file():
        raise ValueError(f"{parts_dir}: fold {fold} is not finished there ({path.name} missing)")
    part = json.loads(path.read_text(encoding="utf-8"))
    if len(part["recipe"]["seeds"]) < 1:
        raise ValueError(f"{path}: fold {fold} is one model, not an ensemble of members")
    return part


def _interleaved(lists: Sequence[Sequence[Any]]) -> list[tuple[int, Any]]:
    """``(list index, item)`` taking the first item of each list, then the second..."""
    out = []
    for position in range(max(len(items) for items in lists)):
        out.extend(
            (index, items[position]) for index, items in enumerate(lists) if position < len(items)
        )
    return out


def combine_matbench(
    prepared_dir: str | os.PathLike[str],
    parts_dirs: Sequence[str | os.PathLike[str]],
    *,
    folds: Sequence[int] = MATBENCH_FOLDS,
    out_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
    calibrations: Mapping[int, SpreadCalibration] | None = None,
) -> dict[str, Any]:
    """Score, per fold, the ensemble of every member of several parts folders.

    Args:
        prepared_dir: The prepared ``castelli_perovskites`` folder the members were trained on
            (their ids are checked against its splits).
        parts_dirs: Two or more parts folders of finished ensemble benchmarks, one recipe each.
        folds: Folds to score (each must be finished in every folder).
        out_path: Write the result JSON here.
        command: Command recorded in the result.
        calibrations: Per fold, the spread calibration to use instead of one
            fitted on the validation slice; required when the members were refit
            on it (:func:`sagatsr.bench.matbench.fold_calibrations`).

    Returns:
        The result layout of :func:`sagatsr.bench.matbench.run_matbench`, plus
        ``recipes`` (each folder's recipe, model configuration and seeds) and, per
        fold, ``members`` (the folder index and seed of each member, in ensemble order).
        ``model_config`` and ``train_config`` are the first folder's.

    Raises:
        ValueError: With fewer than two folders, folders of another task (subset or
            target), a fold not finished in a folder, a part that does not match
            its folder's recipe or the prepared split, folders of refit and not refit
            members together, or refit members without a calibration for a fold.
    """
    if len(parts_dirs) < 2:
        raise ValueError("combining needs the parts folders of at least two benchmarks")
    provenance = run_info(command)
    folders = [Path(d) for d in parts_dirs]
    per_fold: list[dict[str, Any]] = []
    recipes: list[dict[str, Any]] = []
    first_part: dict[str, Any] = {}
    for fold in folds:
        parts = [_finished_fold(folder, fold) for folder in folders]
        task = {(p["recipe"]["subset"], p["recipe"]["target"]) for p in parts}
        if len(task) != 1:
            raise ValueError(f"fold {fold}: the folders are for different tasks {sorted(task)}")
        ((subset, target),) = task
        refits = {bool(p["recipe"].get("refit")) for p in parts}
        if len(refits) != 1:
            raise ValueError(f"fold {fold}: refit members cannot be combined with others")
        (refit,) = refits
        calibration = (calibrations or {}).get(fold)
        if refit and calibration is None:
            raise ValueError(
                f"fold {fold}: the members were refit on the validation slice; give the "
                "calibration of an ensemble trained without it"
            )
        if not recipes:
            first_part = parts[0]
            recipes = [
                {
                    "parts": str(folder),
                    "seeds": part["recipe"]["seeds"],
                    "model_config": part["model_config"],
                    "train_config": part["recipe"]["train_config"],
                    "model_settings": part["recipe"]["model_settings"],
                }
                for folder, part in zip(folders, parts, strict=True)
            ]
        elif [p["recipe"]["seeds"] for p in parts] != [r["seeds"] for r in recipes]:
            raise ValueError(f"fold {fold}: the folders' seeds differ from fold {folds[0]}'s")
        labels = split_labels(prepared_dir, subset, f"matbench_fold{fold}", target)
        members, frames, order = [], [], []
        for index, seed in _interleaved([p["recipe"]["seeds"] for p in parts]):
            folder, recipe = folders[index], parts[index]["recipe"]
            stored = read_member_part(folder, fold, seed, member_recipe(recipe, seed))
            where = str(member_part_path(folder, fold, seed))
            if stored is None:
                raise ValueError(f"{where}: the member is missing from a finished fold")
            members.append(stored["metrics"])
            frames.append(member_predictions(stored, labels, target, where))
            order.append({"recipe": index, "seed": int(seed)})
        ensemble, _ = ensemble_result(
            combine_predictions(frames), members, command=command, calibration=calibration
        )
        result = ensemble_fold_result(ensemble, frames, members, target)
        per_fold.append({"fold": fold, **result, "members": order})
    seeds = [member["seed"] for member in per_fold[0]["members"]]
    train_config = TrainConfig(**recipes[0]["train_config"])
    qualifier = f"(ensembles of {len(seeds)} members from {len(recipes)} recipes)"
    result = summarize(
        per_fold, target, first_part, train_config, provenance, seeds, qualifier, refit=refit
    )
    result["recipes"] = recipes
    if out_path:
        write_json(out_path, result)
    return result
