"""Small hand-built crystal graphs following the contract of sagatsr.graphs.build.to_data."""

from __future__ import annotations

import itertools

import numpy as np
import torch
from torch_geometric.data import Data

from sagatsr.model import ModelConfig

F_NODE = 7
F_GLOBAL = 23

PEROVSKITE_FRAC = np.array(
    [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]], dtype=float
)


def neighbour_arrays(
    frac: np.ndarray, lattice: np.ndarray, max_neighbors: int = 12, tol: float = 0.02
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Periodic k-nearest neighbours with ties and shell indices (images -1..1)."""
    cart = frac @ lattice
    images = np.array(list(itertools.product((-1, 0, 1), repeat=3)), dtype=float) @ lattice
    src, dst, dist, shell = [], [], [], []
    for i in range(len(frac)):
        d = np.linalg.norm(cart[:, None, :] + images[None, :, :] - cart[i], axis=-1)  # (n, 27)
        pairs = sorted(
            (float(d[j, m]), j) for j in range(len(frac)) for m in range(27) if d[j, m] > 1e-6
        )
        kth = pairs[max_neighbors - 1][0]
        kept = [p for p in pairs if p[0] <= kth + tol]
        dists = np.array([p[0] for p in kept])
        shells = np.concatenate(([0], np.cumsum(np.diff(dists) > tol)))
        src += [p[1] for p in kept]
        dst += [i] * len(kept)
        dist += list(dists)
        shell += list(np.minimum(shells, 7))
    return (
        np.array([src, dst], dtype=np.int64),
        np.array(dist, dtype=np.float32),
        np.array(shell, dtype=np.int64),
    )


def raw_features(rng: np.random.Generator, n: int, f: int) -> np.ndarray:
    """Raw features with wildly different per-feature scales and offsets; column 0 constant."""
    scales = 10.0 ** np.linspace(-3, 3, f)
    offsets = 10.0 ** np.linspace(2, -2, f)
    values = rng.normal(size=(n, f)) * scales + offsets
    values[:, 0] = 4.2
    return values.astype(np.float32)


def make_graph(
    seed: int,
    *,
    n_atoms: int = 5,
    f_node: int = F_NODE,
    f_global: int = F_GLOBAL,
    n_targets: int = 1,
) -> Data:
    """A 5-atom cubic perovskite-like graph, or a random ``n_atoms`` cell, random features."""
    rng = np.random.default_rng(seed)
    if n_atoms == 5:
        frac = PEROVSKITE_FRAC
        lattice = np.eye(3) * rng.uniform(3.6, 4.4)
        z = np.array([19 + seed % 40, 22 + seed % 9, 8, 8, 8])  # distinct A, B per seed
        role = np.array([0, 1, 2, 2, 2])
    else:
        frac = rng.uniform(size=(n_atoms, 3))
        lattice = np.eye(3) * 5.5 + rng.normal(scale=0.3, size=(3, 3))
        z = rng.integers(1, 84, size=n_atoms)
        role = rng.integers(0, 3, size=n_atoms)
    edge_index, distance, shell = neighbour_arrays(frac, lattice)
    return Data(
        x=torch.from_numpy(raw_features(rng, n_atoms, f_node)),
        u=torch.from_numpy(raw_features(rng, 1, f_global)),
        z=torch.from_numpy(z.astype(np.int64)),
        role=torch.from_numpy(role.astype(np.int64)),
        edge_index=torch.from_numpy(edge_index),
        edge_distance=torch.from_numpy(distance),
        edge_shell=torch.from_numpy(shell),
        y=torch.from_numpy(rng.normal(size=(1, n_targets)).astype(np.float32)),
        num_nodes=n_atoms,
    )


def make_graphs(count: int, seed: int = 0, **kwargs: int) -> list[Data]:
    """``count`` graphs alternating 5-atom perovskites and 10-atom random cells."""
    return [make_graph(seed + i, n_atoms=5 if i % 2 == 0 else 10, **kwargs) for i in range(count)]


def small_config(embedding: str = "sae", **overrides: object) -> ModelConfig:
    """A small, fast configuration for tests."""
    values: dict[str, object] = {
        "n_node_features": F_NODE,
        "n_global_features": F_GLOBAL,
        "node_feature_names": tuple(f"node_{i}" for i in range(F_NODE)),
        "global_feature_names": tuple(f"global_{i}" for i in range(F_GLOBAL)),
        "embedding": embedding,
        "hidden": 32,
        "heads": 4,
        "layers": 2,
        "edge_dim": 16,
        "n_rbf": 16,
        "catalog_version": "test-1",
    }
    values.update(overrides)
    return ModelConfig(**values)  # type: ignore[arg-type]
