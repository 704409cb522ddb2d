"""Benchmark figures: SR speedup bars, the log-log scaling plot, the embedding ablation."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from sagatsr.bench.results import suite_frame
from sagatsr.sr.units import unit_label


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
    ax.set_ylabel(unit_label("test MAE", unit))
    ax.set_title("Input embedding ablation (same model and budget)")
    for container in ax.containers:
        ax.bar_label(container, fmt="%.4f", fontsize=7)
    figure.tight_layout()
    return figure


def plot_leaderboard(result: dict[str, Any]) -> plt.Figure:
    """This project's Matbench mean test MAE among the published leaderboard entries.

    Args:
        result: Content of ``matbench_perovskites.json``.
    """
    published = dict(result["published_mae"])
    label = "SA-GAT-SR (this project, CPU)"
    entries = sorted({**published, label: result["mean_mae"]}.items(), key=lambda kv: kv[1])
    entries = [(name, mae) for name, mae in entries if mae < 0.1]  # the GNN part of the board
    names, maes = zip(*entries, strict=True)
    figure, ax = plt.subplots(figsize=(7, 0.45 * len(names) + 1))
    colors = ["tab:red" if name == label else "tab:grey" for name in names]
    ax.barh(names, maes, color=colors)
    std = result.get("std_mae")
    if std == std:  # not nan
        ax.errorbar(result["mean_mae"], names.index(label), xerr=std, color="black", capsize=3)
    for y, mae in enumerate(maes):
        ax.text(mae, y, f" {mae:.4f}", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(unit_label("mean test MAE over the 5 folds", result.get("unit", "eV/cell")))
    ax.set_title("Matbench perovskites (published entries below 0.1 eV/cell)", fontsize=9)
    figure.tight_layout()
    return figure


def plot_accuracy_vs_cpu_time(result: dict[str, Any]) -> plt.Figure | None:
    """Mean test MAE against total training CPU time, per ensemble size.

    Args:
        result: Content of ``matbench_perovskites.json`` of an ensemble run
            (``by_ensemble_size``); ``None`` is returned for a single-model run.
    """
    sizes = result.get("by_ensemble_size")
    if not sizes:
        return None
    hours = [entry["train_cpu_seconds"] / 3600 for entry in sizes]
    maes = [entry["mean_test_mae"] for entry in sizes]
    figure, ax = plt.subplots(figsize=(6, 4))
    ax.plot(hours, maes, marker="o", color="tab:red", label="this project (ensemble of k)")
    for entry, x, y in zip(sizes, hours, maes, strict=True):
        ax.annotate(f"k={entry['members']}", (x, y), textcoords="offset points", xytext=(4, 4))
    for name in ("ALIGNN", "coNGN", "Finder"):
        mae = result["published_mae"][name]
        ax.axhline(mae, ls="--", lw=1, color="grey")
        ax.text(hours[-1], mae, f" {name} {mae}", va="bottom", ha="right", fontsize=8)
    ax.set_xlabel("training CPU time, 5 folds [core-hours]")
    ax.set_ylabel(unit_label("mean test MAE", result.get("unit", "eV/cell")))
    ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def plot_reliability(result: dict[str, Any]) -> plt.Figure | None:
    """Observed against nominal coverage of the calibrated intervals on the test folds.

    Args:
        result: Content of ``matbench_perovskites.json`` of an ensemble run;
            ``None`` is returned for a single-model run.
    """
    summary = result.get("uncertainty_test_mean_over_folds")
    if not summary:
        return None
    curve = summary["reliability"]
    figure, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfect calibration")
    ax.plot(curve["nominal"], curve["observed"], marker="o", label="test folds (mean)")
    ax.set_xlabel("nominal coverage")
    ax.set_ylabel("observed coverage")
    coverage = summary["coverage"]
    ax.set_title(
        f"68 %: {coverage['0.68']:.2f} · 95 %: {coverage['0.95']:.2f} observed", fontsize=9
    )
    ax.legend(fontsize=8)
    figure.tight_layout()
    return figure
