"""Sure independence screening (SIS): the features most correlated with a residual."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from sagatsr.sr.sisso.duplicates import greedy_keep, near_duplicate_pairs
from sagatsr.sr.sisso.features import Block, FeatureSpace, column_stats


def _scores(values: Tensor, mean: Tensor, norm: Tensor, r: Tensor) -> Tensor:
    """``|corr(column, r)|`` for ``r`` centred and of unit norm."""
    return ((values - mean) / norm).T.matmul(r).abs()


def _stored_scores(space: FeatureSpace, r: Tensor, chunk: int) -> Tensor:
    m = space.values.shape[1]
    scores = torch.empty(m, dtype=space.values.dtype, device=space.values.device)
    for start in range(0, m, chunk):
        stop = min(start + chunk, m)
        scores[start:stop] = _scores(
            space.values[:, start:stop], space.mean[start:stop], space.norm[start:stop], r
        )
    return scores


def _top(scores: Tensor, count: int) -> Tensor:
    """Indices of the ``count`` largest scores, ties in index order."""
    order = torch.sort(scores, descending=True, stable=True).indices
    return order[: min(count, order.numel())]


def _stream(
    space: FeatureSpace, r: Tensor, count: int
) -> tuple[Tensor, Tensor, list[tuple[Block, int]]]:
    """Best ``count`` streamed top-level candidates: scores, values and origin."""
    n = space.values.shape[0]
    best_scores = torch.empty(0, dtype=space.values.dtype, device=space.values.device)
    best_values = space.values.new_empty(n, 0)
    best_origin = torch.empty(0, 2, dtype=torch.long)
    for b, block in enumerate(space.top_blocks):
        values, mean, norm, valid = space.evaluate_block(block)
        scores = torch.where(valid, _scores(values, mean, norm.clamp_min(1e-300), r), -1.0)
        top = _top(scores, count)
        top = top[scores[top] >= 0]
        origin = torch.stack((torch.full_like(top, b), top), dim=1).cpu()
        all_scores = torch.cat((best_scores, scores[top]))
        all_values = torch.cat((best_values, values[:, top]), dim=1)
        all_origin = torch.cat((best_origin, origin))
        keep = _top(all_scores, count)
        best_scores, best_values = all_scores[keep], all_values[:, keep]
        best_origin = all_origin[keep.cpu()]
    origins = [(space.top_blocks[b], p) for b, p in best_origin.tolist()]
    return best_scores, best_values, origins


def sure_independence_screening(
    space: FeatureSpace,
    residual: Tensor,
    k: int,
    selected: Sequence[int] = (),
    *,
    chunk: int = 8192,
) -> list[int]:
    """Select the ``k`` features most correlated with ``residual``.

    Features are ranked by ``|corr(feature, residual)|`` (ties: stored features
    first, then in construction order). Features already in ``selected`` and
    duplicates (``|corr| > 1 - 1e-10``) of them or of a better-ranked candidate
    are skipped. Streamed top-level features that are picked are added to
    ``space.features``.

    Args:
        space: A built feature space.
        residual: ``(n,)`` current residual (the target on the first iteration).
        k: Number of features to select.
        selected: Indices already selected in earlier iterations.
        chunk: Features scored at once.

    Returns:
        Indices into ``space.features`` of the newly selected features, best first
        (fewer than ``k`` when the space runs out).
    """
    r = residual - residual.mean()
    r = r / torch.linalg.vector_norm(r).clamp_min(1e-300)
    selected = list(selected)
    union_values = space.columns(selected)
    pool = max(2 * k, k + 64)
    while True:
        stored = _stored_scores(space, r, chunk)
        stored_selected = [i for i in selected if i < space.n_stored]
        stored[torch.tensor(stored_selected, dtype=torch.long, device=stored.device)] = -1.0
        stored_top = _top(stored, pool)
        stored_top = stored_top[stored[stored_top] >= 0]
        stream_scores, stream_values, stream_origin = _stream(space, r, pool)
        scores = torch.cat((stored[stored_top], stream_scores))
        values = torch.cat((space.values[:, stored_top], stream_values), dim=1)
        order = _top(scores, pool)
        candidates = torch.cat((union_values, values[:, order]), dim=1)
        mean, norm, _ = column_stats(candidates)
        pairs = near_duplicate_pairs(candidates, mean, norm.clamp_min(1e-300))
        kept = greedy_keep(torch.arange(candidates.shape[1], device=pairs.device), pairs)
        new = [int(c) - len(selected) for c in kept.tolist() if c >= len(selected)][:k]
        exhausted = stored_top.numel() < pool and stream_scores.numel() < pool
        if len(new) >= k or exhausted:
            break
        pool *= 4
    chosen: list[int] = []
    n_stored_candidates = stored_top.numel()
    for position in new:
        c = int(order[position])
        if c < n_stored_candidates:
            chosen.append(int(stored_top[c]))
        else:
            block, at = stream_origin[c - n_stored_candidates]
            chosen.append(space.add_streamed(block, at, stream_values[:, c - n_stored_candidates]))
    return chosen
