"""Crystal graph arrays -> PyTorch Geometric ``Data`` (the arrays: :mod:`sagatsr.graphs.arrays`)."""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import Data

from sagatsr.graphs.arrays import GraphArrays


def to_data(arrays: GraphArrays, *, graph_id: str = "", y: np.ndarray | None = None) -> Data:
    """Wrap graph arrays in a PyTorch Geometric ``Data`` object.

    Args:
        arrays: Output of :func:`build_graph_arrays`.
        graph_id: Entry id, kept as ``data.id``.
        y: ``(T,)`` target values (nan for missing); stored as ``(1, T)`` float32.

    Returns:
        ``Data`` with ``x`` ``(n, F_node)``, ``u`` ``(1, F_global)``, ``z``
        ``(n,)``, ``role`` ``(n,)``, ``edge_index`` ``(2, E)``, ``edge_distance``
        ``(E,)``, ``edge_shell`` ``(E,)`` and optionally ``y`` ``(1, T)``.
    """
    data = Data(
        x=torch.from_numpy(arrays.node_features),
        u=torch.from_numpy(arrays.global_features).unsqueeze(0),
        z=torch.from_numpy(arrays.atomic_numbers),
        role=torch.from_numpy(arrays.roles),
        # A store's edge_index is a strided view of one (2, E_total) array, and
        # torch.from_numpy keeps the whole span it covers (half the store) as the
        # tensor's storage: pickling such graphs to other processes (data-parallel
        # spawn) copied that span per graph. A contiguous copy owns only its edges.
        edge_index=torch.from_numpy(np.ascontiguousarray(arrays.edge_index)),
        edge_distance=torch.from_numpy(arrays.edge_distance),
        edge_shell=torch.from_numpy(arrays.edge_shell),
        num_nodes=int(arrays.atomic_numbers.shape[0]),
    )
    data.id = graph_id
    if y is not None:
        data.y = torch.as_tensor(np.asarray(y, dtype=np.float32)).reshape(1, -1)
    return data
