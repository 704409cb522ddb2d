"""Graphs with targets for training, read from a prepared dataset folder."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Container, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch_geometric.data import Data

from sagatsr.data.splits import Split, load_split
from sagatsr.graphs.build import to_data
from sagatsr.prepare import PreparedDataset


@dataclass
class LabelledGraphs:
    """Graphs of some ids with one target.

    Attributes:
        ids: Ids of the graphs, in order.
        graphs: PyG ``Data`` with ``y`` ``(1, 1)`` in the target's unit.
        excluded: ``(id, reason)`` of ids left out (missing target or graph).
    """

    ids: list[str] = field(default_factory=list)
    graphs: list[Data] = field(default_factory=list)
    excluded: list[tuple[str, str]] = field(default_factory=list)

    @property
    def targets(self) -> np.ndarray:
        """``(N,)`` target values."""
        return np.array([float(g.y.reshape(-1)[0]) for g in self.graphs])

    def __add__(self, other: LabelledGraphs) -> LabelledGraphs:
        """Both collections, ``self``'s graphs first (an id in both is an error)."""
        shared = sorted(set(self.ids) & set(other.ids))
        if shared:
            raise ValueError(f"{len(shared)} id(s) in both collections, e.g. {shared[0]!r}")
        return LabelledGraphs(
            [*self.ids, *other.ids],
            [*self.graphs, *other.graphs],
            [*self.excluded, *other.excluded],
        )

    def sample(self, n: int, seed: int) -> LabelledGraphs:
        """A seeded random ``n`` of the graphs, in their order (all of them when ``n >= N``).

        The excluded ids are kept: they were left out before the sampling.
        """
        if len(self.graphs) <= n:
            return self
        picks = np.sort(np.random.default_rng(seed).choice(len(self.graphs), n, replace=False))
        return LabelledGraphs(
            [self.ids[i] for i in picks], [self.graphs[i] for i in picks], list(self.excluded)
        )

    def fingerprint(self) -> str:
        """Content hash of the ids and of every graph's tensors and fields, in order.

        Two collections with the same fingerprint hold the same graphs with the
        same features and targets (a masked feature or a planted target changes
        it); a run records it so that it is never resumed on other data.

        Returns:
            Hex SHA-256 digest.
        """
        digest = hashlib.sha256(f"{len(self.graphs)} graphs".encode())
        for graph_id, graph in zip(self.ids, self.graphs, strict=True):
            digest.update(f"\0{graph_id}".encode())
            for key in sorted(graph.keys()):
                value = graph[key]
                if isinstance(value, torch.Tensor):
                    array = value.detach().cpu().contiguous().numpy()
                    digest.update(f"|{key}:{array.dtype}{array.shape}".encode())
                    digest.update(array.tobytes())
                else:
                    digest.update(f"|{key}={value!r}".encode())
        return digest.hexdigest()


def labelled_ids(
    prepared: PreparedDataset, ids: Sequence[str], target: str
) -> tuple[list[tuple[str, float]], list[tuple[str, str]]]:
    """The ids of ``ids`` that have a graph and a value of ``target``.

    Only the graph store's ids are read, not its graphs.

    Args:
        prepared: A prepared dataset.
        ids: Ids to take.
        target: A target of the dataset.

    Returns:
        ``(kept, excluded)``: ``(id, value)`` in the order of ``ids`` (value in the
        target's unit), and ``(id, reason)`` of the ids left out (no graph, or a
        missing target).

    Raises:
        KeyError: If ``target`` is not a target of the dataset.
    """
    return _labelled(prepared, ids, target, set(prepared.graph_ids()))


def _labelled(
    prepared: PreparedDataset, ids: Sequence[str], target: str, with_graph: Container[str]
) -> tuple[list[tuple[str, float]], list[tuple[str, str]]]:
    """:func:`labelled_ids`, given the ids that have a graph."""
    names = [t["name"] for t in prepared.manifest["targets"]]
    if target not in names:
        raise KeyError(f"{prepared.name} has no target {target!r} (targets: {', '.join(names)})")
    values = prepared.records()[target]
    kept: list[tuple[str, float]] = []
    excluded: list[tuple[str, str]] = []
    for graph_id in ids:
        if graph_id not in with_graph:
            excluded.append((graph_id, "no graph (see graph_failures.csv)"))
            continue
        value = float(values.get(graph_id, math.nan))
        if math.isnan(value):
            excluded.append((graph_id, f"missing target {target}"))
            continue
        kept.append((graph_id, value))
    return kept, excluded


def labelled_graphs(prepared: PreparedDataset, ids: Sequence[str], target: str) -> LabelledGraphs:
    """Graphs of ``ids`` labelled with ``target``.

    Args:
        prepared: A prepared dataset.
        ids: Ids to take.
        target: A target of the dataset.

    Returns:
        The graphs; ids without a graph or with a missing target are listed in
        ``excluded`` with the reason (:func:`labelled_ids`), never dropped silently.

    Raises:
        KeyError: If ``target`` is not a target of the dataset.
    """
    store = prepared.graphs()
    kept, excluded = _labelled(prepared, ids, target, store)
    out = LabelledGraphs(excluded=excluded)
    arrays = store.graphs_of([graph_id for graph_id, _ in kept])
    for (graph_id, value), graph in zip(kept, arrays, strict=True):
        out.ids.append(graph_id)
        out.graphs.append(to_data(graph, graph_id=graph_id, y=np.array([value])))
    return out


def load_split_parts(
    prepared: PreparedDataset, subset: str, split: str, target: str
) -> tuple[Split, dict[str, LabelledGraphs]]:
    """Train, validation and test graphs of a saved split.

    Args:
        prepared: A prepared dataset.
        subset: Subset name (``"all"``, ``"ABO3"``, ...).
        split: Split name (``"random"``, ``"matbench_fold0"``, ...).
        target: Target name.

    Returns:
        The split and ``{"train", "val", "test"}`` graphs.

    Raises:
        FileNotFoundError: If the split does not exist; the message lists the
            splits of the subset.
    """
    saved = saved_split(prepared, subset, split)
    parts = {
        part: labelled_graphs(prepared, getattr(saved, part), target)
        for part in ("train", "val", "test")
    }
    return saved, parts


def require_training_data(
    prepared: PreparedDataset, subset: str, split: str, target: str, *, min_validation: int = 1
) -> None:
    """Raise unless the split's training and validation parts have structures with ``target``.

    Reads ids and labels, not graphs: a command that trains several targets checks
    them all before it trains the first.

    Args:
        prepared: A prepared dataset.
        subset: Subset name.
        split: Split name.
        target: Target name.
        min_validation: Labelled validation structures needed (an ensemble's
            spread is calibrated on at least two).

    Raises:
        ValueError: Naming the empty part(s) and why their structures were left out.
        FileNotFoundError: If the split does not exist.
        KeyError: If ``target`` is not a target of the dataset.
    """
    saved = saved_split(prepared, subset, split)
    empty = {}
    needed = {"train": 1, "val": max(1, min_validation)}
    for part, minimum in needed.items():
        kept, excluded = labelled_ids(prepared, getattr(saved, part), target)
        if 0 < len(kept) < minimum:
            raise ValueError(
                f"{prepared.name}: the validation part of split {subset}/{split} has "
                f"{len(kept)} structure(s) with a value of {target!r}; {minimum} are needed "
                "(an ensemble calibrates its spread on them)"
            )
        if not kept:
            empty[part] = excluded
    if not empty:
        return
    reasons = Counter(reason for excluded in empty.values() for _, reason in excluded)
    detail = "; ".join(f"{count} x {reason}" for reason, count in reasons.most_common())
    parts = " and ".join({"train": "training", "val": "validation"}[part] for part in empty)
    plural = "s" if len(empty) > 1 else ""
    raise ValueError(
        f"{prepared.name}: no structure of the {parts} part{plural} of split {subset}/{split} "
        f"has a value of {target!r} ({detail or 'empty'})"
    )


def saved_split(prepared: PreparedDataset, subset: str, split: str) -> Split:
    """The ids of a saved split's parts.

    Raises:
        FileNotFoundError: If the split does not exist; the message lists the
            splits of the subset.
    """
    folder = prepared.out_dir / "splits" / subset / split
    subsets = prepared.out_dir / "splits"
    if not folder.parent.is_dir():
        with_splits = sorted(p.name for p in subsets.glob("*") if p.is_dir())
        size = prepared.manifest.get("subset_counts", {}).get(subset)
        known = f"{subset} has {size} structure(s)" if size is not None else "no such subset"
        raise FileNotFoundError(
            f"{prepared.name} has no splits of subset {subset!r} ({known}; subsets with "
            f"splits: {', '.join(with_splits) or 'none'})"
        )
    if not folder.is_dir():
        available = sorted(p.name for p in folder.parent.glob("*"))
        raise FileNotFoundError(
            f"{prepared.name} has no split {subset}/{split} (available: {', '.join(available)})"
        )
    return load_split(folder)
