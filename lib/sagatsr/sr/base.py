"""The interface every engine offers to :class:`~sagatsr.sr.estimator.SymbolicRegressor`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import pandas as pd
import sympy

from sagatsr.sr.units import Dimension


class Engine(Protocol):
    """A fitted-or-not symbolic-regression engine.

    Engines see plain float64 arrays without missing values; the estimator
    handles names, NaN rows, metrics and model selection.
    """

    name: str

    def fit(
        self, x: np.ndarray, y: np.ndarray, names: Sequence[str], dims: Sequence[Dimension]
    ) -> Engine:
        """Search equations.

        Args:
            x: ``(n, p)`` float64 features, all finite.
            y: ``(n,)`` float64 target, all finite.
            names: ``p`` feature names.
            dims: ``p`` feature dimensions (all dimensionless without units).

        Returns:
            ``self``.
        """
        ...

    def table(self) -> pd.DataFrame:
        """One row per equation (``0..k-1``) with at least a ``complexity`` column."""
        ...

    def sympy(self, index: int, symbols: Sequence[sympy.Symbol]) -> sympy.Expr:
        """Equation ``index`` in ``symbols`` (one per feature, in column order)."""
        ...

    def predict(self, x: np.ndarray, index: int) -> np.ndarray:
        """``(n,)`` predictions of equation ``index`` on ``(n, p)`` features."""
        ...

    @property
    def default_index(self) -> int:
        """The row the engine itself selects when there is no validation data."""
        ...
