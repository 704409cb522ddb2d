"""Exhaustive L0 search: the best least-squares models over all ``D``-subsets of features.

With the columns standardised (``z_i``: centred, unit norm) and the target
centred (``y_c``), the least-squares fit with intercept on a subset ``S`` has
residual sum of squares

    ``SSE(S) = y_c . y_c - b_S^T G_SS^{-1} b_S``,   ``G = Z^T Z``, ``b = Z^T y_c``,

so one Gram matrix and one vector, computed once, serve every subset.

Subsets are visited as a *prefix* of ``D - 2`` features followed by a pair
``(j, k)`` of later features. For one prefix ``P`` (Cholesky ``G_PP = L L^T``)
the remaining features are residualised on it,

    ``W = L^{-1} G_PR``,  ``G' = G_RR - W^T W``,  ``b' = b_R - W^T L^{-1} b_P``,

and the explained sum of squares of ``P + {j, k}`` is
``|L^{-1} b_P|^2 + b'_j^2 / G'_jj + (b'_k - G'_jk b'_j / G'_jj)^2 / s_jk`` with
``s_jk = G'_kk - G'_jk^2 / G'_jj``: one small matrix product and a few in-place
elementwise operations per dense row block of ``G'``, with no gathers, the
same on CPU and GPU.
Row blocks hold at most ``chunk_size`` pairs, so memory stays bounded.

Subsets with linearly dependent features (a Cholesky pivot ``<= 1e-10``: one
feature explains all but ``1e-10`` of another's variance given the rest) are
skipped; they are not genuine ``D``-dimensional descriptors. Subsets are
visited in lexicographic order; between row blocks, ties keep the earlier subset.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import combinations

import torch
from torch import Tensor
from tqdm.auto import tqdm

PIVOT_TOL = 1e-10


class _TopK:
    """Running best ``k`` (score, subset) pairs; ties keep the earlier insertion."""

    def __init__(self, k: int, d: int, dtype: torch.dtype, device: torch.device) -> None:
        self.k = k
        self.scores = torch.empty(0, dtype=dtype, device=device)
        self.subsets = torch.empty(0, d, dtype=torch.long, device=device)

    def add(self, scores: Tensor, subsets: Tensor) -> None:
        scores = torch.cat((self.scores, scores))
        subsets = torch.cat((self.subsets, subsets))
        order = torch.sort(scores, descending=True, stable=True).indices[: self.k]
        self.scores, self.subsets = scores[order], subsets[order]


def _prefixes(u: int, d: int) -> Iterator[tuple[int, ...]]:
    """Prefixes of ``d - 2`` items that leave room for a pair after them."""
    yield from combinations(range(u - 2), d - 2) if d > 2 else [()]


def _residualise(
    gram: Tensor, proj: Tensor, prefix: tuple[int, ...]
) -> tuple[float, Tensor, Tensor, Tensor, Tensor, int] | None:
    """Residualise the features after ``prefix`` on the prefix features.

    The tiny ``q x q`` Cholesky factor of the prefix is computed in Python
    floats (LAPACK calls per prefix would dominate the run time); the triangular
    solves are ``q`` vector operations over the remaining features.

    Returns:
        ``(explained by the prefix, W (q, m), diag of G' (m,), b' (m,), first
        remaining index)`` with ``G' = G_RR - W^T W``, or ``None`` when the
        prefix is itself (numerically) singular.
    """
    start = prefix[-1] + 1 if prefix else 0
    diag = torch.diagonal(gram)[start:]
    if not prefix:
        return 0.0, gram.new_zeros(0, gram.shape[0]), diag, proj, 0
    q = len(prefix)
    g_pp = gram[list(prefix)][:, list(prefix)].tolist()
    b_p = proj[list(prefix)].tolist()
    lower = [[0.0] * q for _ in range(q)]
    for i in range(q):
        for j in range(i + 1):
            s = g_pp[i][j] - sum(lower[i][k] * lower[j][k] for k in range(j))
            if i == j:
                if s <= PIVOT_TOL:
                    return None
                lower[i][i] = math.sqrt(s)
            else:
                lower[i][j] = s / lower[j][j]
    wb: list[float] = []
    rows: list[Tensor] = []
    for i in range(q):
        row = gram[prefix[i], start:]
        acc = b_p[i]
        for k in range(i):
            row = row - lower[i][k] * rows[k]
            acc -= lower[i][k] * wb[k]
        rows.append(row / lower[i][i])
        wb.append(acc / lower[i][i])
    w = torch.stack(rows)
    b_rest = proj[start:] - torch.tensor(wb, dtype=w.dtype, device=w.device) @ w
    diag_rest = diag - (w * w).sum(dim=0)
    return sum(v * v for v in wb), w, diag_rest, b_rest, start


def _pair_blocks(
    gram: Tensor, w: Tensor, diag: Tensor, b: Tensor, start: int, base: float, chunk_size: int
) -> Iterator[tuple[Tensor, int]]:
    """Explained sums of squares of all pairs ``j < k`` of a residualised problem.

    Args:
        gram: ``(u, u)`` Gram matrix.
        w: ``(q, m)`` prefix factor (``G' = G_RR - W^T W``, ``R = start..u-1``).
        diag: ``(m,)`` diagonal of ``G'``.
        b: ``(m,)`` residualised projections ``b'``.
        start: First remaining feature.
        base: Explained by the prefix.
        chunk_size: Largest number of pairs per block.

    Yields:
        ``(scores (rows, m - j0 - 1), j0)``: rows ``j0 <= j < j0 + rows`` against
        columns ``k = j0 + 1 .. m - 1`` (indices relative to ``start``);
        invalid pairs are ``-inf``.
    """
    m = diag.shape[0]
    ok_diag = diag > PIVOT_TOL
    safe_diag = torch.where(ok_diag, diag, torch.ones_like(diag))
    ratio = b / safe_diag
    first = b * ratio + base  # base + b'_j^2 / G'_jj
    j0 = 0
    while j0 < m - 1:
        width = m - j0 - 1
        rows = max(1, min(m - 1 - j0, chunk_size // max(width, 1)))
        j1 = j0 + rows
        # residualised block G'[J, K] (a fresh tensor: it is modified in place below)
        c = torch.addmm(
            gram[start + j0 : start + j1, start + j0 + 1 :],
            w[:, j0:j1].T,
            w[:, j0 + 1 :],
            alpha=-1.0,
        )
        second = torch.addcmul(b[j0 + 1 :], c, ratio[j0:j1, None], value=-1.0)
        # pivot s_jk = G'_kk - c^2 / G'_jj, computed in place in c
        c.square_().div_(safe_diag[j0:j1, None]).neg_().add_(diag[j0 + 1 :])
        bad = c <= PIVOT_TOL
        score = second.square_().div_(c.masked_fill_(bad, 1.0)).add_(first[j0:j1, None])
        score.masked_fill_(bad, -math.inf)
        score.masked_fill_(~ok_diag[j0:j1, None], -math.inf)
        score.masked_fill_(~ok_diag[None, j0 + 1 :], -math.inf)
        # the first columns of later rows hold pairs with k <= j
        tri = min(rows, width)
        lower = torch.ones(rows, tri, dtype=torch.bool, device=c.device).tril_(-1)
        score[:, :tri].masked_fill_(lower, -math.inf)
        yield score, j0
        j0 = j1


def best_subsets(
    z: Tensor,
    y_centered: Tensor,
    d: int,
    n_best: int = 1,
    *,
    chunk_size: int = 2**20,
    progress: bool = False,
) -> tuple[Tensor, Tensor]:
    """The ``n_best`` subsets of ``d`` columns with the smallest least-squares error.

    Args:
        z: ``(n, u)`` standardised features (centred, unit-norm columns).
        y_centered: ``(n,)`` centred target.
        d: Subset size (``>= 1``).
        n_best: Number of subsets to return.
        chunk_size: Pairs evaluated at once (memory is about ``10 * chunk_size``
            floats).
        progress: Show a tqdm progress bar (over prefixes).

    Returns:
        ``(subsets (k, d), sse (k,))``, best first, ``k <= n_best``; each subset
        is increasing; singular subsets are never returned.
    """
    u = z.shape[1]
    best = _TopK(n_best, d, z.dtype, z.device)
    yy = float(y_centered @ y_centered)
    if d < 1 or d > u:
        return best.subsets, best.scores
    gram = z.T @ z
    proj = z.T @ y_centered
    if d == 1:
        ok = torch.diagonal(gram) > PIVOT_TOL
        scores = torch.where(ok, proj * proj / torch.diagonal(gram), -math.inf)
        best.add(scores, torch.arange(u, device=z.device).unsqueeze(1))
    else:
        n_prefixes = math.comb(u - 2, d - 2) if u >= d else 0
        for prefix in tqdm(
            _prefixes(u, d), total=n_prefixes, desc=f"L0 D={d}", disable=not progress, leave=False
        ):
            reduced = _residualise(gram, proj, prefix)
            if reduced is None:
                continue
            base, w, diag, b, start = reduced
            head = torch.tensor(prefix, dtype=torch.long, device=z.device)
            for scores, j0 in _pair_blocks(gram, w, diag, b, start, base, chunk_size):
                flat = scores.reshape(-1)
                k = min(n_best, flat.numel())
                top_scores, top = torch.topk(flat, k, sorted=True)
                width = scores.shape[1]
                j = top // width + j0
                kk = top % width + j0 + 1
                pairs = torch.stack((j + start, kk + start), dim=1)
                subsets = torch.cat((head.expand(k, d - 2), pairs), dim=1)
                best.add(top_scores, subsets)
    finite = torch.isfinite(best.scores)
    return best.subsets[finite], (yy - best.scores[finite]).clamp_min(0.0)
