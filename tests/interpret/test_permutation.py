import numpy as np
import pandas as pd
import pytest
import torch

from sagatsr.interpret import compare_with_ic, permutation_importance
from sagatsr.train.runner import predict_graphs
from tests.interpret.helpers import tiny_graphs, tiny_model
from tests.model.helpers import F_GLOBAL, F_NODE


@pytest.fixture(scope="module")
def graphs():
    return tiny_graphs(8, seed=3)


@pytest.fixture(scope="module")
def model(graphs):
    return tiny_model(graphs, seed=1)


def test_global_permutation_importance(model, graphs) -> None:
    before = [(d.x.clone(), d.u.clone()) for d in graphs.graphs]
    result = permutation_importance(model, graphs, level="global", n_repeats=2, batch_size=3)
    assert list(result.columns) == [
        "feature",
        "mae_increase",
        "mae_increase_std",
        "baseline_mae",
        "rank",
    ]
    assert len(result) == F_GLOBAL
    assert result["rank"].tolist() == list(range(1, F_GLOBAL + 1))
    assert (np.diff(result["mae_increase"]) <= 0).all()
    baseline = np.mean(np.abs(predict_graphs(model, graphs) - graphs.targets))
    assert result["baseline_mae"].iloc[0] == pytest.approx(baseline, rel=1e-5)
    by_name = result.set_index("feature")
    # Column 0 is constant across structures: permuting it changes nothing.
    assert by_name.loc["global_0", "mae_increase"] == pytest.approx(0.0, abs=1e-9)
    assert by_name.loc["global_0", "mae_increase_std"] == pytest.approx(0.0, abs=1e-9)
    assert (by_name["mae_increase"].abs() > 1e-6).any()
    # The caller's graphs are untouched.
    for data, (x, u) in zip(graphs.graphs, before, strict=True):
        assert torch.equal(data.x, x) and torch.equal(data.u, u)


def test_node_permutation_importance_on_selected_features(model, graphs) -> None:
    before = [d.x.clone() for d in graphs.graphs]
    result = permutation_importance(
        model, graphs, level="node", features=["node_0", "node_5"], n_repeats=1, seed=4
    )
    assert set(result["feature"]) == {"node_0", "node_5"}
    assert result.set_index("feature").loc["node_0", "mae_increase"] == pytest.approx(0, abs=1e-9)
    again = permutation_importance(
        model, graphs, level="node", features=["node_0", "node_5"], n_repeats=1, seed=4
    )
    pd.testing.assert_frame_equal(result, again)  # seeded
    for data, x in zip(graphs.graphs, before, strict=True):
        assert torch.equal(data.x, x)
    assert F_NODE == 7


def test_permutation_rejects_bad_arguments(model, graphs) -> None:
    with pytest.raises(ValueError, match="unknown features"):
        permutation_importance(model, graphs, features=["nope"])
    with pytest.raises(ValueError):
        permutation_importance(model, graphs, level="edge")
    with pytest.raises(ValueError):
        permutation_importance(model, graphs, n_repeats=0)


def test_compare_with_ic_on_constructed_rankings() -> None:
    names = ["a", "b", "c", "d", "e"]
    aggregated = pd.DataFrame({"feature": names, "mean_ic": [0.4, 0.3, 0.15, 0.1, 0.05]})
    agree = pd.DataFrame({"feature": names[::-1], "mae_increase": [0.0, 0.1, 0.2, 0.5, 0.9]})
    result = compare_with_ic(aggregated, agree, k=2)
    assert result["spearman"] == pytest.approx(1.0)
    assert result["top_k_overlap"] == 1.0
    assert result["top_ic"] == ["a", "b"] and result["top_permutation"] == ["a", "b"]
    disagree = pd.DataFrame({"feature": names, "mae_increase": [0.0, 0.1, 0.2, 0.5, 0.9]})
    result = compare_with_ic(aggregated, disagree, k=2)
    assert result["spearman"] == pytest.approx(-1.0)
    assert result["top_k_overlap"] == 0.0 and result["common"] == []
    partial = compare_with_ic(aggregated, disagree.iloc[1:], k=10)
    assert partial["n_shared"] == 4 and partial["k"] == 4
    assert partial["top_k_overlap"] == pytest.approx(0.75)
