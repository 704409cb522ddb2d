"""Figures of symbolic-regression distillation: parity plots and Pareto fronts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from sagatsr.sr.units import unit_label


def plot_distill_parity(results: Sequence[Any], *, columns: int = 2) -> plt.Figure:
    """Test-row parity of the GNN (Ep) and of each expression, one panel per run.

    Args:
        results: :class:`sagatsr.sr.distill.DistillResult` objects.
        columns: Panels per row.

    Returns:
        The figure.
    """
    rows = max(1, -(-len(results) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 4.5 * rows), squeeze=False)
    for ax, result in zip(axes.flat, results, strict=False):
        test = result.data.part("test")
        truth = test[result.data.target].to_numpy()
        frames = [pd.DataFrame({"reference": truth, "predicted": test["Ep"], "model": "GNN (Ep)"})]
        for e in result.expressions:
            frames.append(
                pd.DataFrame(
                    {
                        "reference": truth,
                        "predicted": e.estimator.predict(test[e.inputs]),
                        "model": f"{e.engine}: {e.mode}",
                    }
                )
            )
        frame = pd.concat(frames, ignore_index=True)
        sns.scatterplot(
            data=frame, x="reference", y="predicted", hue="model", s=10, alpha=0.6, ax=ax
        )
        low, high = float(np.nanmin(truth)), float(np.nanmax(truth))
        ax.plot([low, high], [low, high], color="black", lw=1)
        ax.set_title(unit_label(result.run, result.data.unit), fontsize=9)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(results) :]:
        ax.set_visible(False)
    figure.tight_layout()
    return figure


def plot_pareto(frame: pd.DataFrame) -> plt.Figure:
    """Validation RMSE against complexity of every candidate equation, per engine and mode.

    Args:
        frame: :func:`sagatsr.sr.distill.pareto_frame` output.

    Returns:
        The figure (one panel per run).
    """
    runs = list(dict.fromkeys(frame["run"]))
    figure, axes = plt.subplots(
        1, max(1, len(runs)), figsize=(5 * max(1, len(runs)), 4), squeeze=False
    )
    for ax, run in zip(axes.flat, runs, strict=False):
        shown = frame[frame["run"] == run].copy()
        shown["engine / inputs"] = shown["engine"] + ": " + shown["mode"]
        sns.lineplot(
            data=shown.sort_values("complexity"),
            x="complexity",
            y="val_rmse",
            hue="engine / inputs",
            marker="o",
            ax=ax,
        )
        if (shown["val_rmse"] > 0).any():
            ax.set_yscale("log")
        ax.set_title(run, fontsize=9)
        ax.legend(fontsize=7)
    figure.tight_layout()
    return figure
