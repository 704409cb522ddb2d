"""Gaussian radial basis of interatomic distances (the model owns it, not the graph)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class GaussianRBF(nn.Module):
    """Expand distances on ``K`` Gaussians centred evenly on ``[0, cutoff]``.

    ``phi_k(d) = exp(-((d - mu_k) / w)^2)`` with ``w`` the spacing of the centres.

    Args:
        n_rbf: ``K``.
        cutoff: Largest centre, angstrom.
    """

    centers: Tensor

    def __init__(self, n_rbf: int, cutoff: float) -> None:
        super().__init__()
        self.register_buffer("centers", torch.linspace(0.0, cutoff, n_rbf))
        self.width = cutoff / (n_rbf - 1)

    def forward(self, distance: Tensor) -> Tensor:
        """Expand.

        Args:
            distance: ``(E,)`` distances in angstrom.

        Returns:
            ``(E, K)`` basis values in ``(0, 1]``.
        """
        return torch.exp(-(((distance.unsqueeze(-1) - self.centers) / self.width) ** 2))
