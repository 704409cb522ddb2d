import numpy as np
import pandas as pd
import pytest

from sagatsr.features.catalog import spec_by_name
from sagatsr.interpret import (
    aggregate_global,
    aggregate_node,
    importance_coefficients,
    importance_matrix,
    top_features,
)
from sagatsr.model import SAGAT
from tests.interpret.helpers import tiny_graphs, tiny_model
from tests.model.helpers import F_GLOBAL, F_NODE


@pytest.fixture(scope="module")
def graphs():
    return tiny_graphs(6)


@pytest.fixture(scope="module")
def tables(graphs):
    return importance_coefficients(tiny_model(graphs), graphs, batch_size=4)


def test_global_ic_shape_ids_and_simplex(tables, graphs) -> None:
    g = tables.global_ic
    assert g.shape == (6, F_GLOBAL)
    assert list(g.index) == graphs.ids
    assert list(g.columns) == [f"global_{i}" for i in range(F_GLOBAL)]
    assert (g.to_numpy() >= 0).all()
    np.testing.assert_allclose(g.sum(axis=1), 1.0, atol=1e-5)


def test_node_ic_rows_describe_each_atom(tables, graphs) -> None:
    n = tables.node_ic
    n_atoms = sum(int(d.num_nodes) for d in graphs.graphs)
    assert n.shape == (n_atoms, 4 + F_NODE)
    assert list(n.columns[:4]) == ["id", "site", "role", "element"]
    values = n[[f"node_{i}" for i in range(F_NODE)]].to_numpy()
    assert (values >= 0).all()
    np.testing.assert_allclose(values.sum(axis=1), 1.0, atol=1e-5)
    # Batches of 4 graphs: ids, sites, roles and elements still follow the input order.
    for graph_id, data in zip(graphs.ids, graphs.graphs, strict=True):
        rows = n[n["id"] == graph_id]
        assert rows["site"].tolist() == list(range(int(data.num_nodes)))
        assert rows["role"].tolist() == ["ABX"[int(r)] for r in data.role]
    first = n[n["id"] == "g0"]  # make_graph(0): z = 19 (K), 22 (Ti), O, O, O
    assert first["element"].tolist() == ["K", "Ti", "O", "O", "O"]
    assert first["role"].tolist() == ["A", "B", "X", "X", "X"]


def test_ics_match_the_model_forward(tables, graphs) -> None:
    model = tiny_model(graphs)
    _, ic = model(graphs.graphs[3], return_ic=True)
    np.testing.assert_allclose(
        tables.global_ic.loc["g3"].to_numpy(), ic["global_ic"][0].detach().numpy(), rtol=1e-5
    )


@pytest.mark.parametrize("embedding", ["fcn", "onehot"])
def test_models_without_ics_are_refused(graphs, embedding: str) -> None:
    model = tiny_model(graphs, embedding=embedding)
    assert isinstance(model, SAGAT)
    with pytest.raises(ValueError, match="no importance coefficients"):
        importance_coefficients(model, graphs)


def test_aggregate_global_ranks_means_and_catalog_labels() -> None:
    ic = pd.DataFrame(
        {
            "tolerance_factor": [0.5, 0.7, 0.6],
            "not_a_feature": [0.2, 0.1, 0.1],
            "density": [0.3, 0.2, 0.3],
        },
        index=["s1", "s2", "s3"],
    )
    agg = aggregate_global(ic)
    assert list(agg.columns) == [
        "feature",
        "label",
        "unit",
        "site",
        "level",
        "mean_ic",
        "std_ic",
        "median_ic",
        "rank",
    ]
    assert agg["feature"].tolist() == ["tolerance_factor", "density", "not_a_feature"]
    assert agg["rank"].tolist() == [1, 2, 3]
    assert (np.diff(agg["mean_ic"]) <= 0).all()
    row = agg.set_index("feature").loc["tolerance_factor"]
    spec = spec_by_name("tolerance_factor")
    assert (row["label"], row["unit"], row["level"]) == (spec.label, spec.unit, "global")
    assert row["mean_ic"] == pytest.approx(0.6)
    assert row["median_ic"] == pytest.approx(0.6)
    assert row["std_ic"] == pytest.approx(np.std([0.5, 0.7, 0.6]))
    unknown = agg.set_index("feature").loc["not_a_feature"]
    assert (unknown["label"], unknown["unit"], unknown["level"]) == ("", "", "global")
    assert top_features(agg, 2) == ["tolerance_factor", "density"]
    assert top_features(agg, 10) == agg["feature"].tolist()
    with pytest.raises(ValueError):
        top_features(agg, -1)


def test_aggregate_node_means_per_role() -> None:
    node = pd.DataFrame(
        {
            "id": ["a", "a", "a", "b", "b"],
            "site": [0, 1, 2, 0, 1],
            "role": ["A", "B", "X", "B", "X"],
            "element": ["Sr", "Ti", "O", "Ti", "O"],
            "shannon_radius": [0.8, 0.4, 0.6, 0.2, 0.1],
            "zzz": [0.2, 0.6, 0.4, 0.8, 0.9],
        }
    )
    agg = aggregate_node(node).set_index("feature")
    assert agg.index.tolist() == ["zzz", "shannon_radius"]
    assert agg.loc["zzz", "rank"] == 1
    assert agg.loc["shannon_radius", "mean_ic"] == pytest.approx(0.42)
    assert agg.loc["shannon_radius", "A"] == pytest.approx(0.8)
    assert agg.loc["shannon_radius", "B"] == pytest.approx(0.3)
    assert agg.loc["zzz", "X"] == pytest.approx(0.65)
    assert agg.loc["shannon_radius", "unit"] == spec_by_name("shannon_radius").unit
    assert agg.loc["shannon_radius", "level"] == "node"
    assert "A" not in aggregate_node(node, by_role=False).columns


def test_aggregate_node_on_model_output(tables) -> None:
    agg = aggregate_node(tables.node_ic)
    assert len(agg) == F_NODE and {"A", "B", "X"} <= set(agg.columns)
    assert agg["mean_ic"].sum() == pytest.approx(1.0, abs=1e-5)
    assert agg["rank"].tolist() == list(range(1, F_NODE + 1))


def test_importance_matrix_aligns_runs() -> None:
    run1 = aggregate_global(pd.DataFrame({"f1": [0.7], "f2": [0.3]}))
    run2 = pd.Series({"f2": 0.1, "f3": 0.9})
    matrix = importance_matrix({"gap": run1, "e_form": run2})
    assert list(matrix.columns) == ["gap", "e_form"]
    assert matrix.index.tolist() == ["f3", "f1", "f2"]  # by mean over runs
    assert matrix.loc["f1", "gap"] == pytest.approx(0.7)
    assert np.isnan(matrix.loc["f1", "e_form"])
    assert importance_matrix({}).empty
