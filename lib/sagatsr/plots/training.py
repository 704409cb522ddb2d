"""Figures of a training run: learning curve, parity plot, metrics table."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from sagatsr.sr.units import unit_label


def plot_learning_curve(history: pd.DataFrame, *, unit: str = "") -> plt.Figure:
    """Training loss (standardised L1) and validation MAE per epoch.

    Args:
        history: ``history.csv`` of a run (``epoch``, ``train_loss``, ``val_mae``).
        unit: Unit of the validation MAE.

    Returns:
        The figure (two panels).
    """
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    sns.lineplot(data=history, x="epoch", y="train_loss", ax=left, color="#4c72b0")
    left.set_ylabel("training loss (L1, standardised)")
    sns.lineplot(data=history, x="epoch", y="val_mae", ax=right, color="#dd8452")
    right.set_ylabel(unit_label("validation MAE", unit))
    if len(history):
        best = history.loc[history["val_mae"].idxmin()]
        right.axvline(best["epoch"], ls="--", color="grey", lw=1)
        right.set_title(f"best epoch {int(best['epoch'])}: {best['val_mae']:.4g}", fontsize=9)
    figure.tight_layout()
    return figure


def plot_parity(
    predictions: pd.DataFrame, target: str, *, unit: str = "", parts: tuple[str, ...] = ("test",)
) -> plt.Figure:
    """Predicted versus reference values.

    Args:
        predictions: ``predictions.csv`` of a run (``part``, ``target``, ``prediction``).
        target: Target column.
        unit: Its unit.
        parts: Which parts to show.

    Returns:
        The figure.
    """
    shown = predictions[predictions["part"].isin(parts)]
    figure, ax = plt.subplots(figsize=(4.5, 4.5))
    sns.scatterplot(data=shown, x=target, y="prediction", hue="part", s=8, alpha=0.5, ax=ax)
    if len(shown):
        low = float(np.nanmin(shown[[target, "prediction"]].to_numpy()))
        high = float(np.nanmax(shown[[target, "prediction"]].to_numpy()))
        ax.plot([low, high], [low, high], color="black", lw=1)
    ax.set_xlabel(unit_label(f"reference {target}", unit))
    ax.set_ylabel(unit_label(f"predicted {target}", unit))
    figure.tight_layout()
    return figure


def metrics_table(metrics: dict[str, Any]) -> pd.DataFrame:
    """MAE / RMSE / R2 per part of a run's ``metrics.json``."""
    rows = [{"part": part, **values} for part, values in metrics["metrics"].items()]
    return pd.DataFrame(rows).set_index("part")
