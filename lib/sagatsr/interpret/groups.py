"""Feature groups: by derivation (catalog) and by correlation (data), and recall at k.

The catalog holds many derived features: ``B_electron_affinity`` also enters
``delta_BX_electron_affinity``, ``mean_electron_affinity`` and others, and two
radius scales or two electronegativity scales are nearly the same number. A
ranking of single features splits the credit among such proxies, so a planted
feature counts as *found at group level* when any member of its group is ranked
in the top ``k``.

* Derivation groups: features derived from the same per-site property
  (:attr:`~sagatsr.features.catalog.FeatureSpec.base`); structural features
  are their own group.
* Correlation groups: features whose absolute Spearman correlation over the
  data exceeds a threshold, joined by average-linkage clustering.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from sagatsr.features.catalog import spec_by_name


def derivation_groups(names: Sequence[str]) -> dict[str, str]:
    """Group of each feature by derivation: the per-site property it comes from.

    Args:
        names: Catalog feature names.

    Returns:
        ``{name: group}``; the group is the base property (e.g.
        ``"electron_affinity"``) or, for structural features, the feature itself.
    """
    return {name: spec_by_name(name).base for name in names}


def correlation_groups(values: pd.DataFrame, *, threshold: float = 0.9) -> dict[str, str]:
    """Group features whose values move together across structures.

    Args:
        values: ``(N, F)`` feature values, one column per feature (NaN allowed;
            pairs are compared on rows where both are present).
        threshold: Absolute Spearman correlation above which two features are
            near-duplicates (average linkage at distance ``1 - threshold``).

    Returns:
        ``{name: group}``; the group is named after its first member in column order.
    """
    names = list(values.columns)
    if len(names) == 1:
        return {names[0]: names[0]}
    correlation = values.rank().corr(min_periods=3).abs().to_numpy()
    correlation = np.nan_to_num(correlation, nan=0.0)
    np.fill_diagonal(correlation, 1.0)
    distance = np.clip(1.0 - correlation, 0.0, None)
    tree = linkage(squareform((distance + distance.T) / 2, checks=False), method="average")
    labels = fcluster(tree, t=1.0 - threshold, criterion="distance")
    first: dict[int, str] = {}
    for name, label in zip(names, labels, strict=True):
        first.setdefault(int(label), name)
    return {name: first[int(label)] for name, label in zip(names, labels, strict=True)}


def recall_at_k(
    ranking: Sequence[str],
    planted: Sequence[str],
    k: int,
    groups: Mapping[str, str] | None = None,
) -> float:
    """Share of the planted features found in the top ``k`` of a ranking.

    Args:
        ranking: Feature names, most important first.
        planted: The features the target was built from.
        k: Length of the top list.
        groups: ``{name: group}``: a planted feature is found when any member
            of its group is in the top ``k`` (feature level when ``None``).

    Returns:
        Recall in ``[0, 1]``.

    Raises:
        ValueError: With no planted feature or ``k < 1``.
    """
    if not planted or k < 1:
        raise ValueError("need at least one planted feature and k >= 1")
    top = list(ranking[:k])
    if groups is None:
        return sum(name in top for name in planted) / len(planted)
    top_groups = {groups.get(name, name) for name in top}
    return sum(groups.get(name, name) in top_groups for name in planted) / len(planted)


def grouped_ranking(scores: pd.Series, groups: Mapping[str, str]) -> pd.DataFrame:
    """A ranking of groups: the best member's score, the members in score order.

    Args:
        scores: Importance per feature (larger is more important).
        groups: ``{name: group}``.

    Returns:
        One row per group, best first: ``group``, ``score`` (of its best
        member), ``best_feature``, ``members`` (comma-separated, best first).
    """
    frame = pd.DataFrame({"feature": scores.index, "score": scores.to_numpy(dtype=float)})
    frame["group"] = [groups.get(name, name) for name in frame["feature"]]
    frame = frame.sort_values("score", ascending=False)
    rows = [
        {
            "group": group,
            "score": float(members["score"].iloc[0]),
            "best_feature": str(members["feature"].iloc[0]),
            "members": ", ".join(members["feature"]),
        }
        for group, members in frame.groupby("group", sort=False)
    ]
    return pd.DataFrame(rows).sort_values("score", ascending=False).reset_index(drop=True)


def concentration(mean_ic: pd.Series, top: int = 10) -> dict[str, float]:
    """How concentrated an importance distribution is.

    Args:
        mean_ic: Mean importance coefficient per feature (non-negative).
        top: Size of the head whose share is reported.

    Returns:
        ``entropy_ratio`` (entropy over the entropy of the uniform
        distribution: 1 = flat, 0 = one feature), ``top_share`` (share of
        the ``top`` largest), ``max_over_uniform`` (largest IC times the
        number of features).
    """
    p = mean_ic.to_numpy(dtype=np.float64)
    p = p[p > 0] / p.sum()
    n = len(mean_ic)
    entropy = float(-(p * np.log(p)).sum())
    return {
        "entropy_ratio": entropy / np.log(n) if n > 1 else 1.0,
        "top_share": float(np.sort(p)[::-1][:top].sum()),
        "max_over_uniform": float(p.max() * n),
    }
