"""A saved model predicts crystal structures itself, with the graph settings it was trained on.

Graphs go from their numpy arrays straight into tensor batches
(:mod:`sagatsr.graphs.tensor_batch`): prediction imports no PyTorch Geometric.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from pymatgen.core import Structure

from sagatsr.graphs.arrays import GraphArrays, featurizer_key
from sagatsr.graphs.batch_build import build_graphs
from sagatsr.graphs.tensor_batch import iter_batches

if TYPE_CHECKING:
    from sagatsr.model.network import SAGAT


def structure_arrays(
    model: SAGAT, structures: Sequence[Structure], *, workers: int = 1
) -> list[GraphArrays]:
    """Graphs of ``structures`` built with the model's neighbour settings.

    Args:
        model: A trained network.
        structures: Ordered pymatgen structures.
        workers: Processes that build the graphs (1: none).

    Returns:
        One graph's arrays per structure, in order.

    Raises:
        ValueError: If this version's featurizer differs from the model's (the
            features would not mean what the model learned).
        sagatsr.graphs.batch_build.GraphBuildError: Naming the first structure
            (by position) whose graph cannot be built.
    """
    settings = model.config.neighbors
    expected = featurizer_key(settings)
    if model.config.catalog_version and model.config.catalog_version != expected:
        raise ValueError(
            f"the model was trained on features {model.config.catalog_version!r}; this version "
            f"builds {expected!r}: retrain the model"
        )
    items = [(f"structure {index}", structure) for index, structure in enumerate(structures)]
    built = build_graphs(items, settings, workers=workers, on_error="error")
    return [built.graphs[item_id] for item_id, _ in items]


def predict_arrays_with_ic(
    model: SAGAT, graphs: Sequence[GraphArrays], *, batch_size: int = 256
) -> tuple[np.ndarray, np.ndarray | None]:
    """Predictions ``(N, T)`` in physical units and global ICs ``(N, F)`` (``None`` without SAE).

    Runs in eval mode in batches; the model's training flag is restored.
    """
    return predict_members_with_ic([model], graphs, batch_size=batch_size)[0]


@torch.no_grad()
def predict_members_with_ic(
    models: Sequence[SAGAT], graphs: Sequence[GraphArrays], *, batch_size: int = 256
) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """:func:`predict_arrays_with_ic` of several models (an ensemble's members) on the same graphs.

    Each batch is collated once and run through every model.

    Args:
        models: Trained networks with the same number of targets.
        graphs: The graphs' arrays.
        batch_size: Graphs per forward pass.

    Returns:
        Per model, its predictions ``(N, T)`` in physical units and global ICs
        ``(N, F)`` (``None`` without SAE).
    """
    if not graphs:
        return [(np.zeros((0, m.config.n_targets)), None) for m in models]
    was_training = [m.training for m in models]
    devices = [next(m.parameters()).device for m in models]
    values: list[list[torch.Tensor]] = [[] for _ in models]
    ics: list[list[torch.Tensor]] = [[] for _ in models]
    try:
        for m in models:
            m.eval()
        for batch in iter_batches(graphs, batch_size):
            for index, (m, device) in enumerate(zip(models, devices, strict=True)):
                out, ic = m(batch.to(device), return_ic=True)
                values[index].append((out * m.target_std + m.target_mean).cpu())
                if ic["global_ic"] is not None:
                    ics[index].append(ic["global_ic"].cpu())
    finally:
        for m, training in zip(models, was_training, strict=True):
            m.train(training)
    return [
        (torch.cat(v).numpy(), torch.cat(i).numpy() if i else None)
        for v, i in zip(values, ics, strict=True)
    ]
