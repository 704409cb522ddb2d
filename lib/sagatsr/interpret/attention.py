"""Graph attention weights: which neighbours each atom listens to, by site role and shell.

Every attention layer gives each edge ``j -> i`` (neighbour ``j``, centre
``i``) one weight per head, a softmax over the neighbours of ``i``. Here the
weights of a model on a set of structures are collected per edge, layer and
head, labelled with the role pair (``B-X``: a B centre listening to an X
neighbour), the neighbour shell and the distance, and aggregated over a dataset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from sagatsr.features.catalog import ROLES
from sagatsr.graphs.packed import packed_loader

if TYPE_CHECKING:
    from sagatsr.model.network import SAGAT
    from sagatsr.train.data import LabelledGraphs

#: Columns of :func:`attention_weights`.
ATTENTION_COLUMNS = (
    "id",
    "centre",
    "neighbour",
    "centre_role",
    "neighbour_role",
    "role_pair",
    "shell",
    "distance",
    "layer",
    "head",
    "weight",
)


def _role_names(roles: np.ndarray) -> np.ndarray:
    names = np.array([*ROLES, "?"])
    return names[np.where((roles >= 0) & (roles < len(ROLES)), roles, len(ROLES))]


@torch.no_grad()
def attention_weights(
    model: SAGAT, graphs: LabelledGraphs, *, batch_size: int = 128
) -> pd.DataFrame:
    """Attention weight of every edge, layer and head.

    Args:
        model: A trained network.
        graphs: Structures with site roles (``role``); ``graphs.ids`` name them.
        batch_size: Structures per forward pass.

    Returns:
        One row per edge, layer and head: ``id``, ``centre`` and ``neighbour``
        (site indices within the structure), their roles, ``role_pair``
        (``"centre-neighbour"``), ``shell``, ``distance`` (angstrom), ``layer``
        and ``head`` (0-based) and ``weight``. For each centre, layer and head
        the weights over its neighbours sum to 1.
    """
    layers = list(model.layers)
    was_training = model.training
    model.eval()
    frames = []
    offset = 0
    for layer in layers:
        layer.record_attention = True
    try:
        for batch in packed_loader(graphs.graphs, batch_size):
            model(batch)
            src, dst = batch.edge_index.numpy()
            owner = batch.batch.numpy()[dst]
            starts = batch.ptr.numpy()[:-1][owner]
            roles = _role_names(batch.role.numpy())
            base = {
                "id": np.asarray(graphs.ids, dtype=object)[owner + offset],
                "centre": dst - starts,
                "neighbour": src - starts,
                "centre_role": roles[dst],
                "neighbour_role": roles[src],
                "shell": batch.edge_shell.numpy(),
                "distance": batch.edge_distance.numpy().astype(np.float64),
            }
            for index, layer in enumerate(layers):
                weights = layer.last_attention.cpu().numpy()  # (E, h)
                for head in range(weights.shape[1]):
                    frames.append(
                        pd.DataFrame(
                            {**base, "layer": index, "head": head, "weight": weights[:, head]}
                        )
                    )
            offset += int(batch.num_graphs)
    finally:
        for layer in layers:
            layer.record_attention = False
            layer.last_attention = None
        model.train(was_training)
    frame = pd.concat(frames, ignore_index=True)
    frame["role_pair"] = frame["centre_role"] + "-" + frame["neighbour_role"]
    return frame[list(ATTENTION_COLUMNS)]


def aggregate_attention(
    weights: pd.DataFrame, by: tuple[str, ...] = ("role_pair", "shell")
) -> pd.DataFrame:
    """Mean attention weight and attention share per group, layer and head.

    Args:
        weights: :func:`attention_weights` output.
        by: Edge labels to group by (e.g. ``("role_pair", "shell")``).

    Returns:
        One row per group, layer and head: ``mean_weight`` (the average weight
        of one such edge), ``share`` (the part of all attention, summed over the
        dataset's centres, that goes to such edges; shares of a layer and head
        add up to 1), ``n_edges``.
    """
    keys = [*by, "layer", "head"]
    grouped = weights.groupby(keys, observed=True)["weight"]
    table = grouped.agg(mean_weight="mean", total="sum", n_edges="size").reset_index()
    totals = weights.groupby(["layer", "head"])["weight"].sum().rename("all")
    table = table.join(totals, on=["layer", "head"])
    table["share"] = table["total"] / table["all"]
    return (
        table.drop(columns=["total", "all"])
        .sort_values(["layer", "head", "share"], ascending=[True, True, False])
        .reset_index(drop=True)
    )
