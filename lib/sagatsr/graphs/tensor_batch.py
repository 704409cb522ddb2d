"""Graph arrays straight to a batch of tensors, without PyTorch Geometric.

Prediction needs no ``Data`` objects: :func:`batch_arrays` concatenates the numpy
arrays of a few hundred graphs into the tensors the network reads, the same
values in the same order as the PyG ``Batch`` of
:meth:`sagatsr.graphs.packed.PackedGraphs.collate` (node features, global
features, edges offset to the batch's node numbering, ``batch`` and ``ptr``).
Importing this module loads torch but not PyTorch Geometric.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import Tensor

from sagatsr.graphs.arrays import GraphArrays


@dataclass(frozen=True)
class TensorBatch:
    """Several crystal graphs as concatenated tensors (what the network's forward reads).

    Attributes:
        x: ``(n, F_node)`` float32 raw node features.
        u: ``(B, F_global)`` float32 raw global features.
        z: ``(n,)`` int64 atomic numbers.
        role: ``(n,)`` int64 site roles.
        edge_index: ``(2, E)`` int64 (neighbour, centre) in the batch's node numbering.
        edge_distance: ``(E,)`` float32 distances in angstrom.
        edge_shell: ``(E,)`` int64 shell indices.
        batch: ``(n,)`` int64 graph of each node.
        ptr: ``(B + 1,)`` int64 first node of each graph, then ``n``.
    """

    x: Tensor
    u: Tensor
    z: Tensor
    role: Tensor
    edge_index: Tensor
    edge_distance: Tensor
    edge_shell: Tensor
    batch: Tensor
    ptr: Tensor

    @property
    def num_graphs(self) -> int:
        """Number of graphs ``B``."""
        return int(self.u.shape[0])

    def to(self, device: torch.device | str) -> TensorBatch:
        """The batch on ``device``."""
        return TensorBatch(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})


def batch_arrays(graphs: Sequence[GraphArrays]) -> TensorBatch:
    """Concatenate graphs into one batch.

    Args:
        graphs: One or more graphs' arrays.

    Returns:
        The batch, graphs in the given order.

    Raises:
        ValueError: If ``graphs`` is empty.
    """
    if not graphs:
        raise ValueError("cannot batch an empty list of graphs")
    n_nodes = np.array([g.atomic_numbers.shape[0] for g in graphs], dtype=np.int64)
    n_edges = np.array([g.edge_index.shape[1] for g in graphs], dtype=np.int64)
    ptr = np.zeros(len(graphs) + 1, dtype=np.int64)
    np.cumsum(n_nodes, out=ptr[1:])
    edge_index = np.concatenate([g.edge_index for g in graphs], axis=1)
    edge_index = edge_index + np.repeat(ptr[:-1], n_edges)
    return TensorBatch(
        x=torch.from_numpy(np.concatenate([g.node_features for g in graphs])),
        u=torch.from_numpy(np.stack([g.global_features for g in graphs])),
        z=torch.from_numpy(np.concatenate([g.atomic_numbers for g in graphs])),
        role=torch.from_numpy(np.concatenate([g.roles for g in graphs])),
        edge_index=torch.from_numpy(edge_index),
        edge_distance=torch.from_numpy(np.concatenate([g.edge_distance for g in graphs])),
        edge_shell=torch.from_numpy(np.concatenate([g.edge_shell for g in graphs])),
        batch=torch.from_numpy(np.repeat(np.arange(len(graphs), dtype=np.int64), n_nodes)),
        ptr=torch.from_numpy(ptr),
    )


def iter_batches(graphs: Sequence[GraphArrays], batch_size: int) -> Iterator[TensorBatch]:
    """Batches of ``batch_size`` graphs (the last one smaller), in order."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    for start in range(0, len(graphs), batch_size):
        yield batch_arrays(graphs[start : start + batch_size])
