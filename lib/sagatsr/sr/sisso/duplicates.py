"""Near-duplicate features (``|corr| > 1 - tol``) found without an all-pairs correlation.

Each column is standardised (centred, unit norm) and projected on a fixed random
unit vector ``r``; two columns with ``|corr| > 1 - tol`` have projections
``|z . r|`` closer than ``sqrt(2 tol)``, so after sorting the projections only
neighbours inside that window need an exact correlation. The cost is a sort plus
a few dot products per column instead of ``O(m^2 n)``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

DUPLICATE_TOL = 1e-10
"""Two features are duplicates when ``|corr| > 1 - DUPLICATE_TOL``."""


def _probe(n: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    """A fixed (seeded) random unit vector of length ``n``."""
    generator = torch.Generator().manual_seed(20240611)
    r = torch.randn(n, generator=generator, dtype=torch.float64)
    return (r / r.norm()).to(device=device, dtype=dtype)


def standardize(values: Tensor, mean: Tensor, norm: Tensor) -> Tensor:
    """``(values - mean) / norm`` column-wise: centred columns of unit Euclidean norm."""
    return (values - mean) / norm


def near_duplicate_pairs(
    values: Tensor, mean: Tensor, norm: Tensor, *, tol: float = DUPLICATE_TOL, chunk: int = 4096
) -> Tensor:
    """All pairs of columns with ``|corr| > 1 - tol``.

    Args:
        values: ``(n, m)`` feature values.
        mean: ``(m,)`` column means.
        norm: ``(m,)`` Euclidean norms of the centred columns (all ``> 0``).
        tol: Duplicate tolerance.
        chunk: Columns standardised at once (bounds the extra memory).

    Returns:
        ``(P, 2)`` int64 column index pairs ``(i, j)`` with ``i < j``, sorted.
    """
    n, m = values.shape
    device = values.device
    if m < 2:
        return torch.empty(0, 2, dtype=torch.long, device=device)
    r = _probe(n, device, values.dtype)
    proj = torch.empty(m, dtype=values.dtype, device=device)
    for start in range(0, m, chunk):
        stop = min(start + chunk, m)
        z = standardize(values[:, start:stop], mean[start:stop], norm[start:stop])
        proj[start:stop] = (r @ z).abs()
    order = torch.argsort(proj, stable=True)
    sorted_proj = proj[order]
    window = 1.05 * math.sqrt(2.0 * tol) + 1e-12
    found: list[Tensor] = []
    for gap in range(1, m):
        close = (sorted_proj[gap:] - sorted_proj[:-gap]) <= window
        if not bool(close.any()):
            break
        a = order[:-gap][close]
        b = order[gap:][close]
        for start in range(0, a.numel(), chunk):
            ia, ib = a[start : start + chunk], b[start : start + chunk]
            za = standardize(values[:, ia], mean[ia], norm[ia])
            zb = standardize(values[:, ib], mean[ib], norm[ib])
            dup = (za * zb).sum(dim=0).abs() > 1.0 - tol
            if bool(dup.any()):
                pair = torch.stack((torch.minimum(ia, ib), torch.maximum(ia, ib)), dim=1)
                found.append(pair[dup])
    if not found:
        return torch.empty(0, 2, dtype=torch.long, device=device)
    pairs = torch.unique(torch.cat(found), dim=0)
    return pairs


def greedy_keep(order: Tensor, pairs: Tensor, limit: int | None = None) -> Tensor:
    """Walk columns in ``order`` and keep each one that duplicates no kept column.

    Args:
        order: ``(K,)`` column indices in priority order (first is kept first).
        pairs: ``(P, 2)`` duplicate pairs over the same column indices.
        limit: Stop after keeping this many (``None``: walk all).

    Returns:
        The kept column indices, in priority order.
    """
    if pairs.numel() == 0:
        return order[:limit].clone() if limit is not None else order.clone()
    partners: dict[int, list[int]] = {}
    for i, j in pairs.tolist():
        partners.setdefault(i, []).append(j)
        partners.setdefault(j, []).append(i)
    kept: list[int] = []
    kept_set: set[int] = set()
    for column in order.tolist():
        if limit is not None and len(kept) >= limit:
            break
        if any(p in kept_set for p in partners.get(column, ())):
            continue
        kept.append(column)
        kept_set.add(column)
    return torch.tensor(kept, dtype=torch.long, device=order.device)
