"""Figures of the IC faithfulness benchmark (``ic_faithfulness.json``)."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns


def _methods(result: dict[str, Any]) -> list[str]:
    """The ranking methods of a result, in its order (IC first)."""
    for entry in result["datasets"].values():
        for row in entry["planted"]["targets"]:
            return list(row["recall"])
    return []


def recall_frame(result: dict[str, Any], k: str = "5") -> pd.DataFrame:
    """Recall@k per dataset, planted target, method and grouping, averaged over seeds and noise."""
    rows = []
    for dataset, entry in result["datasets"].items():
        for row in entry["planted"]["targets"]:
            for method in _methods(result):
                for grouping, values in row["recall"][method].items():
                    rows.append(
                        {
                            "dataset": dataset,
                            "target": row["target"],
                            "noise": row["noise"],
                            "method": method,
                            "grouping": grouping,
                            "recall": values[k],
                        }
                    )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    keys = ["dataset", "target", "method", "grouping"]
    return frame.groupby(keys, sort=False)["recall"].mean().reset_index()


def plot_planted_recall(result: dict[str, Any], k: str = "5") -> plt.Figure:
    """Recall@k of the planted features: per feature and per derivation group, each method."""
    frame = recall_frame(result, k)
    frame["case"] = frame["dataset"].str.split("_").str[0] + " · " + frame["target"]
    panels = ("feature", "derivation", "correlation")
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.5), sharey=True)
    for ax, grouping in zip(axes, panels, strict=True):
        data = frame[frame["grouping"] == grouping]
        sns.barplot(
            data=data, x="case", y="recall", hue="method", hue_order=_methods(result), ax=ax
        )
        ax.set_title(f"recall@{k}, {grouping} level", fontsize=10)
        ax.set_xlabel("")
        ax.set_ylim(0, 1.05)
        ax.axhline(0.9, ls=":", color="grey", lw=1)
        ax.tick_params(axis="x", rotation=60, labelsize=7)
        if ax is not axes[-1]:
            ax.get_legend().remove()
    figure.tight_layout()
    return figure


def plot_removal(result: dict[str, Any]) -> plt.Figure:
    """Validation MAE increase after removing the top-k features by each ranking."""
    rows = [
        {"dataset": dataset, "removed by": method, "val MAE increase": entry["val_mae_increase"]}
        for dataset, data in result["datasets"].items()
        for method, entry in data["removal"]["removed"].items()
    ]
    figure, ax = plt.subplots(figsize=(7, 4))
    sns.barplot(data=pd.DataFrame(rows), x="dataset", y="val MAE increase", hue="removed by", ax=ax)
    k = next(iter(result["datasets"].values()))["removal"]["k"]
    ax.set_title(f"Remove the top {k} features and retrain", fontsize=10)
    ax.axhline(0, color="black", lw=0.8)
    figure.tight_layout()
    return figure


def plot_seed_stability(result: dict[str, Any]) -> plt.Figure:
    """IC ranking agreement seed to seed, and of each trained model with its initialisation."""
    rows = []
    for dataset, data in result["datasets"].items():
        stability = data["stability"]
        for pair in stability["seed_pairs"]:
            rows.append({"dataset": dataset, "comparison": "seed vs seed", **pair})
        for entry in stability["init_vs_trained"]:
            rows.append({"dataset": dataset, "comparison": "trained vs initial", **entry})
    frame = pd.DataFrame(rows)
    figure, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, metric in zip(axes, ("spearman", "top10_overlap"), strict=True):
        sns.barplot(data=frame, x="dataset", y=metric, hue="comparison", ax=ax)
        ax.axhline(0.8, ls=":", color="grey", lw=1)
        ax.set_ylim(-0.2, 1.05)
    figure.tight_layout()
    return figure


def concentration_frame(result: dict[str, Any]) -> pd.DataFrame:
    """Entropy ratio and top-10 share of the mean IC, per dataset and planted target."""
    rows = [
        {"dataset": dataset, "target": row["target"], **row["concentration"]}
        for dataset, data in result["datasets"].items()
        for row in data["planted"]["targets"]
    ]
    frame = pd.DataFrame(rows)
    return frame.groupby(["dataset", "target"], sort=False).mean(numeric_only=True).reset_index()


def encoding_frame(result: dict[str, Any]) -> pd.DataFrame:
    """One row per encoding of ``ic_encodings.json``: its scores, flat."""
    fold0 = result.get("matbench_fold0", {}).get("encodings", {})
    rows = []
    for name, entry in result["encodings"].items():
        scores = {k: v for k, v in entry["scores"].items() if not isinstance(v, dict)}
        rows.append(
            {"encoding": name, **scores, "fold0_val_mae": fold0.get(name, {}).get("val_mae")}
        )
    return pd.DataFrame(rows)


def plot_encoding_comparison(result: dict[str, Any]) -> plt.Figure:
    """Encodings side by side: group recall@5 per planted target, seed agreement, concentration."""
    recall = pd.DataFrame(
        [
            {"encoding": name, "target": target, "group recall@5": value}
            for name, entry in result["encodings"].items()
            for target, value in entry["scores"]["recall_at_5_group_by_target"].items()
        ]
    )
    frame = encoding_frame(result)
    shown = {
        "seed_spearman": "seed Spearman",
        "seed_top10_overlap": "seed top-10 overlap",
        "entropy_ratio": "entropy / uniform",
    }
    agreement = frame.melt(id_vars="encoding", value_vars=list(shown), var_name="measure")
    agreement["measure"] = agreement["measure"].map(shown)
    figure, axes = plt.subplots(1, 2, figsize=(14, 4.5))
    sns.barplot(data=recall, x="target", y="group recall@5", hue="encoding", ax=axes[0])
    axes[0].axhline(0.9, ls=":", color="grey", lw=1)
    axes[0].set_ylim(0, 1.05)
    axes[0].set_title("Planted features found (group level, top 5)", fontsize=10)
    sns.barplot(data=agreement, x="measure", y="value", hue="encoding", ax=axes[1])
    axes[1].axhline(0.8, ls=":", color="grey", lw=1)
    axes[1].set_ylim(0, 1.05)
    axes[1].set_title("Seed agreement and concentration", fontsize=10)
    axes[1].get_legend().remove()
    figure.tight_layout()
    return figure
