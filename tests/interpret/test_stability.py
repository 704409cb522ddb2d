import numpy as np
import pandas as pd
import pytest

from sagatsr.interpret import rank_stability, ranking_agreement, stability_summary

FEATURES = [f"f{i}" for i in range(12)]


def scores(values) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=FEATURES[: len(values)])


def test_identical_and_reversed_rankings() -> None:
    base = scores(np.arange(12, 0, -1))
    pairs = rank_stability({"s0": base, "s1": base.copy(), "rev": scores(np.arange(1, 13))}, k=3)
    assert list(pairs.columns) == ["a", "b", "n_shared", "spearman", "top_k_overlap"]
    assert pairs[["a", "b"]].values.tolist() == [["s0", "s1"], ["s0", "rev"], ["s1", "rev"]]
    same = pairs.iloc[0]
    assert same["spearman"] == pytest.approx(1.0) and same["top_k_overlap"] == 1.0
    reversed_ = pairs.iloc[1]
    assert reversed_["spearman"] == pytest.approx(-1.0) and reversed_["top_k_overlap"] == 0.0
    assert (pairs["n_shared"] == 12).all()
    summary = stability_summary(pairs)
    assert summary["n_pairs"] == 3
    assert summary["min_spearman"] == pytest.approx(-1.0)
    assert summary["mean_spearman"] == pytest.approx(-1 / 3)
    assert summary["mean_top_k_overlap"] == pytest.approx(1 / 3)


def test_partial_overlap_and_shared_features_only() -> None:
    a = pd.Series({"x": 0.5, "y": 0.3, "z": 0.15, "w": 0.05})
    b = pd.Series({"y": 0.6, "x": 0.2, "w": 0.15, "v": 0.05})  # z missing, v extra
    agreement = ranking_agreement(a, b, k=2)
    assert agreement["n_shared"] == 3
    assert agreement["top_k_overlap"] == 1.0  # {x, y} both times
    # Over x, y, w: a ranks x > y > w, b ranks y > x > w.
    assert agreement["spearman"] == pytest.approx(0.5)
    assert ranking_agreement(a, b, k=3)["top_k_overlap"] == pytest.approx(2 / 3)
    # k larger than the rankings is reduced to their length.
    assert ranking_agreement(a, a, k=10) | {} == {
        "n_shared": 4,
        "spearman": pytest.approx(1.0),
        "top_k_overlap": 1.0,
        "k": 4,
    }


def test_degenerate_inputs() -> None:
    assert rank_stability({"only": scores([1, 2])}).empty
    summary = stability_summary(rank_stability({}))
    assert summary["n_pairs"] == 0 and np.isnan(summary["mean_spearman"])
    constant = ranking_agreement(scores([1, 1, 1]), scores([1, 2, 3]), k=1)
    assert np.isnan(constant["spearman"])
    with pytest.raises(ValueError):
        ranking_agreement(scores([1, 2]), scores([1, 2]), k=0)
