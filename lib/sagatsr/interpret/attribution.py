"""Integrated gradients (captum) over the scaled input features: a gradient baseline for the ICs.

The attribution of feature ``i`` for a structure is the integral of the
prediction's gradient along the straight path from a baseline to the input,
times the distance travelled (Sundararajan et al., ICML 2017). Here the path
runs over the *scaled* features, from 0 (each feature's training median) to
the structure's values; missing values keep their mask along the path (they
get zero attribution). Node features are attributed per atom the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import torch
from captum.attr import IntegratedGradients

from sagatsr.graphs.packed import PackedGraphs
from sagatsr.interpret.importance import feature_names

if TYPE_CHECKING:
    from sagatsr.model.network import SAGAT
    from sagatsr.train.data import LabelledGraphs


class _PathForward:
    """The model as a function of the scaled features of a few structures.

    captum stacks the points of the path along the first dimension; the graphs
    are repeated to match, and a forward hook hands the path points to the
    network in place of the scaler's output.
    """

    def __init__(self, model: SAGAT, packed: PackedGraphs, positions: list[int], rows: int) -> None:
        self.model, self.packed, self.positions, self.rows = model, packed, positions, rows
        self.path: torch.Tensor | None = None

    def substitute(self, module: object, inputs: object, output: torch.Tensor) -> torch.Tensor:
        """Forward hook of the scaler: return the current path points."""
        return self.path if self.path is not None else output

    def __call__(self, path: torch.Tensor) -> torch.Tensor:
        self.path = path
        try:
            copies = path.shape[0] // self.rows
            return self.model(self.packed.collate(self.positions * copies))[:, 0]
        finally:
            self.path = None


def integrated_gradients(
    model: SAGAT,
    graphs: LabelledGraphs,
    *,
    level: Literal["global", "node"] = "global",
    n_steps: int = 16,
    batch_size: int = 32,
) -> pd.DataFrame:
    """Integrated-gradients attribution of every input feature.

    Args:
        model: A trained network with feature inputs (``sae`` or ``fcn``).
        graphs: The structures.
        level: ``"global"`` (one row per structure) or ``"node"`` (one row per atom).
        n_steps: Points of the path integral (Gauss-Legendre rule).
        batch_size: Structures per evaluation (times ``n_steps`` graphs per forward).

    Returns:
        ``(rows, F)`` attributions in the target's standardized unit, columns
        named after the features, rows in the order of the graphs (atoms in
        order within each graph for ``"node"``).

    Raises:
        ValueError: For a model without feature inputs or no graphs.
    """
    if not model.encoder.uses_features:
        raise ValueError("the model sees no features (one-hot embedding): nothing to attribute")
    if not graphs.graphs:
        raise ValueError("no graphs to attribute")
    scaler = model.global_scaler if level == "global" else model.node_scaler
    packed = PackedGraphs(graphs.graphs)
    was_training = model.training
    model.eval()
    parts = []
    try:
        for start in range(0, len(packed), batch_size):
            positions = list(range(start, min(start + batch_size, len(packed))))
            batch = packed.collate(positions)
            with torch.no_grad():
                scaled = scaler(batch.u if level == "global" else batch.x)
            forward = _PathForward(model, packed, positions, scaled.shape[0])
            handle = scaler.register_forward_hook(forward.substitute)
            try:
                attribution = IntegratedGradients(forward).attribute(
                    scaled, baselines=torch.zeros_like(scaled), n_steps=n_steps
                )
            finally:
                handle.remove()
            parts.append(attribution.detach().numpy())
    finally:
        model.train(was_training)
    return pd.DataFrame(np.concatenate(parts), columns=feature_names(model, level))


def attribution_ranking(attributions: pd.DataFrame) -> pd.Series:
    """Mean absolute attribution per feature, largest first."""
    return attributions.abs().mean().sort_values(ascending=False)
