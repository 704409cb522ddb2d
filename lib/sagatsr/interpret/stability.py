"""How stable feature rankings are across training seeds or cross-validation folds.

A *ranking* is a Series of importance scores indexed by feature name (larger =
more important), e.g. the mean global ICs of one run. Two rankings are
compared with the Spearman correlation over their shared features and with the
overlap of their top-``k`` features.
"""

from __future__ import annotations

import itertools
import json
import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
from scipy import stats

from sagatsr.interpret.importance import (
    Level,
    aggregate_global,
    aggregate_node,
    importance_coefficients,
    mean_ic_series,
    node_feature_columns,
)
from sagatsr.model.network import SAGAT
from sagatsr.train.config import TrainConfig
from sagatsr.train.data import LabelledGraphs
from sagatsr.train.run import Run

PAIR_COLUMNS: tuple[str, ...] = ("a", "b", "n_shared", "spearman", "top_k_overlap")


def top_k(ranking: pd.Series, k: int) -> list[str]:
    """The ``k`` features with the largest scores (ties by index order; ``nan`` last)."""
    ordered = ranking.sort_values(ascending=False, kind="stable", na_position="last")
    return [str(name) for name in ordered.index[:k]]


def ranking_agreement(a: pd.Series, b: pd.Series, k: int = 10) -> dict[str, float]:
    """Agreement of two rankings.

    Args:
        a: Scores indexed by feature (larger = more important).
        b: Scores indexed by feature.
        k: Size of the top lists; when a ranking has fewer than ``k``
            features, ``k`` is reduced to the shorter length.

    Returns:
        ``{"n_shared", "spearman", "top_k_overlap", "k"}``: the number of
        features in both, the Spearman correlation of the scores over those
        features (``nan`` with fewer than 2 shared features or a constant
        ranking), and ``|top_k(a) & top_k(b)| / k``.

    Raises:
        ValueError: If ``k < 1``.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    shared = a.index.intersection(b.index)
    spearman = float("nan")
    if len(shared) >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # constant input: the result is nan
            result = stats.spearmanr(
                a.loc[shared].to_numpy(dtype=float), b.loc[shared].to_numpy(dtype=float)
            )
        spearman = float(result.statistic)
    k_eff = min(k, len(a), len(b))
    overlap = len(set(top_k(a, k_eff)) & set(top_k(b, k_eff))) / k_eff if k_eff else float("nan")
    return {"n_shared": len(shared), "spearman": spearman, "top_k_overlap": overlap, "k": k_eff}


def rank_stability(rankings: Mapping[str, pd.Series], k: int = 10) -> pd.DataFrame:
    """Pairwise agreement of several rankings (seeds, folds, properties...).

    Args:
        rankings: ``{run name: scores indexed by feature}``, e.g. the output
            of :func:`seed_runs` or :func:`fold_runs`.
        k: Size of the top lists (see :func:`ranking_agreement`).

    Returns:
        One row per unordered pair of runs, columns ``a``, ``b``,
        ``n_shared``, ``spearman`` and ``top_k_overlap`` (empty with fewer
        than two runs).
    """
    rows = []
    for a, b in itertools.combinations(rankings, 2):
        agreement = ranking_agreement(rankings[a], rankings[b], k)
        rows.append(
            {
                "a": a,
                "b": b,
                "n_shared": agreement["n_shared"],
                "spearman": agreement["spearman"],
                "top_k_overlap": agreement["top_k_overlap"],
            }
        )
    return pd.DataFrame(rows, columns=list(PAIR_COLUMNS))


def stability_summary(pairs: pd.DataFrame) -> dict[str, float]:
    """Summary of :func:`rank_stability` output.

    Args:
        pairs: The pairwise table.

    Returns:
        ``{"n_pairs", "mean_spearman", "min_spearman", "mean_top_k_overlap",
        "min_top_k_overlap"}`` (``nan`` statistics for an empty table;
        ``nan`` correlations are skipped).
    """
    spearman = pairs["spearman"].astype(float)
    overlap = pairs["top_k_overlap"].astype(float)
    return {
        "n_pairs": len(pairs),
        "mean_spearman": float(spearman.mean()) if len(pairs) else float("nan"),
        "min_spearman": float(spearman.min()) if len(pairs) else float("nan"),
        "mean_top_k_overlap": float(overlap.mean()) if len(pairs) else float("nan"),
        "min_top_k_overlap": float(overlap.min()) if len(pairs) else float("nan"),
    }


def mean_ic_of(
    model: SAGAT, graphs: LabelledGraphs, *, level: Level = "global", batch_size: int = 256
) -> pd.Series:
    """Mean IC per feature of one model on some graphs.

    Args:
        model: A network with ``embedding="sae"``.
        graphs: The structures to average over.
        level: ``"global"`` (mean over structures) or ``"node"`` (mean over atoms).
        batch_size: Graphs per forward pass.

    Returns:
        Mean ICs indexed by feature name, in catalog order.
    """
    tables = importance_coefficients(model, graphs, batch_size=batch_size)
    if level == "global":
        aggregated = aggregate_global(tables.global_ic)
    elif level == "node":
        aggregated = aggregate_node(tables.node_ic, by_role=False)
    else:
        raise ValueError(f"level must be 'global' or 'node', got {level!r}")
    names = (
        [str(c) for c in tables.global_ic.columns]
        if level == "global"
        else node_feature_columns(tables.node_ic)
    )
    return mean_ic_series(aggregated).reindex(names)


def load_run_model(folder: str | os.PathLike[str]) -> SAGAT:
    """Load the model of a run folder (``<run>/model``) or a model folder itself.

    Args:
        folder: A run folder of :func:`sagatsr.train.pipeline.train_on_split`
            or a folder written by :func:`sagatsr.model.save_model`.

    Returns:
        The model, eval mode, on CPU.
    """
    from sagatsr.model.persistence import load_model

    run = Run(folder)
    return run.load_model() if run.has_model() else load_model(folder)


def _comparable(values: Any) -> Any:
    return json.loads(json.dumps(values))


def _check_finished_run(folder: Path, expected: dict[str, Any]) -> None:
    stored = Run(folder).metrics()
    differing = sorted(k for k, v in expected.items() if _comparable(stored.get(k)) != v)
    if differing:
        raise ValueError(
            f"{folder} holds a finished run with different {', '.join(differing)}; "
            "use another out_root or delete the folder to retrain"
        )


def seed_runs(
    prepared_dir: str | os.PathLike[str],
    *,
    subset: str,
    split: str,
    target: str,
    seeds: Iterable[int],
    out_root: str | os.PathLike[str],
    model_settings: dict[str, Any] | None = None,
    train_config: TrainConfig | None = None,
    part: str = "test",
    level: Level = "global",
    batch_size: int = 256,
) -> dict[str, pd.Series]:
    """Train one model per seed on the same split and return each run's mean ICs.

    Each seed trains with :func:`sagatsr.train.pipeline.train_on_split` into
    ``out_root/seed<k>`` with ``train_config`` whose ``seed`` is replaced by
    ``k``. Runs are resumable: a folder with ``metrics.json`` is a finished
    run and is reused (after checking that its subset, split, target, model
    and training settings are the ones asked for), any other folder continues
    from its last checkpoint.

    Args:
        prepared_dir: A prepared dataset folder.
        subset: Subset name.
        split: Split name.
        target: Target name.
        seeds: Training seeds.
        out_root: Parent of the run folders.
        model_settings: :class:`~sagatsr.model.ModelConfig` overrides
            (``embedding`` must stay ``"sae"``).
        train_config: Optimisation settings (its seed is ignored).
        part: Part of the split whose ICs are averaged (``"train"``,
            ``"val"`` or ``"test"``).
        level: ``"global"`` or ``"node"`` ICs.
        batch_size: Graphs per forward pass when computing ICs.

    Returns:
        ``{str(seed): mean ICs indexed by feature}``, ready for
        :func:`rank_stability`.

    Raises:
        ValueError: For an unknown part, a non-SAE embedding, or a finished
            run folder trained with other settings.
    """
    from sagatsr.prepare import PreparedDataset
    from sagatsr.train.data import load_split_parts
    from sagatsr.train.pipeline import model_config_for, train_on_split

    if part not in ("train", "val", "test"):
        raise ValueError(f"part must be 'train', 'val' or 'test', got {part!r}")
    settings = dict(model_settings or {})
    if settings.get("embedding", "sae") != "sae":
        raise ValueError("seed_runs needs embedding='sae' (the other embeddings have no ICs)")
    prepared = PreparedDataset.load(prepared_dir)
    model_config = model_config_for(prepared, **settings).to_dict()
    stored_config = {
        k: v
        for k, v in model_config.items()
        if k not in ("node_feature_names", "global_feature_names")
    }
    base = train_config or TrainConfig()
    _, parts = load_split_parts(prepared, subset, split, target)
    graphs = parts[part]
    out: dict[str, pd.Series] = {}
    for seed in seeds:
        config = replace(base, seed=int(seed))
        folder = Path(out_root) / f"seed{int(seed)}"
        if Run(folder).is_finished():
            expected = {
                "subset": subset,
                "split": split,
                "target": target,
                "model_config": _comparable(stored_config),
                "train_config": _comparable(config.to_dict()),
            }
            _check_finished_run(folder, expected)
        else:
            train_on_split(
                prepared_dir,
                subset=subset,
                split=split,
                target=target,
                out_dir=folder,
                model_settings=settings,
                train_config=config,
                resume=True,
            )
        model = load_run_model(folder)
        series = mean_ic_of(model, graphs, level=level, batch_size=batch_size)
        out[str(int(seed))] = series.rename(f"seed{int(seed)}")
    return out


def fold_runs(
    runs: Mapping[str, tuple[SAGAT | str | os.PathLike[str], LabelledGraphs]],
    *,
    level: Level = "global",
    batch_size: int = 256,
) -> dict[str, pd.Series]:
    """Mean ICs of models that were trained on different folds (or any other runs).

    Args:
        runs: ``{name: (model, graphs)}``: the model is a :class:`SAGAT`, a
            run folder or a model folder (see :func:`load_run_model`); the
            graphs are those to average over, typically the fold's test part
            from :func:`sagatsr.train.data.load_split_parts`.
        level: ``"global"`` or ``"node"`` ICs.
        batch_size: Graphs per forward pass.

    Returns:
        ``{name: mean ICs indexed by feature}``, ready for :func:`rank_stability`.

    Raises:
        ValueError: If a model has no importance coefficients.
    """
    out: dict[str, pd.Series] = {}
    for name, (model, graphs) in runs.items():
        loaded = model if isinstance(model, SAGAT) else load_run_model(model)
        out[name] = mean_ic_of(loaded, graphs, level=level, batch_size=batch_size).rename(name)
    return out
