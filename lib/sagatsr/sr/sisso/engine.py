"""The SISSO engine: feature space, iterated SIS and exhaustive L0 (the paper's method).

For descriptor dimension ``D = 1, 2, ..., max_dim``: SIS adds ``n_sis``
features most correlated with the current residual (the target for ``D = 1``,
then the residual of the best ``(D-1)``-dimensional model) to the union of all
SIS subspaces, and an exhaustive L0 search over that union finds the best
``D``-feature linear models with intercept (lowest training RMSE). The result
has one equation per dimension (``n_top`` per dimension when asked), and the
engine's own pick is the best model of the largest dimension reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sympy
import torch

from sagatsr.sr.sisso.features import (
    FeatureSpace,
    column_stats,
    evaluate,
    prune,
    to_sympy,
)
from sagatsr.sr.sisso.l0 import best_subsets
from sagatsr.sr.sisso.operators import resolve_operators
from sagatsr.sr.sisso.screening import sure_independence_screening
from sagatsr.sr.units import Dimension, format_dimension


@dataclass(frozen=True)
class Descriptor:
    """One fitted linear model ``y = intercept + sum(coefficients * features)``.

    Attributes:
        dimension: Number of features ``D``.
        rank: 0 for the best model of this dimension, 1 for the next, ...
        features: Indices into the engine's ``features_``.
        coefficients: ``D`` coefficients (units of y over units of the feature).
        intercept: Intercept (units of y).
        sse: Training sum of squared residuals.
    """

    dimension: int
    rank: int
    features: tuple[int, ...]
    coefficients: tuple[float, ...]
    intercept: float
    sse: float


def _least_squares(feats_values: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Coefficients and intercept of the least-squares fit of ``y`` on ``(n, D)`` features."""
    design = np.column_stack((np.ones(len(y)), feats_values))
    solution, *_ = np.linalg.lstsq(design, y, rcond=None)
    return solution[1:], float(solution[0])


class SissoEngine:
    """SISSO symbolic regression in torch (same code on CPU and GPU).

    Args:
        operators: Operator names (see :mod:`sagatsr.sr.sisso.operators`);
            ``None`` for all.
        max_complexity: Most operators per feature (rung).
        n_sis: Features added by each SIS iteration.
        max_dim: Largest descriptor dimension.
        n_top: Models kept per dimension.
        check_units: Enforce dimensional consistency.
        device: Torch device for the search.
        chunk_size: Feature pairs per L0 block (memory about ``10 * chunk_size``
            floats).
        block_size: Candidate features evaluated at once.
        max_memory_mb: Largest stored top level (MiB) before it is streamed.
        progress: Show tqdm progress bars for the L0 searches.
    """

    name = "sisso"

    def __init__(
        self,
        *,
        operators: Sequence[str] | None = None,
        max_complexity: int = 1,
        n_sis: int = 3000,
        max_dim: int = 3,
        n_top: int = 1,
        check_units: bool = True,
        device: str | torch.device = "cpu",
        chunk_size: int = 2**20,
        block_size: int = 8192,
        max_memory_mb: float = 1024.0,
        progress: bool = True,
    ) -> None:
        for name, value in (("n_sis", n_sis), ("max_dim", max_dim), ("n_top", n_top)):
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        self.unary, self.binary = resolve_operators(operators)
        self.max_complexity = max_complexity
        self.n_sis = n_sis
        self.max_dim = max_dim
        self.n_top = n_top
        self.check_units = check_units
        self.device = torch.device(device)
        self.chunk_size = chunk_size
        self.block_size = block_size
        self.max_memory_mb = max_memory_mb
        self.progress = progress

    def fit(
        self, x: np.ndarray, y: np.ndarray, names: Sequence[str], dims: Sequence[Dimension]
    ) -> SissoEngine:
        """Build the feature space and run SIS + L0 for ``D = 1..max_dim``.

        Args:
            x: ``(n, p)`` features.
            y: ``(n,)`` target.
            names: Feature names.
            dims: Feature dimensions.

        Returns:
            ``self`` with ``descriptors_``, ``features_``, ``space_stats_`` and
            ``sis_subspaces_`` (names of the features each SIS iteration added).
        """
        xt = torch.as_tensor(x, dtype=torch.float64, device=self.device)
        yt = torch.as_tensor(y, dtype=torch.float64, device=self.device)
        space = FeatureSpace(
            self.unary,
            self.binary,
            max_complexity=self.max_complexity,
            check_units=self.check_units,
            block_size=self.block_size,
            max_memory_bytes=self.max_memory_mb * 2**20,
        ).build(xt, names, dims)
        y_np = np.asarray(y, dtype=np.float64)
        y_centered = yt - yt.mean()
        union: list[int] = []
        subspaces: list[list[int]] = []
        descriptors: list[Descriptor] = []
        residual = yt
        for d in range(1, self.max_dim + 1):
            new = sure_independence_screening(space, residual, self.n_sis, union)
            subspaces.append(new)
            union.extend(new)
            if len(union) < d:
                break
            cols = space.columns(union)
            mean, norm, _ = column_stats(cols)
            z = (cols - mean) / norm
            subsets, _ = best_subsets(
                z, y_centered, d, self.n_top, chunk_size=self.chunk_size, progress=self.progress
            )
            if subsets.shape[0] == 0:
                break
            for rank, subset in enumerate(subsets.tolist()):
                feats = tuple(union[i] for i in subset)
                feats_values = space.columns(list(feats)).cpu().numpy()
                coef, intercept = _least_squares(feats_values, y_np)
                fit_sse = float(np.sum((y_np - intercept - feats_values @ coef) ** 2))
                descriptors.append(
                    Descriptor(d, rank, feats, tuple(float(c) for c in coef), intercept, fit_sse)
                )
                if rank == 0:
                    best = torch.as_tensor(feats_values @ coef + intercept, device=self.device)
            residual = yt - best
        roots = sorted({i for desc in descriptors for i in desc.features})
        self.features_, new_roots = prune(space.features, roots)
        remap = dict(zip(roots, new_roots, strict=True))
        self.descriptors_ = [
            Descriptor(
                d.dimension,
                d.rank,
                tuple(remap[i] for i in d.features),
                d.coefficients,
                d.intercept,
                d.sse,
            )
            for d in descriptors
        ]
        self.space_stats_ = {
            **space.stats,
            "n_stored_features": space.n_stored,
            "top_level_streamed": space.streamed,
        }
        self.sis_subspaces_ = [[space.features[i].name for i in sub] for sub in subspaces]
        return self

    def table(self) -> pd.DataFrame:
        """The equation table.

        Columns ``complexity``, ``dimension``, ``rank``, ``descriptor`` (feature
        expressions), ``coefficients``, ``intercept``, ``feature_units``.

        ``complexity`` is the node count of ``intercept + sum_i c_i * f_i``:
        the sizes of the features plus ``3 D + 1`` (coefficients, products, sums
        and the intercept).
        """
        rows = []
        for d in self.descriptors_:
            feats = [self.features_[i] for i in d.features]
            rows.append(
                {
                    "complexity": sum(f.size for f in feats) + 3 * d.dimension + 1,
                    "dimension": d.dimension,
                    "rank": d.rank,
                    "descriptor": tuple(f.name for f in feats),
                    "coefficients": d.coefficients,
                    "intercept": d.intercept,
                    "feature_units": tuple(
                        "inconsistent" if f.dimension is None else format_dimension(f.dimension)
                        for f in feats
                    ),
                }
            )
        return pd.DataFrame(rows)

    @property
    def default_index(self) -> int:
        """The best (rank 0) model of the largest dimension reached."""
        best = max(
            (k for k, d in enumerate(self.descriptors_) if d.rank == 0),
            key=lambda k: self.descriptors_[k].dimension,
        )
        return best

    def sympy(self, index: int, symbols: Sequence[sympy.Symbol]) -> sympy.Expr:
        """``intercept + sum(c_i * f_i)`` in the primary-feature ``symbols``."""
        d = self.descriptors_[index]
        expr: sympy.Expr = sympy.Float(d.intercept)
        for c, i in zip(d.coefficients, d.features, strict=True):
            expr = expr + sympy.Float(c) * to_sympy(self.features_, i, symbols)
        return expr

    def predict(self, x: np.ndarray, index: int) -> np.ndarray:
        """Evaluate the descriptor features on ``x`` (on CPU) and apply the linear model."""
        d = self.descriptors_[index]
        xt = torch.as_tensor(np.asarray(x, dtype=np.float64))
        feats_values = evaluate(self.features_, list(d.features), xt).numpy()
        with np.errstate(invalid="ignore", over="ignore"):
            return d.intercept + feats_values @ np.asarray(d.coefficients)
