"""A tiny SAE model and hand-built graphs for interpretation tests."""

from __future__ import annotations

import torch

from sagatsr.model import SAGAT, fit_scalers
from sagatsr.train.data import LabelledGraphs
from tests.model.helpers import make_graphs, small_config

TINY = {
    "hidden": 8,
    "heads": 2,
    "layers": 1,
    "edge_dim": 8,
    "n_rbf": 8,
    "sae_basis": 4,
    "dropout": 0.0,
}


def tiny_graphs(count: int = 6, seed: int = 0) -> LabelledGraphs:
    """``count`` graphs (5-atom perovskites and 10-atom random cells) with ids ``g<i>``."""
    graphs = make_graphs(count, seed=seed)
    return LabelledGraphs(ids=[f"g{i}" for i in range(count)], graphs=graphs)


def tiny_model(graphs: LabelledGraphs, embedding: str = "sae", seed: int = 0) -> SAGAT:
    """An untrained but fitted-scaler model with target stats (mean 1, std 2)."""
    torch.manual_seed(seed)
    model = SAGAT(small_config(embedding, **TINY))
    fit_scalers(model, graphs.graphs)
    model.set_target_stats([1.0], [2.0])
    return model.eval()
