"""Per-feature robust scaling owned by the model, so raw physical values go in.

Features arrive in their physical units (eV, angstrom, K, g/cm^3, ...), with
scales that differ by orders of magnitude. Each :class:`FeatureScaler` is
fitted once on the training graphs and stored as buffers in the model's
``state_dict``; a saved model therefore takes raw features at predict time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from torch_geometric.data import Data

#: The interquartile range of a standard normal distribution.
_IQR_OF_NORMAL = 1.3489795
#: A spread below this (relative to ``1 + |centre|``) counts as constant.
_CONSTANT_TOL = 1e-8


class FeatureScaler(nn.Module):
    """Robust per-feature standardisation ``clip((x - median) / scale)``.

    ``scale`` is the interquartile range divided by 1.349 (the standard
    deviation for normal data); when the IQR vanishes (e.g. a mostly constant
    feature) the standard deviation is used, and a constant feature gets scale
    1. Missing values (NaN or infinite) are ignored when fitting and mapped to
    0 (the median) when scaling.

    Args:
        n_features: ``F``, number of features.
        clip: Scaled values are clipped to ``[-clip, clip]`` so that outliers
            far outside the training range cannot blow up activations.
    """

    center: Tensor
    scale: Tensor
    fitted: Tensor

    def __init__(self, n_features: int, clip: float) -> None:
        super().__init__()
        self.clip = float(clip)
        self.register_buffer("center", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))

    @property
    def n_features(self) -> int:
        """Number of features ``F``."""
        return int(self.center.shape[0])

    @torch.no_grad()
    def fit(self, values: Tensor | np.ndarray) -> FeatureScaler:
        """Fit centre and scale on raw values.

        Args:
            values: ``(N, F)`` raw features, one row per atom or structure.

        Returns:
            ``self``.

        Raises:
            ValueError: If ``values`` does not have ``F`` columns or has no rows.
        """
        array = np.asarray(
            values.detach().cpu().numpy() if isinstance(values, Tensor) else values,
            dtype=np.float64,
        )
        if array.ndim != 2 or array.shape[1] != self.n_features or array.shape[0] == 0:
            raise ValueError(
                f"expected a non-empty (N, {self.n_features}) array, got shape {array.shape}"
            )
        array = np.where(np.isfinite(array), array, np.nan)
        center = np.zeros(self.n_features)
        scale = np.ones(self.n_features)
        present = ~np.isnan(array).all(axis=0)
        if present.any():
            cols = array[:, present]
            q25, q50, q75 = np.nanpercentile(cols, [25.0, 50.0, 75.0], axis=0)
            spread = (q75 - q25) / _IQR_OF_NORMAL
            tiny = _CONSTANT_TOL * (1.0 + np.abs(q50))
            std = np.nanstd(cols, axis=0)
            spread = np.where(spread > tiny, spread, std)
            spread = np.where(spread > tiny, spread, 1.0)
            center[present] = q50
            scale[present] = spread
        self.center.copy_(torch.from_numpy(center))
        self.scale.copy_(torch.from_numpy(scale))
        self.fitted.fill_(True)
        return self

    def require_fitted(self) -> None:
        """Raise unless :meth:`fit` was called.

        Raises:
            RuntimeError: If the scaler was never fitted.
        """
        if not bool(self.fitted):
            raise RuntimeError(
                "feature scaler is not fitted; call sagatsr.model.fit_scalers(model, "
                "train_loader) before training or predicting"
            )

    def forward(self, x: Tensor) -> Tensor:
        """Scale raw features.

        Args:
            x: ``(N, F)`` raw features.

        Returns:
            ``(N, F)`` scaled, clipped features; missing values become 0.

        Raises:
            RuntimeError: If the scaler was never fitted (checked outside
                ``torch.compile``; the compiled network checks before it is called).
        """
        if not torch.compiler.is_compiling():
            self.require_fitted()
        scaled = (x - self.center) / self.scale
        scaled = torch.where(torch.isfinite(x), scaled, torch.zeros_like(scaled))
        return scaled.clamp(-self.clip, self.clip)


def _collect(source: Iterable[Data] | tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
    if isinstance(source, tuple):
        node, glob = source
        return torch.as_tensor(node), torch.as_tensor(glob)
    nodes: list[Tensor] = []
    globs: list[Tensor] = []
    for data in source:
        nodes.append(data.x.detach().cpu())
        globs.append(data.u.detach().cpu().reshape(-1, data.u.shape[-1]))
    if not nodes:
        raise ValueError("cannot fit feature scalers on an empty set of graphs")
    return torch.cat(nodes), torch.cat(globs)


def fit_scalers(model: nn.Module, source: Iterable[Data] | tuple[Tensor, Tensor]) -> nn.Module:
    """Fit a model's node and global feature scalers on training data.

    Args:
        model: A :class:`~sagatsr.model.network.SAGAT` (anything with
            ``node_scaler`` and ``global_scaler`` attributes).
        source: Training graphs (a ``DataLoader``, a list of ``Data`` or
            ``Batch`` objects), or a tuple ``(x, u)`` of raw ``(N_atoms,
            F_node)`` node and ``(N_structures, F_global)`` global features.

    Returns:
        ``model``, with fitted scalers.
    """
    node, glob = _collect(source)
    model.node_scaler.fit(node)
    model.global_scaler.fit(glob)
    return model
