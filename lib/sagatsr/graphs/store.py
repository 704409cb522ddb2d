"""A prepared dataset's graphs in one ``.npz`` file (concatenated arrays + offsets).

Loading is a handful of array reads; single graphs are sliced out on demand, and
the per-structure global features are available as one ``(N, F_global)`` matrix
for tables, plots and symbolic regression.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from sagatsr.graphs.arrays import GraphArrays
from sagatsr.io_utils import atomic_open

STORE_FORMAT = "sagatsr-graphs-1"


def save_graph_store(
    path: str | os.PathLike[str],
    graphs: Mapping[str, GraphArrays],
    *,
    featurizer: str,
) -> None:
    """Write graphs to ``path`` atomically.

    Args:
        path: Destination ``.npz`` file.
        graphs: Graph arrays keyed by id (the order is kept).
        featurizer: :func:`sagatsr.graphs.arrays.featurizer_key` of the graphs.
    """
    ids = list(graphs)
    items = [graphs[i] for i in ids]
    n_nodes = np.array([g.atomic_numbers.shape[0] for g in items], dtype=np.int64)
    n_edges = np.array([g.edge_distance.shape[0] for g in items], dtype=np.int64)

    def cat(name: str, axis: int = 0) -> np.ndarray:
        if not items:
            return np.zeros((0,), dtype=np.float32)
        return np.concatenate([getattr(g, name) for g in items], axis=axis)

    payload = {
        "format": np.array(STORE_FORMAT),
        "featurizer": np.array(featurizer),
        "ids": np.array(ids, dtype=str),
        "node_ptr": np.concatenate(([0], np.cumsum(n_nodes))),
        "edge_ptr": np.concatenate(([0], np.cumsum(n_edges))),
        "node_features": cat("node_features"),
        "global_features": np.stack([g.global_features for g in items])
        if items
        else np.zeros((0, 0), np.float32),
        "atomic_numbers": cat("atomic_numbers"),
        "roles": cat("roles"),
        "edge_index": cat("edge_index", axis=1) if items else np.zeros((2, 0), np.int64),
        "edge_distance": cat("edge_distance"),
        "edge_shell": cat("edge_shell"),
        "is_perovskite": np.array([g.is_perovskite for g in items], dtype=bool),
    }
    with atomic_open(path, "wb") as handle:
        np.savez(handle, **payload)


def _read_store(path: Path, keys: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """The arrays of a graph store (all, or only ``keys``), its format checked."""
    if not path.is_file():
        raise FileNotFoundError(f"graph store {path} does not exist")
    with np.load(path, allow_pickle=False) as npz:
        store_format = str(npz["format"]) if "format" in npz.files else ""
        if store_format != STORE_FORMAT:
            raise ValueError(f"{path} is not a {STORE_FORMAT} graph store")
        return {key: npz[key] for key in (npz.files if keys is None else keys)}


def read_store_ids(path: str | os.PathLike[str]) -> list[str]:
    """The ids of a graph store, without reading its graphs' arrays.

    Args:
        path: A file written by :func:`save_graph_store`.

    Returns:
        The ids, in the store's order.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file is not a graph store of this format.
    """
    return _read_store(Path(path), ["ids"])["ids"].tolist()


class GraphStore:
    """Read access to a saved graph store.

    Args:
        path: A file written by :func:`save_graph_store`.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file is not a graph store of this format.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        arrays = _read_store(self.path)
        self.featurizer = str(arrays.pop("featurizer"))
        self.ids: list[str] = arrays.pop("ids").tolist()
        self._arrays = arrays
        self._index = {graph_id: i for i, graph_id in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, graph_id: object) -> bool:
        return graph_id in self._index

    def index_of(self, ids: Sequence[str]) -> np.ndarray:
        """Positions of ``ids`` in the store.

        Raises:
            KeyError: Naming the first id that is not stored.
        """
        try:
            return np.array([self._index[i] for i in ids], dtype=np.int64)
        except KeyError as error:
            raise KeyError(f"id {error.args[0]!r} is not in graph store {self.path}") from None

    @property
    def global_features(self) -> np.ndarray:
        """``(N, F_global)`` float32 matrix of raw global features, store order."""
        return self._arrays["global_features"]

    @property
    def node_features(self) -> np.ndarray:
        """``(total_nodes, F_node)`` float32 raw node features of all graphs."""
        return self._arrays["node_features"]

    @property
    def node_roles(self) -> np.ndarray:
        """``(total_nodes,)`` int64 site roles of all graphs."""
        return self._arrays["roles"]

    @property
    def is_perovskite(self) -> np.ndarray:
        """``(N,)`` bool, whether each structure passed the perovskite rules."""
        return self._arrays["is_perovskite"]

    def graphs_of(self, ids: Sequence[str]) -> list[GraphArrays]:
        """The arrays of the graphs of ``ids``, in that order (views, not copies).

        Raises:
            KeyError: Naming the first id that is not stored.
        """
        return [self.graph(int(position)) for position in self.index_of(ids)]

    def graph(self, position: int) -> GraphArrays:
        """The arrays of the graph at ``position`` (views, not copies)."""
        a = self._arrays
        n0, n1 = a["node_ptr"][position], a["node_ptr"][position + 1]
        e0, e1 = a["edge_ptr"][position], a["edge_ptr"][position + 1]
        return GraphArrays(
            node_features=a["node_features"][n0:n1],
            global_features=a["global_features"][position],
            atomic_numbers=a["atomic_numbers"][n0:n1],
            roles=a["roles"][n0:n1],
            edge_index=a["edge_index"][:, e0:e1],
            edge_distance=a["edge_distance"][e0:e1],
            edge_shell=a["edge_shell"][e0:e1],
            is_perovskite=bool(a["is_perovskite"][position]),
        )
