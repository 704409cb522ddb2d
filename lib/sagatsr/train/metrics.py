"""Regression metrics in physical units."""

from __future__ import annotations

import numpy as np


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE, RMSE and R2 (coefficient of determination).

    Args:
        y_true: ``(N,)`` reference values.
        y_pred: ``(N,)`` predictions, same unit.

    Returns:
        ``{"n", "mae", "rmse", "r2"}``; R2 is ``nan`` when ``y_true`` is constant.

    Raises:
        ValueError: If the shapes differ, the arrays are empty, or hold NaN.
    """
    true = np.asarray(y_true, dtype=np.float64).ravel()
    pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if true.shape != pred.shape or true.size == 0:
        raise ValueError(f"need two non-empty arrays of one shape, got {true.shape}, {pred.shape}")
    if not (np.isfinite(true).all() and np.isfinite(pred).all()):
        raise ValueError("metrics need finite values (drop missing targets first)")
    error = pred - true
    total = float(((true - true.mean()) ** 2).sum())
    return {
        "n": int(true.size),
        "mae": float(np.abs(error).mean()),
        "rmse": float(np.sqrt((error**2).mean())),
        "r2": 1.0 - float((error**2).sum()) / total if total > 0 else float("nan"),
    }
