"""Out-of-fold GNN predictions (Ep) for symbolic-regression distillation.

Symbolic regression must never fit a prediction the network memorised. For a
saved split (train / val / test):

* the *main* model is trained on the training part (validation part for early
  stopping); it predicts the validation and test parts, which it never saw;
* the training part is cut into ``k`` seeded folds; for each fold a model is
  trained on the other folds (same validation part) and predicts the held-out
  fold, so every training row gets a prediction from a model that did not
  train on it.

Run folders go to ``out_root/main`` and ``out_root/fold<j>`` (resumable); each
fold folder lists the ids its model trained on in ``train_ids.txt``. With
``devices`` > 1 each of these data-parallel fits runs in its own process
(:func:`fit_on_ids` through :mod:`sagatsr.train.fit_process`).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sagatsr.io_utils import atomic_open
from sagatsr.model import SAGAT
from sagatsr.prepare import PreparedDataset
from sagatsr.train.config import TrainConfig
from sagatsr.train.data import LabelledGraphs, load_split_parts
from sagatsr.train.fit_process import in_fit_process, run_in_own_process
from sagatsr.train.pipeline import model_config_for
from sagatsr.train.runner import best_model, fit_model, predict_graphs, training_processes

OOF_FILE = "oof_predictions.csv"


def _subset_graphs(graphs: LabelledGraphs, keep: np.ndarray) -> LabelledGraphs:
    return LabelledGraphs(
        ids=[graphs.ids[i] for i in np.flatnonzero(keep)],
        graphs=[graphs.graphs[i] for i in np.flatnonzero(keep)],
    )


def _keep_ids(graphs: LabelledGraphs, ids: list[str]) -> LabelledGraphs:
    wanted = set(ids)
    missing = wanted - set(graphs.ids)
    if missing:
        raise ValueError(f"{len(missing)} id(s) are not in the training part, e.g. {min(missing)}")
    return _subset_graphs(graphs, np.array([graph_id in wanted for graph_id in graphs.ids]))


def fit_on_ids(
    prepared_dir: str | os.PathLike[str],
    *,
    subset: str,
    split: str,
    target: str,
    train_ids: list[str],
    out_dir: str | os.PathLike[str],
    model_settings: dict[str, Any],
    train_config: TrainConfig,
    check_recipe: bool,
) -> SAGAT:
    """Fit a model on the given rows of a split's training part.

    Its validation part serves for early stopping. The out-of-fold models; the
    fit process runs this when they are data-parallel.

    Args:
        prepared_dir: Prepared dataset folder.
        subset: Subset name.
        split: Split name.
        target: Target name.
        train_ids: Ids of the training part to train on.
        out_dir: Run folder (resumable).
        model_settings: Model overrides.
        train_config: Optimisation settings.
        check_recipe: See :func:`sagatsr.train.runner.fit_model`.

    Returns:
        The best model.

    Raises:
        ValueError: If an id is not in the split's training part.
    """
    prepared = PreparedDataset.load(prepared_dir)
    _, parts = load_split_parts(prepared, subset, split, target)
    return fit_model(
        _keep_ids(parts["train"], train_ids),
        parts["val"],
        model_config_for(prepared, **model_settings),
        train_config,
        out_dir,
        check_recipe=check_recipe,
    ).model


def out_of_fold_predictions(
    prepared_dir: str | os.PathLike[str],
    *,
    subset: str,
    split: str,
    target: str,
    out_root: str | os.PathLike[str],
    k: int = 5,
    model_settings: dict[str, Any] | None = None,
    train_config: TrainConfig | None = None,
    main_model: SAGAT | None = None,
) -> pd.DataFrame:
    """Ep for every row of a split, out-of-fold for the training part.

    Args:
        prepared_dir: Prepared dataset folder.
        subset: Subset name.
        split: Split name.
        target: Target name.
        out_root: Folder of the ``k + 1`` run folders and ``oof_predictions.csv``.
        k: Folds over the training part (>= 2).
        model_settings: Model overrides.
        train_config: Optimisation settings (its seed also seeds the folds).
        main_model: An already trained main model (trained on this split's
            training part); when given it is used instead of training one.

    Returns:
        DataFrame with columns ``id``, ``part`` (train / val / test), the
        target, ``ep`` (the GNN prediction, target unit) and ``model`` (which
        run predicted the row); also written to ``out_root/oof_predictions.csv``.

    Raises:
        ValueError: If ``k < 2`` or the training part has fewer than ``k`` rows.
    """
    if k < 2:
        raise ValueError(f"k must be >= 2, got {k}")
    train_config = train_config or TrainConfig()
    prepared = PreparedDataset.load(prepared_dir)
    _, parts = load_split_parts(prepared, subset, split, target)
    train, val, test = parts["train"], parts["val"], parts["test"]
    if len(train.graphs) < k:
        raise ValueError(f"the training part has {len(train.graphs)} rows, fewer than k={k}")
    config = model_config_for(prepared, **(model_settings or {}))
    root = Path(out_root)

    def fit(graphs: LabelledGraphs, fit_config: TrainConfig, folder: Path, check: bool) -> SAGAT:
        if training_processes(fit_config) > 1 and not in_fit_process():
            # One data-parallel fit per process (see sagatsr.train.fit_process).
            arguments = {
                "prepared_dir": str(prepared.out_dir.resolve()),
                "subset": subset,
                "split": split,
                "target": target,
                "train_ids": graphs.ids,
                "out_dir": str(folder.resolve()),
                "model_settings": model_settings or {},
                "train_config": fit_config,
                "check_recipe": check,
            }
            run_in_own_process("fit_on_ids", arguments, out_dir=folder)
            return best_model(folder)
        return fit_model(graphs, val, config, fit_config, folder, check_recipe=check).model

    frames = []
    if main_model is None:
        main_model = fit(train, train_config, root / "main", True)
    for part, graphs in (("val", val), ("test", test)):
        frames.append(
            pd.DataFrame(
                {
                    "id": graphs.ids,
                    "part": part,
                    target: graphs.targets,
                    "ep": predict_graphs(main_model, graphs),
                    "model": "main",
                }
            )
        )
    fold_of = np.random.default_rng(train_config.seed).permutation(len(train.graphs)) % k
    for fold in range(k):
        held_out = fold_of == fold
        fold_config = replace(train_config, seed=train_config.seed + fold + 1)
        fold_train = _subset_graphs(train, ~held_out)
        # the fold models repeat the run's recipe on parts of its data: its own
        # training already warned about that recipe
        fold_model = fit(fold_train, fold_config, root / f"fold{fold}", False)
        with atomic_open(root / f"fold{fold}" / "train_ids.txt", "w") as handle:
            handle.writelines(f"{i}\n" for i in fold_train.ids)
        graphs = _subset_graphs(train, held_out)
        frames.append(
            pd.DataFrame(
                {
                    "id": graphs.ids,
                    "part": "train",
                    target: graphs.targets,
                    "ep": predict_graphs(fold_model, graphs),
                    "model": f"fold{fold}",
                }
            )
        )
    order = {graph_id: i for i, graph_id in enumerate(train.ids + val.ids + test.ids)}
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values("id", key=lambda ids: ids.map(order)).reset_index(drop=True)
    with atomic_open(root / OOF_FILE, "w", newline="") as handle:
        out.to_csv(handle, index=False)
    return out
