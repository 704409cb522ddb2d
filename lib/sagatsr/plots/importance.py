"""Figures of importance analyses (seaborn / matplotlib); each function returns its figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from sagatsr.interpret.importance import mean_ic_series, top_features
from sagatsr.interpret.permutation import permutation_series
from sagatsr.sr.units import unit_label


def _display_name(aggregated: pd.DataFrame, feature: str) -> str:
    """``label [unit]`` when the table has a label for the feature, else the name."""
    if "label" not in aggregated.columns:
        return feature
    row = aggregated.loc[aggregated["feature"] == feature].iloc[0]
    label = str(row["label"]) or feature
    return unit_label(label, str(row.get("unit", "")))


def plot_ic_heatmap(matrix: pd.DataFrame, top: int = 20) -> Figure:
    """Heatmap of mean ICs of several runs (features x runs), like the paper's Fig. 3 a-c.

    Args:
        matrix: :func:`~sagatsr.interpret.importance.importance_matrix` output.
        top: Rows shown: the features with the largest mean over runs.

    Returns:
        The figure.
    """
    import seaborn as sns

    shown = matrix.loc[matrix.mean(axis=1).sort_values(ascending=False).index[:top]]
    height = 0.3 * len(shown) + 1.5
    figure, ax = plt.subplots(figsize=(1.2 * max(len(shown.columns), 2) + 3.5, height))
    sns.heatmap(
        shown,
        ax=ax,
        cmap="viridis",
        annot=len(shown.columns) <= 8,
        fmt=".3f",
        cbar_kws={"label": "mean importance coefficient"},
    )
    ax.set_xlabel("run")
    ax.set_ylabel("feature")
    figure.tight_layout()
    return figure


def plot_top_features(aggregated: pd.DataFrame, k: int = 15) -> Figure:
    """Horizontal bars of the ``k`` largest mean ICs, with their spread over items.

    Args:
        aggregated: :func:`~sagatsr.interpret.importance.aggregate_global` or
            ``aggregate_node`` output.
        k: Bars shown.

    Returns:
        The figure.
    """
    names = top_features(aggregated, k)
    rows = aggregated.set_index("feature").loc[names]
    figure, ax = plt.subplots(figsize=(7.0, 0.35 * len(names) + 1.2))
    positions = np.arange(len(names))[::-1]
    error = rows["std_ic"] if "std_ic" in rows.columns else None
    ax.barh(positions, rows["mean_ic"], xerr=error, color="#4c72b0", capsize=2)
    ax.set_yticks(positions, [_display_name(aggregated, n) for n in names], fontsize=8)
    ax.set_xlabel("mean importance coefficient")
    figure.tight_layout()
    return figure


def plot_stability(pairs: pd.DataFrame) -> Figure:
    """Spearman correlation and top-k overlap of every pair of runs.

    Args:
        pairs: :func:`~sagatsr.interpret.stability.rank_stability` output.

    Returns:
        The figure: one point per pair, Spearman on x, overlap on y.
    """
    figure, ax = plt.subplots(figsize=(4.5, 4.0))
    ax.scatter(pairs["spearman"], pairs["top_k_overlap"], color="#4c72b0")
    for row in pairs.itertuples(index=False):
        ax.annotate(f"{row.a}/{row.b}", (row.spearman, row.top_k_overlap), fontsize=7)
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("Spearman correlation of ICs")
    ax.set_ylabel("top-k overlap")
    figure.tight_layout()
    return figure


def plot_ic_vs_permutation(
    aggregated: pd.DataFrame | pd.Series, permutation: pd.DataFrame, annotate: int = 5
) -> Figure:
    """Mean IC against permutation MAE increase, one point per feature.

    Args:
        aggregated: Aggregated ICs (or mean ICs indexed by feature).
        permutation: :func:`~sagatsr.interpret.permutation.permutation_importance` output.
        annotate: Name the features with the largest MAE increase.

    Returns:
        The figure.
    """
    joined = pd.concat(
        {"ic": mean_ic_series(aggregated), "moved": permutation_series(permutation)},
        axis=1,
        join="inner",
    )
    figure, ax = plt.subplots(figsize=(5.0, 4.2))
    ax.scatter(joined["ic"], joined["moved"], color="#4c72b0", s=14)
    for name, row in joined.sort_values("moved", ascending=False).head(annotate).iterrows():
        ax.annotate(str(name), (row["ic"], row["moved"]), fontsize=7)
    ax.set_xlabel("mean importance coefficient")
    ax.set_ylabel("MAE increase when permuted (target unit)")
    figure.tight_layout()
    return figure
