"""Figures of graph attention weights (:mod:`sagatsr.interpret.attention`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns


def plot_attention_shares(summary: pd.DataFrame) -> plt.Figure:
    """Share of attention per role pair and shell (rows) for every layer and head (columns).

    Args:
        summary: :func:`~sagatsr.interpret.attention.aggregate_attention` output
            grouped by ``("role_pair", "shell")``.
    """
    table = summary.assign(
        edge=summary["role_pair"] + " shell " + summary["shell"].astype(str),
        head=" L" + summary["layer"].astype(str) + " h" + summary["head"].astype(str),
    ).pivot_table(index="edge", columns="head", values="share", aggfunc="sum", fill_value=0.0)
    table = table.loc[table.mean(axis=1).sort_values(ascending=False).index]
    figure, ax = plt.subplots(figsize=(1.0 + 0.5 * table.shape[1], 0.35 * table.shape[0] + 1.5))
    sns.heatmap(
        table, annot=True, fmt=".2f", cmap="viridis", cbar=False, ax=ax, annot_kws={"size": 7}
    )
    ax.set_xlabel("layer and head")
    ax.set_ylabel("centre-neighbour roles, neighbour shell")
    ax.set_title("Share of attention over the dataset", fontsize=10)
    figure.tight_layout()
    return figure


def plot_structure_attention(
    weights: pd.DataFrame, structure_id: str, layer: int = 0
) -> plt.Figure:
    """Attention of each atom of one structure to its neighbours (mean over heads), one layer.

    Args:
        weights: :func:`~sagatsr.interpret.attention.attention_weights` output.
        structure_id: The structure.
        layer: The layer.
    """
    rows = weights[(weights["id"] == structure_id) & (weights["layer"] == layer)]
    rows = rows.assign(
        centre_site=rows["centre_role"] + rows["centre"].astype(str),
        neighbour_site=rows["neighbour_role"] + rows["neighbour"].astype(str),
    )
    table = (
        rows.pivot_table(
            index="centre_site",
            columns="neighbour_site",
            values="weight",
            aggfunc="sum",
            fill_value=0.0,
        )
        / rows["head"].nunique()
    )
    figure, ax = plt.subplots(figsize=(0.6 * table.shape[1] + 2, 0.5 * table.shape[0] + 1.5))
    sns.heatmap(
        table, annot=True, fmt=".2f", cmap="magma", cbar=False, ax=ax, annot_kws={"size": 8}
    )
    ax.set_xlabel("neighbour (all images summed)")
    ax.set_ylabel("centre")
    ax.set_title(f"{structure_id}: attention in layer {layer} (mean over heads)", fontsize=10)
    figure.tight_layout()
    return figure
