"""Importance coefficients (ICs) of the self-adaptable encoding, per item and aggregated.

The SAE gives every structure a softmax over its global features and every
atom a softmax over its node features: ICs are dimensionless, non-negative and
sum to 1 over the features of one item. This module collects them from a model
into tables and summarises them per feature (mean, spread, rank), with labels
and units from the feature catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import torch

from sagatsr.features.catalog import ROLES, FeatureSpec, feature_specs
from sagatsr.features.elements import element_table
from sagatsr.graphs.packed import packed_loader
from sagatsr.model.network import SAGAT
from sagatsr.train.data import LabelledGraphs

Level = Literal["global", "node"]

#: Columns of :attr:`ImportanceTables.node_ic` that are not features.
NODE_META_COLUMNS: tuple[str, ...] = ("id", "site", "role", "element")

#: Columns describing a feature in aggregated tables.
DESCRIPTION_COLUMNS: tuple[str, ...] = ("feature", "label", "unit", "site", "level")


@dataclass
class ImportanceTables:
    """Importance coefficients of one model on some structures.

    Attributes:
        global_ic: ``(N, F_global)`` ICs, index = structure ids (name ``"id"``),
            columns = global feature names; each row sums to 1.
        node_ic: ``(n_atoms, 4 + F_node)``: one row per atom with ``id``
            (structure id), ``site`` (0-based index within the structure),
            ``role`` (``"A"``, ``"B"``, ``"X"``, or ``""`` when the graphs carry
            no roles), ``element`` (symbol), then one IC column per node
            feature; the IC part of each row sums to 1.
    """

    global_ic: pd.DataFrame
    node_ic: pd.DataFrame


def feature_names(model: SAGAT, level: Level) -> list[str]:
    """Names of a model's input features at one level.

    Args:
        model: The network.
        level: ``"global"`` or ``"node"``.

    Returns:
        The names stored in the model config, or ``global_<i>`` / ``node_<i>``
        when the config has none.

    Raises:
        ValueError: For an unknown level.
    """
    config = model.config
    if level == "global":
        names, count = config.global_feature_names, config.n_global_features
    elif level == "node":
        names, count = config.node_feature_names, config.n_node_features
    else:
        raise ValueError(f"level must be 'global' or 'node', got {level!r}")
    return list(names) if names else [f"{level}_{i}" for i in range(count)]


def has_importance(model: SAGAT) -> bool:
    """Whether the model's encoder gives importance coefficients (only ``"sae"`` does)."""
    return model.config.embedding == "sae"


def _require_ic(model: SAGAT) -> None:
    if not has_importance(model):
        raise ValueError(
            f"the model uses the {model.config.embedding!r} embedding, which has no importance "
            "coefficients; only models with embedding='sae' can be interpreted this way "
            "(permutation_importance works for every embedding)"
        )


def element_symbols(z: np.ndarray) -> list[str]:
    """Element symbols of atomic numbers.

    Args:
        z: ``(n,)`` atomic numbers.

    Returns:
        Symbols; numbers outside the shipped tables become ``"Z<number>"``.
    """
    symbols = element_table().symbols
    return [symbols[int(v)] if 0 < int(v) < len(symbols) else f"Z{int(v)}" for v in z]


@torch.no_grad()
def importance_coefficients(
    model: SAGAT, graphs: LabelledGraphs, *, batch_size: int = 256
) -> ImportanceTables:
    """Global and node importance coefficients of a model on labelled graphs.

    The model is run in eval mode (no dropout); its training flag is restored.

    Args:
        model: A trained network with ``embedding="sae"``.
        graphs: The structures; ``graphs.ids`` name the rows.
        batch_size: Graphs per forward pass.

    Returns:
        The IC tables (see :class:`ImportanceTables`).

    Raises:
        ValueError: If the model has no importance coefficients (``"fcn"`` or
            ``"onehot"`` embedding) or ``ids`` and ``graphs`` differ in length.
    """
    _require_ic(model)
    if len(graphs.ids) != len(graphs.graphs):
        raise ValueError(f"{len(graphs.ids)} ids for {len(graphs.graphs)} graphs")
    global_names = feature_names(model, "global")
    node_names = feature_names(model, "node")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    global_parts: list[np.ndarray] = []
    node_parts: list[np.ndarray] = []
    graph_index: list[np.ndarray] = []
    site_index: list[np.ndarray] = []
    roles: list[np.ndarray] = []
    numbers: list[np.ndarray] = []
    has_roles = all(getattr(g, "role", None) is not None for g in graphs.graphs)
    offset = 0
    try:
        for batch in packed_loader(graphs.graphs, batch_size):
            batch = batch.to(device)
            _, ic = model(batch, return_ic=True)
            global_parts.append(ic["global_ic"].cpu().numpy())
            node_parts.append(ic["node_ic"].cpu().numpy())
            owner = batch.batch.cpu().numpy()
            starts = batch.ptr.cpu().numpy()[:-1]
            graph_index.append(owner + offset)
            site_index.append(np.arange(owner.size) - starts[owner])
            numbers.append(batch.z.cpu().numpy())
            if has_roles:
                roles.append(batch.role.cpu().numpy())
            offset += int(batch.num_graphs)
    finally:
        model.train(was_training)

    ids = pd.Index(list(graphs.ids), name="id")
    if not graphs.graphs:
        empty_nodes = pd.DataFrame(columns=[*NODE_META_COLUMNS, *node_names])
        return ImportanceTables(pd.DataFrame(columns=global_names, index=ids), empty_nodes)
    global_ic = pd.DataFrame(
        np.concatenate(global_parts).astype(np.float64), index=ids, columns=global_names
    )
    owners = np.concatenate(graph_index)
    if has_roles:
        role_codes = np.concatenate(roles)
        role_names = [
            ROLES[int(r)] if 0 <= int(r) < len(ROLES) else str(int(r)) for r in role_codes
        ]
    else:
        role_names = [""] * owners.size
    meta = pd.DataFrame(
        {
            "id": np.asarray(graphs.ids, dtype=object)[owners],
            "site": np.concatenate(site_index).astype(np.int64),
            "role": role_names,
            "element": element_symbols(np.concatenate(numbers)),
        }
    )
    values = pd.DataFrame(np.concatenate(node_parts).astype(np.float64), columns=node_names)
    return ImportanceTables(global_ic, pd.concat([meta, values], axis=1))


def _catalog() -> dict[str, FeatureSpec]:
    return {spec.name: spec for spec in feature_specs()}


def _describe(names: list[str], level: Level) -> pd.DataFrame:
    """Catalog description of features (empty label/unit/site for unknown names)."""
    catalog = _catalog()
    rows = []
    for name in names:
        spec = catalog.get(name)
        rows.append(
            {
                "feature": name,
                "label": spec.label if spec else "",
                "unit": spec.unit if spec else "",
                "site": spec.site if spec else "",
                "level": spec.level if spec else level,
            }
        )
    return pd.DataFrame(rows, columns=list(DESCRIPTION_COLUMNS))


def _ranked(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``rank`` (1 = largest ``mean_ic``, ties by feature order) and sort by it."""
    frame["rank"] = frame["mean_ic"].rank(ascending=False, method="first").astype(np.int64)
    return frame.sort_values("rank").reset_index(drop=True)


def aggregate_global(global_ic: pd.DataFrame) -> pd.DataFrame:
    """Summarise global ICs per feature.

    Args:
        global_ic: ``(N, F_global)`` ICs, e.g. :attr:`ImportanceTables.global_ic`.

    Returns:
        One row per feature, sorted by ``rank``, with columns ``feature``,
        ``label``, ``unit`` (the unit of the feature's value; ICs themselves
        are dimensionless), ``site``, ``level``, ``mean_ic``, ``std_ic``
        (population standard deviation over structures), ``median_ic`` and
        ``rank`` (1 = largest mean IC). Features missing from the catalog keep
        an empty label, unit and site.
    """
    values = global_ic.astype(np.float64)
    frame = _describe([str(c) for c in values.columns], "global")
    frame["mean_ic"] = values.mean(axis=0).to_numpy()
    frame["std_ic"] = values.std(axis=0, ddof=0).to_numpy()
    frame["median_ic"] = values.median(axis=0).to_numpy()
    return _ranked(frame)


def node_feature_columns(node_ic: pd.DataFrame) -> list[str]:
    """The IC columns of a node table (every column but ``id``, ``site``, ``role``, ``element``)."""
    return [str(c) for c in node_ic.columns if c not in NODE_META_COLUMNS]


def aggregate_node(node_ic: pd.DataFrame, by_role: bool = True) -> pd.DataFrame:
    """Summarise node ICs per feature, over all atoms and per site role.

    Args:
        node_ic: :attr:`ImportanceTables.node_ic`.
        by_role: Add one column per role with the mean IC over the atoms of
            that role: ``A``, ``B``, ``X`` (always; ``nan`` when no atom has
            the role), then any other role found, sorted.

    Returns:
        One row per node feature, sorted by ``rank``, with columns ``feature``,
        ``label``, ``unit``, ``site``, ``level``, ``mean_ic``, ``std_ic``,
        ``median_ic`` (over all atoms), the role columns and ``rank``
        (1 = largest mean IC over all atoms).
    """
    names = node_feature_columns(node_ic)
    values = node_ic[names].astype(np.float64)
    frame = _describe(names, "node")
    frame["mean_ic"] = values.mean(axis=0).to_numpy()
    frame["std_ic"] = values.std(axis=0, ddof=0).to_numpy()
    frame["median_ic"] = values.median(axis=0).to_numpy()
    if by_role and "role" in node_ic.columns:
        found = {str(r) for r in node_ic["role"].unique()} - set(ROLES) - {""}
        means = values.groupby(node_ic["role"].astype(str).to_numpy()).mean()
        for role in (*ROLES, *sorted(found)):
            frame[role] = means.loc[role].to_numpy() if role in means.index else np.nan
    return _ranked(frame)


def top_features(aggregated: pd.DataFrame, k: int) -> list[str]:
    """The ``k`` most important features of an aggregated table.

    Args:
        aggregated: Output of :func:`aggregate_global` or :func:`aggregate_node`
            (ordered by ``rank``, or by ``mean_ic`` when there is no rank).
        k: How many (``k >= 0``; fewer when the table is shorter).

    Returns:
        Feature names, most important first.

    Raises:
        ValueError: If ``k`` is negative.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if "rank" in aggregated.columns:
        ordered = aggregated.sort_values("rank", kind="stable")
    else:
        ordered = aggregated.sort_values("mean_ic", ascending=False, kind="stable")
    return [str(name) for name in ordered["feature"].head(k)]


def mean_ic_series(aggregated: pd.DataFrame | pd.Series) -> pd.Series:
    """Mean IC per feature as a Series indexed by feature name.

    Args:
        aggregated: An aggregated table (``feature`` and ``mean_ic`` columns)
            or already a Series indexed by feature.

    Returns:
        ``mean_ic`` indexed by feature.
    """
    if isinstance(aggregated, pd.Series):
        return aggregated.astype(np.float64)
    return pd.Series(
        aggregated["mean_ic"].to_numpy(dtype=np.float64),
        index=pd.Index(aggregated["feature"].astype(str), name="feature"),
        name="mean_ic",
    )


def importance_matrix(runs: Mapping[str, pd.DataFrame | pd.Series]) -> pd.DataFrame:
    """Mean ICs of several runs side by side, for heatmaps (features x runs).

    Args:
        runs: ``{run name: aggregated table}`` (e.g. one per property or
            subset), each an output of :func:`aggregate_global` /
            :func:`aggregate_node` or a Series of mean ICs indexed by feature.

    Returns:
        ``(n_features, n_runs)`` mean ICs, index = every feature seen (name
        ``"feature"``), columns = run names in the given order, ``nan`` where
        a run lacks a feature; rows ordered by their mean over runs, largest
        first.
    """
    if not runs:
        return pd.DataFrame(index=pd.Index([], name="feature"))
    matrix = pd.concat({name: mean_ic_series(table) for name, table in runs.items()}, axis=1)
    matrix.index.name = "feature"
    order = matrix.mean(axis=1, skipna=True).sort_values(ascending=False, kind="stable").index
    return matrix.loc[order]
