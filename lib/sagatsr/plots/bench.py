"""Benchmark figures: SR speedup bars, the log-log scaling plot, the embedding ablation."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from sagatsr.bench.results import suite_frame


def sr_speedup_frame(result: dict[str, Any]) -> pd.DataFrame:
    """One row per run and arm: SR seconds and test MAE (from ``sr_speedup.json``)."""
    rows = []
    for run in result["runs"]:
        for arm, label in (("conventional", "conventional SR"), ("sa_gat_sr", "SA-GAT-SR")):
            rows.append(
                {
                    "run": run["run"],
                    "arm": label,
                    "sr_seconds": run[arm]["sr_seconds"],
                    "test_mae": run[arm]["test_mae"],
                    "unit": run["unit"],
                    "n_inputs": run[arm]["n_inputs"],
                }
            )
    return pd.DataFrame(rows)


def plot_sr_speedup(result: dict[str, Any]) -> plt.Figure:
    """SR wall time (log scale) and held-out MAE of both arms per run."""
    frame = sr_speedup_frame(result)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    sns.barplot(data=frame, x="run", y="sr_seconds", hue="arm", ax=left)
    left.set_yscale("log")
    left.set_ylabel("SR wall time [s]")
    for run in result["runs"]:
        left.annotate(
            f"{run['speedup']:.0f}x",
            (result["runs"].index(run), run["conventional"]["sr_seconds"]),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    sns.barplot(data=frame, x="run", y="test_mae", hue="arm", ax=right)
    right.set_ylabel("test MAE [target unit]")
    for ax in (left, right):
        ax.tick_params(axis="x", rotation=20, labelsize=8)
    figure.tight_layout()
    return figure


def plot_scaling(result: dict[str, Any], device: str = "cpu") -> plt.Figure:
    """Log-log time and memory against atoms, with the fitted large-n slopes."""
    rows = pd.DataFrame(result["sizes"][device])
    slopes = result["slopes"][device]["large_n"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for key, label in (
        ("graph_s", "graph construction"),
        ("inference_s", "inference"),
        ("total_s", "both"),
    ):
        left.plot(
            rows["n_atoms"], rows[key], marker="o", label=f"{label} (slope {slopes[key]:.2f})"
        )
    for key, label in (
        ("graph_peak_bytes", "graph construction"),
        ("inference_peak_bytes", "inference"),
    ):
        positive = rows[rows[key] > 0]
        right.plot(
            positive["n_atoms"],
            positive[key] / 2**20,
            marker="o",
            label=f"{label} (slope {slopes[key]:.2f})",
        )
    n = np.array([rows["n_atoms"].min(), rows["n_atoms"].max()], dtype=float)
    for ax, ylabel in ((left, "time [s]"), (right, "peak memory [MiB]")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("atoms")
        ax.set_ylabel(ylabel)
        ax.axvline(result["fit_min_atoms"], ls=":", color="grey", lw=1)
        ax.legend(fontsize=8)
    reference = rows["total_s"].iloc[-1] * n / n[-1]
    left.plot(n, reference, ls="--", color="grey", lw=1, label="slope 1")
    figure.suptitle(f"{device}: {result['structure']}", fontsize=9)
    figure.tight_layout()
    return figure


def plot_embedding_ablation(result: dict[str, Any]) -> plt.Figure:
    """Test MAE of each input embedding (SAE / FCN / one-hot) per subset and split.

    Args:
        result: Content of ``embedding_ablation.json``.
    """
    frame = suite_frame(result)
    frame["data"] = frame["subset"] + " · " + frame["split"]
    unit = frame["unit"].iloc[0] if len(frame) else ""
    figure, ax = plt.subplots(figsize=(7, 4))
    order = [e for e in ("sae", "fcn", "onehot") if e in set(frame["embedding"])]
    sns.barplot(data=frame, x="data", y="test_mae", hue="embedding", hue_order=order, ax=ax)
    ax.set_xlabel("")
    ax.set_ylabel(f"test MAE [{unit}]")
    ax.set_title("Input embedding ablation (same model and budget)")
    for container in ax.containers:
        ax.bar_label(container, fmt="%.4f", fontsize=7)
    figure.tight_layout()
    return figure
