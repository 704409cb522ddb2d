"""Softmax over segments of a tensor (the atoms of a structure, the neighbours of an atom).

The same arithmetic, operation for operation, as
:func:`torch_geometric.utils.softmax` given an ``index`` (a detached per-segment
maximum subtracted, ``exp``, a per-segment sum plus ``1e-16``), so results are
bit-identical to it, in pure torch: the network imports no PyTorch Geometric,
and ``sagatsr predict`` does not pay for loading it.
"""

from __future__ import annotations

from torch import Tensor


def segment_softmax(src: Tensor, index: Tensor, num_segments: int) -> Tensor:
    """Softmax of ``src`` along dimension 0 within the segments given by ``index``.

    Args:
        src: ``(E, ...)`` scores (e.g. ``(E, heads)`` attention logits).
        index: ``(E,)`` int64 segment of each row, in ``[0, num_segments)``.
        num_segments: Number of segments ``S`` (segments without rows are allowed).

    Returns:
        ``(E, ...)`` weights; within a segment they sum to 1 along dimension 0.
    """
    size = (num_segments, *src.shape[1:])
    expanded = index.view(-1, *([1] * (src.dim() - 1))).expand_as(src)
    maximum = src.new_zeros(size).scatter_reduce_(
        0, expanded, src.detach(), reduce="amax", include_self=False
    )
    out = (src - maximum.index_select(0, index)).exp()
    # 1e-16 added to every sum, as PyTorch Geometric does. A literal, not a module
    # constant: torch.compile's data-parallel graph splitting turns a module-level
    # float into a graph input that it cannot trace (BackendCompilerFailed).
    total = src.new_zeros(size).scatter_add_(0, expanded, out) + 1e-16
    return out / total.index_select(0, index)
