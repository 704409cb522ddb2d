"""The parts folder of a Matbench benchmark: finished folds and ensemble members, one file each.

A benchmark of ensembles takes more CPU hours than one session has, and a
session's run folders may not survive it. The parts folder keeps what is
finished, small enough to commit. Layout (this module owns it)::

    fold<k>.json          a finished fold: its result, the recipe, commit, hardware, date
    fold<k>_seed<s>.json  a finished ensemble member of fold k: its metrics.json and its
                          validation and test predictions (no labels; each part's ids
                          are checked against the prepared split through a SHA-256 of
                          the id list), with the commit, hardware and date it ran with

A part made with another recipe is refused, never mixed in. A member's recipe is
its fold's without the ensemble's seed list and with the member's own seed, so
an ensemble with more seeds reuses the members already run.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sagatsr.io_utils import write_json
from sagatsr.prepare import PreparedDataset
from sagatsr.provenance import run_info
from sagatsr.train.config import TrainConfig
from sagatsr.train.data import labelled_ids, saved_split

#: The parts whose predictions a member part keeps: the validation part (the
#: ensemble's calibration) and the test part (its score).
PREDICTED_PARTS: tuple[str, ...] = ("val", "test")

#: Training settings that do not enter a part's recipe (here and in suite parts): they
#: change neither what is learned nor how the data are split over processes.
PART_IGNORED = frozenset({"progress_bar", "num_workers", "threads"})


def fold_recipe(
    subset: str,
    target: str,
    model_settings: dict[str, Any] | None,
    train_config: TrainConfig,
    seeds: Sequence[int],
    *,
    refit: bool = False,
) -> dict[str, Any]:
    """What must agree for two folds to belong to one benchmark result (JSON-ready).

    Args:
        subset: Subset of the prepared dataset.
        target: Target column.
        model_settings: Model overrides.
        train_config: Optimisation settings (all but progress bars, loader workers
            and threads count).
        seeds: Ensemble seeds (empty: one model, ``train_config.seed``).
        refit: Members trained on training + validation (``"refit": true`` in
            the recipe; absent otherwise, so parts written before refits existed
            still match).

    Returns:
        The recipe as plain JSON types.
    """
    train = {k: v for k, v in train_config.to_dict().items() if k not in PART_IGNORED}
    recipe = {
        "subset": subset,
        "target": target,
        "model_settings": dict(model_settings or {}),
        "train_config": train,
        "seeds": list(seeds),
    }
    if refit:
        recipe["refit"] = True
    return json.loads(json.dumps(recipe))


def member_recipe(recipe: dict[str, Any], seed: int) -> dict[str, Any]:
    """An ensemble member's recipe: the fold's, without the seed list, with ``seed``."""
    return {**recipe, "seeds": [], "train_config": {**recipe["train_config"], "seed": int(seed)}}


def part_path(parts_dir: str | os.PathLike[str], fold: int) -> Path:
    """``parts_dir/fold<k>.json``, the part of one fold."""
    return Path(parts_dir) / f"fold{fold}.json"


def member_part_path(parts_dir: str | os.PathLike[str], fold: int, seed: int) -> Path:
    """``parts_dir/fold<k>_seed<s>.json``, the part of one ensemble member."""
    return Path(parts_dir) / f"fold{fold}_seed{int(seed)}.json"


def read_fold_part(
    parts_dir: str | os.PathLike[str] | None, fold: int, recipe: dict[str, Any]
) -> dict[str, Any] | None:
    """A finished fold's part, or ``None`` when there is none.

    Raises:
        ValueError: If the part was made with another recipe (names the file,
            the fold and the settings that differ).
    """
    if parts_dir is None:
        return None
    return read_checked_part(part_path(parts_dir, fold), f"fold {fold}", recipe)


def write_fold_part(
    parts_dir: str | os.PathLike[str],
    fold: int,
    recipe: dict[str, Any],
    fold_result: dict[str, Any],
    metrics: dict[str, Any],
    command: str | None,
) -> dict[str, Any]:
    """Write a fold's part and return it (its result stamped with commit, hardware and date).

    Args:
        parts_dir: The parts folder.
        fold: Fold index.
        recipe: :func:`fold_recipe` of the benchmark.
        fold_result: The fold's result.
        metrics: The (first) run's ``metrics.json`` (for the unit and model configuration).
        command: Command recorded in the part.
    """
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


def read_member_part(
    parts_dir: str | os.PathLike[str] | None, fold: int, seed: int, recipe: dict[str, Any]
) -> dict[str, Any] | None:
    """A finished ensemble member's part, or ``None`` when there is none.

    Args:
        parts_dir: The parts folder (``None``: no parts).
        fold: Fold index.
        seed: The member's seed.
        recipe: :func:`member_recipe` of the member.

    Raises:
        ValueError: If the part was made with another recipe.
    """
    if parts_dir is None:
        return None
    where = f"fold {fold}, seed {int(seed)}"
    return read_checked_part(member_part_path(parts_dir, fold, seed), where, recipe)


def write_member_part(
    parts_dir: str | os.PathLike[str],
    fold: int,
    seed: int,
    recipe: dict[str, Any],
    metrics: dict[str, Any],
    predictions: pd.DataFrame,
    command: str | None,
) -> Path:
    """Write a finished member's part: its metrics and its predictions, without labels.

    Args:
        parts_dir: The parts folder.
        fold: Fold index.
        seed: The member's seed.
        recipe: :func:`member_recipe` of the member.
        metrics: The member's ``metrics.json``.
        predictions: Its ``predictions.csv`` rows of :data:`PREDICTED_PARTS`
            (columns ``id``, ``part``, the target, ``prediction``).
        command: Command recorded in the part.

    Returns:
        The part's path.
    """
    stored = {}
    for name in PREDICTED_PARTS:
        rows = predictions[predictions["part"] == name]
        ids = rows["id"].astype(str).tolist()
        stored[name] = {
            "n": len(ids),
            "ids_sha256": ids_digest(ids),
            "prediction": rows["prediction"].astype(float).tolist(),
        }
    part = {
        "recipe": recipe,
        "fold": fold,
        "seed": int(seed),
        "metrics": metrics,
        "predictions": stored,
        **run_info(command),
    }
    path = member_part_path(parts_dir, fold, seed)
    write_json(path, part)
    return path


def split_labels(
    prepared_dir: str | os.PathLike[str], subset: str, split: str, target: str
) -> dict[str, list[tuple[str, float]]]:
    """``(id, label)`` of the graphs of each of :data:`PREDICTED_PARTS` (no graph objects built).

    The ids are those a run trained on the split predicts, in its order
    (:func:`sagatsr.train.data.labelled_ids`).
    """
    prepared = PreparedDataset.load(prepared_dir)
    saved = saved_split(prepared, subset, split)
    return {
        name: labelled_ids(prepared, getattr(saved, name), target)[0] for name in PREDICTED_PARTS
    }


def member_predictions(
    part: dict[str, Any], labels: dict[str, list[tuple[str, float]]], target: str, where: str
) -> pd.DataFrame:
    """A member part's predictions with the prepared split's ids and labels.

    Args:
        part: A member part (:func:`read_member_part`).
        labels: :func:`split_labels` of the split.
        target: Target name (the column of the labels).
        where: The part's file, for error messages.

    Returns:
        Columns ``id``, ``part``, ``target``, ``prediction``: the rows of
        :data:`PREDICTED_PARTS`, as in the member's ``predictions.csv``.

    Raises:
        ValueError: If the split's ids of a part differ from the member's (another
            version of the prepared dataset).
    """
    frames = []
    for name in PREDICTED_PARTS:
        stored = part["predictions"][name]
        ids = [str(graph_id) for graph_id, _ in labels[name]]
        if len(ids) != stored["n"] or ids_digest(ids) != stored["ids_sha256"]:
            raise ValueError(
                f"{where}: its {name} predictions are for other structures than the prepared "
                f"split's {len(ids)} (another version of the prepared dataset?)"
            )
        frames.append(
            pd.DataFrame(
                {
                    "id": ids,
                    "part": name,
                    # As a run's graphs hold the labels (float32), and its predictions.csv.
                    target: np.float32([value for _, value in labels[name]]).astype(np.float64),
                    "prediction": stored["prediction"],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def ids_digest(ids: Sequence[str]) -> str:
    """SHA-256 (hex) of the ids joined by newlines: checks an id list without storing it."""
    return hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()


def read_checked_part(path: Path, where: str, recipe: dict[str, Any]) -> dict[str, Any] | None:
    """The part at ``path``, ``None`` when there is none.

    Args:
        path: A part file.
        where: What the part is, for the message (``"fold 2"``, ``"run x"``).
        recipe: The recipe the part must have been made with.

    Raises:
        ValueError: If it was made with another recipe (names the settings that differ).
    """
    if not path.is_file():
        return None
    part = json.loads(path.read_text(encoding="utf-8"))
    saved = part.get("recipe", {})
    if saved != recipe:
        now, before = _flatten(recipe), _flatten(saved)
        changed = sorted(
            key for key in now.keys() | before.keys() if now.get(key) != before.get(key)
        )
        raise ValueError(
            f"{path}: {where} was run with another recipe ({', '.join(changed)}); "
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
