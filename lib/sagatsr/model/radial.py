"""Gaussian expansions: of interatomic distances (the model owns it, not the graph), of features."""

from __future__ import annotations

import torch
from torch import Tensor, nn

#: Lower bound of the exponent in :func:`gaussian_expand`. ``exp`` of a float32
#: below about -87.3 is denormal or zero, and ATen's vectorised ``exp`` is about
#: fifty times slower on such inputs (measured on an Intel Xeon, denormals
#: flushed or not); ``exp(-80) = 1.8e-35`` is a normal float that no sum these
#: values enter can resolve next to values of order one.
EXPONENT_FLOOR = -80.0


def gaussian_expand(values: Tensor, centers: Tensor, width: float) -> Tensor:
    """``exp(-((v - mu_k) / w)^2)`` for every value and centre, computed fast on CPU.

    The values are first laid out contiguously along the centres (a broadcast
    whose innermost stride is zero runs several times slower in ATen), and the
    exponent is bounded below by :data:`EXPONENT_FLOOR` (see there); with
    ``values`` that need no gradient every step after the first runs in place.

    Args:
        values: ``(...)`` values, in the unit of ``centers``.
        centers: ``(K,)`` centres ``mu_k``.
        width: Width ``w`` (same unit).

    Returns:
        ``(..., K)`` basis values in ``[1.8e-35, 1]``.
    """
    scaled = (values / width).unsqueeze(-1).expand(*values.shape, centers.shape[0]).contiguous()
    shifted_centers = centers / width
    if scaled.requires_grad:  # autograd needs the intermediate values
        return torch.exp((scaled - shifted_centers).square().neg().clamp(min=EXPONENT_FLOOR))
    return scaled.sub_(shifted_centers).square_().neg_().clamp_(min=EXPONENT_FLOOR).exp_()


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
            ``(E, K)`` basis values in ``(0, 1]`` (see :func:`gaussian_expand`).
        """
        return gaussian_expand(distance, self.centers, self.width)
