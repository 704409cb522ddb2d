import numpy as np
import pandas as pd
import pytest

from sagatsr.interpret.groups import (
    concentration,
    correlation_groups,
    derivation_groups,
    grouped_ranking,
    recall_at_k,
)


def test_derivation_groups_join_features_of_one_property() -> None:
    groups = derivation_groups(
        ["B_electron_affinity", "delta_BX_electron_affinity", "A_atomic_mass", "tolerance_factor"]
    )
    assert groups["B_electron_affinity"] == groups["delta_BX_electron_affinity"]
    assert groups["A_atomic_mass"] != groups["B_electron_affinity"]
    assert groups["tolerance_factor"] == "tolerance_factor"


def test_correlation_groups_join_near_duplicates_only() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=300)
    frame = pd.DataFrame(
        {"a": a, "a_twin": 2 * a + 0.01 * rng.normal(size=300), "b": rng.normal(size=300)}
    )
    frame.loc[:10, "b"] = np.nan
    groups = correlation_groups(frame, threshold=0.9)
    assert groups["a"] == groups["a_twin"] == "a" and groups["b"] == "b"


def test_recall_per_feature_and_per_group() -> None:
    ranking = ["x1", "a_twin", "x2", "x3", "x4", "a"]
    groups = {"a": "a", "a_twin": "a"}
    assert recall_at_k(ranking, ["a"], 5) == 0.0
    assert recall_at_k(ranking, ["a"], 5, groups) == 1.0
    assert recall_at_k(ranking, ["a", "x4"], 5) == 0.5
    with pytest.raises(ValueError):
        recall_at_k(ranking, [], 5)


def test_grouped_ranking_and_concentration() -> None:
    scores = pd.Series({"a": 0.1, "a_twin": 0.5, "b": 0.3})
    table = grouped_ranking(scores, {"a": "A", "a_twin": "A", "b": "B"})
    assert table["group"].tolist() == ["A", "B"] and table["best_feature"][0] == "a_twin"
    assert table["members"][0] == "a_twin, a"
    flat = concentration(pd.Series(np.full(20, 0.05)))
    assert flat["entropy_ratio"] == pytest.approx(1.0) and flat["top_share"] == pytest.approx(0.5)
    peaked = concentration(pd.Series([0.91, *([0.01] * 9)]))
    assert peaked["entropy_ratio"] < 0.3 and peaked["max_over_uniform"] == pytest.approx(9.1)
