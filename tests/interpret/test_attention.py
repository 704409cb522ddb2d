import numpy as np
import pytest
import torch

from sagatsr.interpret.attention import ATTENTION_COLUMNS, aggregate_attention, attention_weights
from sagatsr.model import SAGAT, fit_scalers
from sagatsr.train.data import LabelledGraphs
from tests.model.helpers import make_graphs, small_config


@pytest.fixture(scope="module")
def weights():
    torch.manual_seed(0)
    model = SAGAT(small_config())
    graphs = make_graphs(5)
    fit_scalers(model, graphs)
    table = attention_weights(
        model, LabelledGraphs([f"g{i}" for i in range(5)], graphs), batch_size=2
    )
    return model, graphs, table


def test_each_atom_s_attention_over_its_neighbours_sums_to_one_per_head(weights) -> None:
    model, graphs, table = weights
    assert list(table.columns) == list(ATTENTION_COLUMNS)
    sums = table.groupby(["id", "centre", "layer", "head"])["weight"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, rtol=1e-5)
    assert set(table["layer"]) == set(range(model.config.layers))
    assert set(table["head"]) == set(range(model.config.heads))
    edges = sum(int(g.edge_index.shape[1]) for g in graphs)
    assert len(table) == edges * model.config.layers * model.config.heads
    assert not any(layer.record_attention for layer in model.layers)


def test_labels_come_from_the_graphs(weights) -> None:
    _, graphs, table = weights
    first = table[(table["id"] == "g0") & (table["layer"] == 0) & (table["head"] == 0)]
    graph = graphs[0]
    assert first["centre"].tolist() == graph.edge_index[1].tolist()
    assert first["distance"].to_numpy() == pytest.approx(graph.edge_distance.numpy())
    roles = np.array(["A", "B", "X"])[graph.role.numpy()]
    assert first["role_pair"].tolist() == [
        f"{roles[c]}-{roles[n]}" for n, c in graph.edge_index.T.tolist()
    ]


def test_shares_add_up_to_one_per_layer_and_head(weights) -> None:
    _, _, table = weights
    summary = aggregate_attention(table)
    totals = summary.groupby(["layer", "head"])["share"].sum()
    np.testing.assert_allclose(totals.to_numpy(), 1.0)
    assert {"role_pair", "shell", "mean_weight", "share", "n_edges"} <= set(summary.columns)
