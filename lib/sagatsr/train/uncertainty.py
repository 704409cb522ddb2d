"""Calibrated prediction intervals from an ensemble's spread (normalised split conformal).

An ensemble of ``k`` models trained with different seeds predicts the mean
``mu`` of its members, with the members' standard deviation ``s`` as a raw
uncertainty. ``s`` ranks structures by how uncertain they are, but its scale
means nothing by itself. On validation structures (never the test set) the
normalised errors ``|y - mu| / s`` are collected; the interval of level ``p``
for a new structure is ``mu +- q_p s``, where ``q_p`` is the empirical
``p``-quantile of the validation scores (with the finite-sample correction of
split conformal prediction, so coverage is at least ``p`` when validation and
new structures are exchangeable). The reported uncertainty of a prediction is
the half-width of its 68 % interval, the counterpart of one standard deviation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Interval levels reported by default (68 % and 95 %, the one- and two-sigma levels).
REPORTED_LEVELS = (0.68, 0.95)
#: Levels of the reliability curve.
RELIABILITY_LEVELS = tuple(round(0.05 * i, 2) for i in range(1, 20))
#: Spreads below this fraction of the median spread are raised to it (no zero widths).
_SPREAD_FLOOR = 1e-3


def _vectors(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(a, dtype=np.float64).reshape(-1) for a in arrays)


def _floored(spread: np.ndarray, reference: float) -> np.ndarray:
    return np.maximum(spread, _SPREAD_FLOOR * reference)


@dataclass(frozen=True)
class SpreadCalibration:
    """Quantiles of validation errors normalised by the ensemble spread.

    Attributes:
        levels: ``(L,)`` interval levels in ``(0, 1)``, increasing.
        quantiles: ``(L,)`` multipliers ``q_p`` of the spread for each level.
        median_spread: Median validation spread (the unit of the spread floor).
        n_calibration: Validation structures the quantiles came from.
    """

    levels: tuple[float, ...]
    quantiles: tuple[float, ...]
    median_spread: float
    n_calibration: int

    def multiplier(self, level: float) -> float:
        """``q_p`` of a level (interpolated between the stored levels).

        Raises:
            ValueError: For a level outside the stored range.
        """
        if not self.levels[0] <= level <= self.levels[-1]:
            raise ValueError(f"level {level} outside the calibrated range {self.levels}")
        return float(np.interp(level, self.levels, self.quantiles))

    def half_width(self, spread: np.ndarray, level: float = 0.68) -> np.ndarray:
        """Half-width of the level-``p`` interval for ensemble spreads ``(N,)`` (target unit)."""
        spread = _floored(np.asarray(spread, dtype=np.float64), self.median_spread)
        return self.multiplier(level) * spread

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "levels": list(self.levels),
            "quantiles": list(self.quantiles),
            "median_spread": self.median_spread,
            "n_calibration": self.n_calibration,
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SpreadCalibration:
        """Inverse of :meth:`to_dict`."""
        return cls(
            tuple(values["levels"]),
            tuple(values["quantiles"]),
            float(values["median_spread"]),
            int(values["n_calibration"]),
        )


def calibrate_spread(
    targets: np.ndarray,
    mean: np.ndarray,
    spread: np.ndarray,
    *,
    levels: Sequence[float] = (*RELIABILITY_LEVELS, 0.68),
) -> SpreadCalibration:
    """Fit the interval multipliers on validation data.

    Args:
        targets: ``(N,)`` true values.
        mean: ``(N,)`` ensemble means.
        spread: ``(N,)`` ensemble standard deviations (same unit).
        levels: Interval levels to store.

    Returns:
        The calibration.

    Raises:
        ValueError: With fewer than 2 structures or mismatched shapes.
    """
    targets, mean, spread = _vectors(targets, mean, spread)
    if not targets.shape == mean.shape == spread.shape or targets.size < 2:
        raise ValueError("need at least 2 validation structures with a target, a mean and a spread")
    median = float(np.median(spread)) or 1.0
    scores = np.sort(np.abs(targets - mean) / _floored(spread, median))
    n = scores.size
    ordered = sorted(set(float(level) for level in levels))
    # Split-conformal rank: the ceil((n + 1) p)-th smallest score (capped at the largest).
    ranks = [min(n, math.ceil((n + 1) * level)) - 1 for level in ordered]
    return SpreadCalibration(tuple(ordered), tuple(float(scores[r]) for r in ranks), median, n)


def interval_coverage(
    targets: np.ndarray,
    mean: np.ndarray,
    spread: np.ndarray,
    calibration: SpreadCalibration,
    levels: Sequence[float] = REPORTED_LEVELS,
) -> dict[str, float]:
    """Observed share of targets inside each level's interval.

    Returns:
        ``{"0.68": share, "0.95": share, ...}``.
    """
    errors = np.abs(np.asarray(targets, dtype=np.float64) - np.asarray(mean, dtype=np.float64))
    return {
        f"{level:.2f}": float(np.mean(errors <= calibration.half_width(spread, level)))
        for level in levels
    }


def uncertainty_report(
    targets: np.ndarray,
    mean: np.ndarray,
    spread: np.ndarray,
    calibration: SpreadCalibration,
) -> dict[str, Any]:
    """Coverage, reliability curve and the error of the most uncertain decile.

    Args:
        targets: ``(N,)`` true values of held-out structures (e.g. a test fold).
        mean: ``(N,)`` ensemble means.
        spread: ``(N,)`` ensemble spreads.
        calibration: Fitted on validation data (never on these structures).

    Returns:
        ``coverage`` at the reported levels, ``reliability`` (nominal and
        observed coverage at 5 % steps), ``mae_most_uncertain_decile`` and
        ``mae_other_deciles`` (structures ranked by their spread), ``n``.
    """
    targets, mean, spread = _vectors(targets, mean, spread)
    errors = np.abs(targets - mean)
    cut = np.quantile(spread, 0.9)
    top = spread >= cut
    return {
        "n": int(targets.size),
        "coverage": interval_coverage(targets, mean, spread, calibration),
        "reliability": {
            "nominal": list(RELIABILITY_LEVELS),
            "observed": list(
                interval_coverage(targets, mean, spread, calibration, RELIABILITY_LEVELS).values()
            ),
        },
        "mae_most_uncertain_decile": float(errors[top].mean()),
        "mae_other_deciles": float(errors[~top].mean()) if (~top).any() else float("nan"),
        "mean_half_width_68": float(calibration.half_width(spread, 0.68).mean()),
    }
