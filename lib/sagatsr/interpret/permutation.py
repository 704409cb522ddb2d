"""Permutation importance: how much the error grows when one input feature is shuffled.

This is the model-agnostic check of what importance coefficients claim: a
feature with a large IC should also move the prediction. One raw feature column
is permuted across structures (global features) or across atoms (node
features), the model predicts again, and the increase of the mean absolute
error over the unshuffled baseline is recorded, in the target's unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch_geometric.data import Batch

from sagatsr.interpret.importance import Level, feature_names, mean_ic_series
from sagatsr.interpret.stability import ranking_agreement, top_k
from sagatsr.model.network import SAGAT
from sagatsr.train.data import LabelledGraphs

PERMUTATION_COLUMNS: tuple[str, ...] = (
    "feature",
    "mae_increase",
    "mae_increase_std",
    "baseline_mae",
    "rank",
)


class _Batches:
    """The graphs as a few PyG batches built once, with their raw features stacked.

    Attributes:
        chunks: Batches of at most ``batch_size`` graphs (own copies of the features).
        x: ``(n_atoms, F_node)`` raw node features of all graphs.
        u: ``(N, F_global)`` raw global features of all graphs.
    """

    def __init__(self, graphs: LabelledGraphs, batch_size: int, device: torch.device) -> None:
        items = graphs.graphs
        self.chunks = [
            Batch.from_data_list(items[start : start + batch_size]).to(device)
            for start in range(0, len(items), batch_size)
        ]
        # Clones: the permuted tensors never share memory with the caller's graphs.
        self.x = torch.cat([chunk.x for chunk in self.chunks]).clone()
        self.u = torch.cat([chunk.u for chunk in self.chunks]).clone()
        self._atoms = np.cumsum([0, *(int(chunk.x.shape[0]) for chunk in self.chunks)])
        self._graphs = np.cumsum([0, *(int(chunk.num_graphs) for chunk in self.chunks)])

    def predict(self, model: SAGAT, x: Tensor, u: Tensor) -> np.ndarray:
        """``(N,)`` predictions (target unit) for stacked raw features ``x`` and ``u``."""
        out = []
        for i, chunk in enumerate(self.chunks):
            chunk.x = x[self._atoms[i] : self._atoms[i + 1]]
            chunk.u = u[self._graphs[i] : self._graphs[i + 1]]
            out.append(model.predict(chunk)[:, 0].cpu())
        return torch.cat(out).numpy().astype(np.float64)


def _select(names: list[str], features: Sequence[str] | None) -> list[int]:
    if features is None:
        return list(range(len(names)))
    position = {name: i for i, name in enumerate(names)}
    unknown = [name for name in features if name not in position]
    if unknown:
        raise ValueError(f"unknown features for this level: {', '.join(unknown)}")
    return [position[name] for name in features]


def permutation_importance(
    model: SAGAT,
    graphs: LabelledGraphs,
    *,
    level: Level = "global",
    n_repeats: int = 3,
    seed: int = 0,
    features: Sequence[str] | None = None,
    batch_size: int = 256,
) -> pd.DataFrame:
    """Increase of the MAE when one raw input feature is permuted.

    The graphs are batched once; for each feature and repeat the column of
    the stacked raw features (``u`` ``(N, F_global)`` for ``"global"``, ``x``
    ``(n_atoms, F_node)`` for ``"node"``) is shuffled across rows and the
    model (eval mode) predicts again. The input graphs are never modified.

    Args:
        model: A trained network (any embedding; for ``"onehot"`` every
            increase is 0 because it sees no features).
        graphs: Structures with targets (``y``), in the target's unit.
        level: ``"global"`` or ``"node"`` features.
        n_repeats: Permutations per feature.
        seed: Seed of the permutations.
        features: Names of the features to permute (default: all of the level).
        batch_size: Graphs per forward pass.

    Returns:
        One row per feature, sorted by ``rank`` (1 = largest increase), with
        columns ``feature``, ``mae_increase`` (mean over repeats of permuted
        MAE minus baseline MAE, target unit), ``mae_increase_std``
        (population standard deviation over repeats), ``baseline_mae``
        (target unit) and ``rank``.

    Raises:
        ValueError: For an unknown level or feature, no graphs,
            ``n_repeats < 1``, or a model with several targets.
    """
    names = feature_names(model, level)
    columns = _select(names, features)
    if n_repeats < 1:
        raise ValueError(f"n_repeats must be >= 1, got {n_repeats}")
    if not graphs.graphs:
        raise ValueError("no graphs to evaluate")
    if model.config.n_targets != 1:
        raise ValueError("permutation_importance supports single-target models")
    targets = graphs.targets
    device = next(model.parameters()).device
    batches = _Batches(graphs, batch_size, device)
    baseline = float(np.mean(np.abs(batches.predict(model, batches.x, batches.u) - targets)))
    rng = np.random.default_rng(seed)
    source = batches.u if level == "global" else batches.x
    rows = []
    for column in columns:
        increases = []
        for _ in range(n_repeats):
            order = torch.from_numpy(rng.permutation(source.shape[0])).to(source.device)
            permuted = source.clone()
            permuted[:, column] = source[order, column]
            x, u = (batches.x, permuted) if level == "global" else (permuted, batches.u)
            mae = float(np.mean(np.abs(batches.predict(model, x, u) - targets)))
            increases.append(mae - baseline)
        rows.append(
            {
                "feature": names[column],
                "mae_increase": float(np.mean(increases)),
                "mae_increase_std": float(np.std(increases)),
                "baseline_mae": baseline,
            }
        )
    frame = pd.DataFrame(rows, columns=list(PERMUTATION_COLUMNS[:-1]))
    frame["rank"] = frame["mae_increase"].rank(ascending=False, method="first").astype(np.int64)
    return frame.sort_values("rank").reset_index(drop=True)


def permutation_series(permutation: pd.DataFrame) -> pd.Series:
    """``mae_increase`` of :func:`permutation_importance` output, indexed by feature."""
    return pd.Series(
        permutation["mae_increase"].to_numpy(dtype=np.float64),
        index=pd.Index(permutation["feature"].astype(str), name="feature"),
        name="mae_increase",
    )


def compare_with_ic(
    aggregated_ic: pd.DataFrame | pd.Series, permutation: pd.DataFrame, k: int = 10
) -> dict[str, Any]:
    """Whether the IC ranking agrees with the permutation-importance ranking.

    Args:
        aggregated_ic: :func:`~sagatsr.interpret.importance.aggregate_global`
            / ``aggregate_node`` output, or mean ICs indexed by feature.
        permutation: :func:`permutation_importance` output.
        k: Size of the top lists (reduced to the shorter ranking when needed).

    Returns:
        ``{"n_shared", "spearman", "top_k_overlap", "k", "top_ic",
        "top_permutation", "common"}``: the Spearman correlation of mean IC
        and MAE increase over the features in both, the share of the top-``k``
        features in common, both top-``k`` lists (most important first) and
        the features in both lists (in IC order).
    """
    ic = mean_ic_series(aggregated_ic)
    moved = permutation_series(permutation)
    agreement: dict[str, Any] = dict(ranking_agreement(ic, moved, k))
    top_ic = top_k(ic, agreement["k"])
    top_moved = top_k(moved, agreement["k"])
    agreement["top_ic"] = top_ic
    agreement["top_permutation"] = top_moved
    agreement["common"] = [name for name in top_ic if name in set(top_moved)]
    return agreement
