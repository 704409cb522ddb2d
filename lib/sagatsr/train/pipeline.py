"""Train on a prepared dataset's saved split and write predictions and metrics.

``train_on_split`` is what ``sagatsr train`` and notebook 02 call; it adds the
run's predictions, excluded ids and metrics to its :class:`~sagatsr.train.run.Run`
folder.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import pandas as pd

from sagatsr.data.splits import PARTS
from sagatsr.features import NODE_FEATURES
from sagatsr.graphs.domain import TrainingDomain
from sagatsr.io_utils import atomic_open, write_json
from sagatsr.model import ModelConfig
from sagatsr.prepare import PreparedDataset
from sagatsr.provenance import run_info
from sagatsr.sr.units import format_quantity
from sagatsr.train.config import TrainConfig
from sagatsr.train.data import LabelledGraphs, load_split_parts, require_training_data
from sagatsr.train.ensemble import check_ensemble_seeds, train_ensemble
from sagatsr.train.fit_process import in_fit_process, run_in_own_process
from sagatsr.train.metrics import regression_metrics
from sagatsr.train.run import Run
from sagatsr.train.runner import (
    fit_model,
    predict_graphs,
    save_best_model,
    training_processes,
)


def model_config_for(prepared: PreparedDataset, **overrides: Any) -> ModelConfig:
    """A model configuration matching a prepared dataset's feature widths and graphs.

    Args:
        prepared: The prepared dataset.
        **overrides: Any :class:`ModelConfig` field (``hidden``, ``layers``,
            ``embedding``...). Unknown names are an error.

    Returns:
        The configuration; ``catalog_version`` is the dataset's featurizer key.

    Raises:
        ValueError: For unknown override names.
    """
    known = {f.name for f in fields(ModelConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown model settings: {', '.join(unknown)}")
    store = prepared.graphs()
    global_names = tuple(prepared.manifest["global_features"])
    node_names = tuple(spec.name for spec in NODE_FEATURES)
    if store.node_features.shape[1] != len(node_names):
        raise ValueError(
            f"{prepared.out_dir} was prepared with {store.node_features.shape[1]} node features, "
            f"this version has {len(node_names)}; prepare the dataset again"
        )
    values: dict[str, Any] = {
        "n_node_features": len(node_names),
        "n_global_features": len(global_names),
        "node_feature_names": node_names,
        "global_feature_names": global_names,
        **asdict(prepared.neighbors),
        "catalog_version": store.featurizer,
    }
    values.update(overrides)
    return ModelConfig(**values)


def _predictions_frame(
    parts: dict[str, LabelledGraphs], predictions: dict[str, Any], target: str
) -> pd.DataFrame:
    frames = [
        pd.DataFrame(
            {
                "id": graphs.ids,
                "part": part,
                target: graphs.targets,
                "prediction": predictions[part],
            }
        )
        for part, graphs in parts.items()
    ]
    return pd.concat(frames, ignore_index=True)


def training_domain(prepared: PreparedDataset, ids: Sequence[str]) -> TrainingDomain:
    """The :class:`~sagatsr.graphs.domain.TrainingDomain` of the graphs of ``ids``."""
    return TrainingDomain.of_graphs(prepared.graphs().graphs_of(ids))


def train_on_split(
    prepared_dir: str | os.PathLike[str],
    *,
    subset: str,
    split: str,
    target: str,
    out_dir: str | os.PathLike[str],
    model_settings: dict[str, Any] | None = None,
    train_config: TrainConfig | None = None,
    resume: bool = True,
    command: str | None = None,
    train_fraction: float = 1.0,
    refit: bool = False,
) -> dict[str, Any]:
    """Train one model on a saved split, evaluate it and write the run folder.

    Args:
        prepared_dir: A folder written by :func:`sagatsr.prepare.prepare_dataset`.
        subset: Subset name.
        split: Split name (e.g. ``"random"``, ``"matbench_fold0"``).
        target: Target name.
        out_dir: Run folder.
        model_settings: :class:`ModelConfig` overrides.
        train_config: Optimisation settings.
        resume: Continue an interrupted run from its last checkpoint.
        command: Command recorded in ``metrics.json``.
        train_fraction: Train on this share of the split's training part, a
            random sample drawn with the run's seed (for learning curves; the
            validation and test parts stay whole).
        refit: Train on the training and validation parts together for all of
            ``train_config.epochs`` and keep the last epoch's weights (the final
            model of a recipe chosen before, on all labelled data but the test
            part). The validation figures are then in-sample; ``metrics.json``
            says so (``"refit": true``).

    Returns:
        The content of ``metrics.json``.

    Raises:
        ValueError: If ``train_fraction`` is not in (0, 1], or for a refit with
            early stopping (``patience`` > 0: it would stop on in-sample figures).
        RuntimeError: With ``devices`` > 1, if training failed: such a training
            runs in a fresh Python process (:mod:`sagatsr.train.fit_process`), so
            that one command can train several data-parallel models.
    """
    # Every argument as given, for the fresh process below (taken before any local exists).
    arguments = dict(locals())
    train_config = train_config or TrainConfig()
    if not 0.0 < train_fraction <= 1.0:
        raise ValueError(f"train_fraction must be in (0, 1], got {train_fraction}")
    if refit and train_config.patience:
        raise ValueError(
            "a refit trains on the validation part: it cannot stop early on it (set patience 0)"
        )
    if training_processes(train_config) > 1 and not in_fit_process():
        # One data-parallel fit per process (see sagatsr.train.fit_process).
        arguments.update(
            prepared_dir=str(Path(prepared_dir).resolve()),
            out_dir=str(Path(out_dir).resolve()),
            train_config=train_config,
        )
        run_in_own_process("train_on_split", arguments, out_dir=out_dir)
        return Run(out_dir).metrics()
    prepared = PreparedDataset.load(prepared_dir)
    require_training_data(prepared, subset, split, target)
    _, parts = load_split_parts(prepared, subset, split, target)
    if train_fraction < 1.0:
        kept = max(1, round(train_fraction * len(parts["train"].graphs)))
        parts["train"] = parts["train"].sample(kept, train_config.seed)
    fitted = parts["train"] + parts["val"] if refit else parts["train"]
    model_config = model_config_for(prepared, **(model_settings or {}))
    result = fit_model(
        fitted, parts["val"], model_config, train_config, out_dir, resume=resume, keep_last=refit
    )
    unit = next(t["unit"] for t in prepared.manifest["targets"] if t["name"] == target)
    save_best_model(
        result,
        out_dir,
        metadata={
            "dataset": prepared.name,
            "subset": subset,
            "split": split,
            "target": target,
            "unit": unit,
            "train_config": train_config.to_dict(),
            "training_domain": training_domain(prepared, fitted.ids).to_dict(),
            # Relative, so that a clone or a copy of the project finds it as well.
            "prepared_dir": os.path.relpath(prepared.out_dir.resolve(), Path(out_dir).resolve()),
        },
    )
    predictions = {part: predict_graphs(result.model, parts[part]) for part in PARTS}
    run = Run(out_dir)
    with atomic_open(run.predictions_path, "w", newline="") as handle:
        _predictions_frame(parts, predictions, target).to_csv(handle, index=False)
    excluded = [
        {"part": part, "id": graph_id, "reason": reason}
        for part in PARTS
        for graph_id, reason in parts[part].excluded
    ]
    with atomic_open(run.excluded_path, "w", newline="") as handle:
        pd.DataFrame(excluded, columns=["part", "id", "reason"]).to_csv(handle, index=False)
    scores = {
        part: regression_metrics(parts[part].targets, predictions[part])
        for part in PARTS
        if parts[part].graphs
    }
    test = scores.get("test", {})
    test_mae, test_r2 = test.get("mae", float("nan")), test.get("r2", float("nan"))
    metrics = {
        "summary": (
            f"{prepared.name}/{subset} {target}: test MAE {format_quantity(test_mae, unit)}"
            f" (R2 {test_r2:.3f}, {result.epochs_run} epochs"
            + ("; refit on train + val, last epoch" if refit else "")
            + ")"
        ),
        "dataset": prepared.name,
        "subset": subset,
        "split": split,
        "target": target,
        "unit": unit,
        "metrics": scores,
        "n_excluded": {part: len(parts[part].excluded) for part in PARTS},
        "train_fraction": train_fraction,
        "refit": refit,
        "best_epoch": result.best_epoch,
        "best_val_mae": result.best_val_mae,
        "epochs_run": result.epochs_run,
        "train_seconds": round(result.total_seconds, 2),
        "train_seconds_this_call": round(result.seconds, 2),
        "train_cpu_seconds": round(result.total_cpu_seconds, 2),
        "device": result.device,
        "torch_threads": result.threads,
        "model_config": {
            k: v
            for k, v in model_config.to_dict().items()
            if k not in ("node_feature_names", "global_feature_names")
        },
        "train_config": train_config.to_dict(),
        **run_info(command),
    }
    write_json(run.metrics_path, metrics)
    return metrics


def train_targets(
    prepared_dir: str | os.PathLike[str],
    *,
    subset: str,
    split: str,
    out_root: str | os.PathLike[str],
    targets: Sequence[str] | None = None,
    seeds: Sequence[int] | None = None,
    **kwargs: Any,
) -> dict[str, dict[str, Any]]:
    """Train one model, or one ensemble, per target (every target when ``targets`` is ``None``).

    Args:
        prepared_dir: Prepared dataset folder.
        subset: Subset name.
        split: Split name.
        out_root: Runs (or ensemble folders) go to ``out_root/<target>``.
        targets: Target names.
        seeds: ``None``: one run per target (:func:`train_on_split`). Two or more
            distinct seeds: a calibrated ensemble per target, one member per seed
            (:func:`~sagatsr.train.ensemble.train_ensemble`); its validation part
            then needs at least two labelled structures.
        **kwargs: Passed to :func:`train_on_split`, or with ``seeds`` to
            :func:`~sagatsr.train.ensemble.train_ensemble` (``model_settings``,
            ``train_config`` and ``command`` only).

    Returns:
        ``{target: metrics}``, or ``{target: ensemble result}`` (``ensemble.json``)
        with ``seeds``.

    Raises:
        ValueError: Before any training, if a target has no labelled structure in
            the split's training or validation part, or ``seeds`` are fewer than
            two or repeated.
        TypeError: If ``seeds`` come with a keyword that ensembles do not take
            (``refit``, ``train_fraction``, ...).
    """
    if seeds is not None:
        check_ensemble_seeds(seeds)
        unsupported = sorted(set(kwargs) - {"model_settings", "train_config", "command"})
        if unsupported:
            raise TypeError(f"an ensemble per target takes no {', '.join(unsupported)}")
    prepared = PreparedDataset.load(prepared_dir)
    names = list(targets) if targets else [t["name"] for t in prepared.manifest["targets"]]
    for name in names:  # all of them before the first is trained
        require_training_data(
            prepared, subset, split, name, min_validation=1 if seeds is None else 2
        )
    common = {"subset": subset, "split": split}
    if seeds is None:
        return {
            name: train_on_split(
                prepared_dir, **common, target=name, out_dir=Path(out_root) / name, **kwargs
            )
            for name in names
        }
    return {
        name: train_ensemble(
            prepared_dir,
            **common,
            target=name,
            out_dir=Path(out_root) / name,
            seeds=seeds,
            **kwargs,
        )
        for name in names
    }
