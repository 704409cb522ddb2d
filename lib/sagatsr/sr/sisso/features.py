"""SISSO feature space: primary features combined by operators, with units and validity checks.

Level ``c`` of the space holds the features made with exactly ``c`` operators:
every unary operator applied to the level ``c - 1`` features and every binary
operator applied to pairs from levels ``a`` and ``b`` with ``a + b = c - 1``.
A candidate is kept only when

* its physical dimension is consistent (see :mod:`sagatsr.sr.sisso.operators`;
  skipped with ``check_units=False``, where an inconsistent feature gets
  dimension ``None``),
* all its values are finite (this rejects ``log`` of non-positive values,
  ``sqrt`` of negative values, division by zero and overflow),
* it is not constant (centred norm ``<= 1e-10`` times its norm), and
* it does not duplicate an earlier feature (``|corr| > 1 - 1e-10``, which
  includes identical values), the earlier (simpler) one being kept.

Levels below ``max_complexity`` are always held in memory (they are the
operands of the next level).  The top level is held too when it fits in
``max_memory_bytes``; otherwise it is *streamed*: regenerated block by block
whenever it is screened, and only the selected features are stored.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import sympy
import torch
from torch import Tensor

from sagatsr.sr.sisso.duplicates import greedy_keep, near_duplicate_pairs
from sagatsr.sr.sisso.operators import BINARY, UNARY, BinaryOp, UnaryOp
from sagatsr.sr.units import Dimension

CONSTANT_TOL = 1e-10
"""A column is constant when its centred norm is at most this times its norm."""


@dataclass(frozen=True)
class Feature:
    """One feature: a primary feature or an operator applied to earlier features.

    Attributes:
        name: Expression over the primary feature names, e.g. ``"(x1 / x2)"``.
        op: Operator name, ``None`` for a primary feature.
        args: For a primary feature, its column in the input matrix; otherwise
            the indices of the operands in the same feature list.
        complexity: Number of operators.
        size: Number of nodes (primary features plus operators).
        dimension: Exponents over the base dimensions; ``None`` when
            dimensionally inconsistent (only possible with ``check_units=False``).
    """

    name: str
    op: str | None
    args: tuple[int, ...]
    complexity: int
    size: int
    dimension: Dimension | None


@dataclass(frozen=True)
class Block:
    """A batch of candidate features of one operator, evaluated together.

    Attributes:
        op: Operator name.
        left: ``(b,)`` indices of the first operands.
        right: ``(b,)`` indices of the second operands (``None`` for unary).
        dim_ids: ``(b,)`` interned result dimensions (``-1``: inconsistent).
        complexity: Number of operators of every feature in the block.
    """

    op: str
    left: Tensor
    right: Tensor | None
    dim_ids: Tensor
    complexity: int

    def __len__(self) -> int:
        return int(self.left.numel())


def column_stats(values: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Means, centred norms and validity of feature columns.

    Args:
        values: ``(n, m)`` feature values.

    Returns:
        ``(mean, norm, valid)``, each ``(m,)``; ``valid`` is False for columns
        with a non-finite value, a non-finite norm or (near-)constant values.
    """
    finite = torch.isfinite(values).all(dim=0)
    safe = torch.where(finite, values, torch.zeros((), dtype=values.dtype, device=values.device))
    mean = safe.mean(dim=0)
    norm = torch.linalg.vector_norm(safe - mean, dim=0)
    scale = torch.linalg.vector_norm(safe, dim=0)
    valid = finite & torch.isfinite(norm) & (norm > CONSTANT_TOL * scale) & (norm > 0)
    return mean, norm, valid


class FeatureSpace:
    """Builds, stores and streams the SISSO feature space.

    Args:
        unary: Unary operators.
        binary: Binary operators.
        max_complexity: Largest number of operators in a feature (the rung).
        check_units: Enforce the dimension rules.
        block_size: Candidate features evaluated at once.
        max_memory_bytes: Largest size of the stored top level before it is
            streamed instead.
    """

    def __init__(
        self,
        unary: Sequence[UnaryOp],
        binary: Sequence[BinaryOp],
        *,
        max_complexity: int = 1,
        check_units: bool = True,
        block_size: int = 8192,
        max_memory_bytes: float = 2**30,
    ) -> None:
        if max_complexity < 0:
            raise ValueError(f"max_complexity must be >= 0, got {max_complexity}")
        self.unary = list(unary)
        self.binary = list(binary)
        self.max_complexity = max_complexity
        self.check_units = check_units
        self.block_size = block_size
        self.max_memory_bytes = max_memory_bytes
        self.features: list[Feature] = []
        self.stats: dict[str, int] = {}
        self.top_blocks: list[Block] = []
        self._dims: list[Dimension | None] = []
        self._dim_ids: dict[Dimension | None, int] = {}

    # ------------------------------------------------------------------ dimensions
    def _intern(self, dim: Dimension | None) -> int:
        if dim is None:
            return -1
        if dim not in self._dim_ids:
            self._dim_ids[dim] = len(self._dims)
            self._dims.append(dim)
        return self._dim_ids[dim]

    def _dimension(self, dim_id: int) -> Dimension | None:
        return None if dim_id < 0 else self._dims[dim_id]

    def _unary_dims(self, op: UnaryOp, operand_ids: Tensor) -> Tensor:
        table = {
            i: self._intern(None if i < 0 else op.dimension(self._dims[i]))
            for i in operand_ids.unique().tolist()
        }
        return torch.tensor([table[i] for i in operand_ids.tolist()], dtype=torch.long)

    def _binary_dims(self, op: BinaryOp, a_ids: Tensor, b_ids: Tensor) -> Tensor:
        if a_ids.numel() == 0:
            return torch.empty(0, dtype=torch.long)
        base = len(self._dims) + 1
        keys = (a_ids + 1) * base + (b_ids + 1)
        unique, inverse = torch.unique(keys, return_inverse=True)
        result = []
        for key in unique.tolist():
            a, b = key // base - 1, key % base - 1
            dim = None if a < 0 or b < 0 else op.dimension(self._dims[a], self._dims[b])
            result.append(self._intern(dim))
        return torch.tensor(result, dtype=torch.long)[inverse]

    # ------------------------------------------------------------------ building
    def build(self, x: Tensor, names: Sequence[str], dims: Sequence[Dimension]) -> FeatureSpace:
        """Construct the space from primary features.

        Args:
            x: ``(n, p)`` primary feature values (any float dtype, any device).
            names: ``p`` feature names.
            dims: ``p`` feature dimensions.

        Returns:
            ``self``, with ``features``, ``values`` ``(n, m)`` (the stored
            features), ``mean``/``norm`` ``(m,)``, ``stats`` and, when the top
            level is streamed, ``top_blocks``.

        Raises:
            ValueError: If no primary feature is usable, or a level below the
                top one does not fit in ``max_memory_bytes``.
        """
        n, p = x.shape
        self.n_samples = n
        self.device = x.device
        self.dtype = x.dtype
        mean, norm, valid = column_stats(x)
        self.stats = {"primary": p, "primary_rejected": int((~valid).sum())}
        keep = torch.nonzero(valid).flatten()
        if keep.numel() == 0:
            raise ValueError("no usable primary feature: every column is constant or non-finite")
        self.features = [Feature(names[j], None, (j,), 0, 1, dims[j]) for j in keep.tolist()]
        self._feature_dim = [self._intern(dims[j]) for j in keep.tolist()]
        self.values = x[:, keep]
        self.mean, self.norm = mean[keep], norm[keep]
        self._dedup(start=0)
        self.level_ranges: list[tuple[int, int]] = [(0, len(self.features))]
        self.streamed = False
        for level in range(1, self.max_complexity + 1):
            blocks = list(self._blocks(level))
            n_candidates = sum(len(b) for b in blocks)
            self.stats[f"level{level}_candidates"] = n_candidates
            nbytes = n_candidates * n * self.values.element_size()
            if nbytes > self.max_memory_bytes:
                if level < self.max_complexity:
                    raise ValueError(
                        f"level {level} of the feature space ({n_candidates} candidates, "
                        f"{nbytes / 2**20:.0f} MiB) exceeds max_memory; use fewer operators "
                        "or primary features, a lower max_complexity or a larger max_memory_mb"
                    )
                self.top_blocks = blocks
                self.streamed = True
                break
            start = len(self.features)
            parts: list[tuple[Tensor, Tensor, Tensor]] = [(self.values, self.mean, self.norm)]
            for block in blocks:
                values, mean, norm, valid = self.evaluate_block(block)
                idx = torch.nonzero(valid).flatten()
                self.features.extend(self.make_feature(block, i) for i in idx.tolist())
                self._feature_dim.extend(block.dim_ids[idx.cpu()].tolist())
                parts.append((values[:, idx], mean[idx], norm[idx]))
            self.values = torch.cat([v for v, _, _ in parts], dim=1)
            self.mean = torch.cat([m for _, m, _ in parts])
            self.norm = torch.cat([s for _, _, s in parts])
            del parts
            self.stats[f"level{level}_invalid"] = n_candidates - (len(self.features) - start)
            n_before = len(self.features)
            self._dedup(start=start)
            self.stats[f"level{level}_duplicates"] = n_before - len(self.features)
            self.level_ranges.append((start, len(self.features)))
        self.n_stored = len(self.features)
        self._extra_values: list[Tensor] = []
        return self

    def _dedup(self, start: int) -> None:
        """Drop features at index ``>= start`` that duplicate an earlier feature."""
        pairs = near_duplicate_pairs(self.values, self.mean, self.norm)
        if pairs.numel() == 0:
            return
        order = torch.arange(len(self.features), device=pairs.device)
        kept = greedy_keep(order, pairs)
        keep_mask = torch.zeros(len(self.features), dtype=torch.bool)
        keep_mask[kept.cpu()] = True
        keep_mask[:start] = True
        idx = torch.nonzero(keep_mask).flatten()
        self.features = [self.features[i] for i in idx.tolist()]
        self._feature_dim = [self._feature_dim[i] for i in idx.tolist()]
        idx = idx.to(self.values.device)
        self.values, self.mean, self.norm = self.values[:, idx], self.mean[idx], self.norm[idx]

    def make_feature(self, block: Block, position: int) -> Feature:
        """The :class:`Feature` at ``position`` of ``block``."""
        a = int(block.left[position])
        fa = self.features[a]
        dim = self._dimension(int(block.dim_ids[position]))
        if block.right is None:
            op = UNARY[block.op]
            return Feature(op.text(fa.name), op.name, (a,), block.complexity, fa.size + 1, dim)
        b = int(block.right[position])
        fb = self.features[b]
        name = BINARY[block.op].text(fa.name, fb.name)
        return Feature(name, block.op, (a, b), block.complexity, fa.size + fb.size + 1, dim)

    def _level(self, level: int) -> Tensor:
        start, stop = self.level_ranges[level]
        return torch.arange(start, stop)

    def _blocks(self, level: int) -> Iterator[Block]:
        """Candidate blocks of ``level`` whose dimensions pass the unit rules."""
        dim_of = torch.tensor(self._feature_dim, dtype=torch.long)
        for op in self.unary:
            operands = self._level(level - 1)
            dim_ids = self._unary_dims(op, dim_of[operands])
            yield from self._split(op.name, operands, None, dim_ids, level)
        for op in self.binary:
            left_parts, right_parts = [], []
            for a_level in range(0, (level - 1) // 2 + 1):
                a, b = self._level(a_level), self._level(level - 1 - a_level)
                if a_level == level - 1 - a_level:
                    ii, jj = torch.triu_indices(a.numel(), a.numel(), 1)
                    left, right = a[ii], a[jj]
                else:
                    left = a.repeat_interleave(b.numel())
                    right = b.repeat(a.numel())
                if op.same_dimension and self.check_units:
                    same = dim_of[left] == dim_of[right]
                    left, right = left[same], right[same]
                left_parts.append(left)
                right_parts.append(right)
                if op.ordered:
                    left_parts.append(right)
                    right_parts.append(left)
            left, right = torch.cat(left_parts), torch.cat(right_parts)
            dim_ids = self._binary_dims(op, dim_of[left], dim_of[right])
            yield from self._split(op.name, left, right, dim_ids, level)

    def _split(
        self, op: str, left: Tensor, right: Tensor | None, dim_ids: Tensor, level: int
    ) -> Iterator[Block]:
        if self.check_units:
            ok = dim_ids >= 0
            left, dim_ids = left[ok], dim_ids[ok]
            right = None if right is None else right[ok]
        for start in range(0, left.numel(), self.block_size):
            stop = start + self.block_size
            yield Block(
                op,
                left[start:stop],
                None if right is None else right[start:stop],
                dim_ids[start:stop],
                level,
            )

    def evaluate_block(self, block: Block) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Values and column statistics of a block.

        Returns:
            ``(values (n, b), mean (b,), norm (b,), valid (b,))``.
        """
        left = self.values[:, block.left.to(self.device)]
        with torch.no_grad():
            if block.right is None:
                values = UNARY[block.op].apply(left)
            else:
                values = BINARY[block.op].apply(left, self.values[:, block.right.to(self.device)])
        mean, norm, valid = column_stats(values)
        return values, mean, norm, valid

    # ------------------------------------------------------------------ access
    def add_streamed(self, block: Block, position: int, values: Tensor) -> int:
        """Store one streamed top-level feature and return its index.

        Args:
            block: The block it came from.
            position: Its position in the block.
            values: ``(n,)`` its values.
        """
        self.features.append(self.make_feature(block, position))
        self._feature_dim.append(int(block.dim_ids[position]))
        self._extra_values.append(values)
        return len(self.features) - 1

    def columns(self, indices: Sequence[int]) -> Tensor:
        """``(n, len(indices))`` values of stored or streamed-and-added features."""
        cols = [
            self.values[:, i] if i < self.n_stored else self._extra_values[i - self.n_stored]
            for i in indices
        ]
        if not cols:
            return self.values[:, :0]
        return torch.stack(cols, dim=1)


# ---------------------------------------------------------------------- fitted features
def prune(features: Sequence[Feature], roots: Sequence[int]) -> tuple[list[Feature], list[int]]:
    """Keep only ``roots`` and their operands, re-indexed.

    Args:
        features: A feature list whose ``args`` point into itself.
        roots: Indices of the features to keep.

    Returns:
        ``(compact list, new indices of roots)``.
    """
    needed: set[int] = set()
    stack = list(roots)
    while stack:
        i = stack.pop()
        if i in needed:
            continue
        needed.add(i)
        if features[i].op is not None:
            stack.extend(features[i].args)
    old = sorted(needed)
    new_of = {o: k for k, o in enumerate(old)}
    compact = []
    for o in old:
        f = features[o]
        args = f.args if f.op is None else tuple(new_of[a] for a in f.args)
        compact.append(Feature(f.name, f.op, args, f.complexity, f.size, f.dimension))
    return compact, [new_of[r] for r in roots]


def evaluate(features: Sequence[Feature], roots: Sequence[int], x: Tensor) -> Tensor:
    """Evaluate features on new primary data.

    Args:
        features: Feature list (e.g. from :func:`prune`).
        roots: Indices of the features wanted.
        x: ``(n, p)`` primary feature values, columns as at fit time.

    Returns:
        ``(n, len(roots))`` values; invalid operations give NaN or inf.
    """
    cache: dict[int, Tensor] = {}

    def value(i: int) -> Tensor:
        if i not in cache:
            f = features[i]
            if f.op is None:
                cache[i] = x[:, f.args[0]]
            elif f.op in UNARY:
                cache[i] = UNARY[f.op].apply(value(f.args[0]))
            else:
                cache[i] = BINARY[f.op].apply(value(f.args[0]), value(f.args[1]))
        return cache[i]

    with torch.no_grad():
        cols = [value(r) for r in roots]
    return torch.stack(cols, dim=1) if cols else x[:, :0]


def to_sympy(
    features: Sequence[Feature], index: int, symbols: Sequence[sympy.Symbol]
) -> sympy.Expr:
    """The sympy expression of one feature in the primary-feature ``symbols``."""
    f = features[index]
    if f.op is None:
        return symbols[f.args[0]]
    if f.op in UNARY:
        return UNARY[f.op].to_sympy(to_sympy(features, f.args[0], symbols))
    a = to_sympy(features, f.args[0], symbols)
    b = to_sympy(features, f.args[1], symbols)
    return BINARY[f.op].to_sympy(a, b)
