"""Distributions of raw physical features."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from sagatsr.features.catalog import FeatureSpec
from sagatsr.sr.units import unit_label


def plot_feature_distributions(
    frame: pd.DataFrame,
    specs: Sequence[FeatureSpec],
    *,
    columns: int = 3,
    bins: int = 40,
) -> plt.Figure:
    """Histogram of each feature, titled with its label and unit.

    Args:
        frame: One row per structure, one column per feature name.
        specs: The features to show (their ``name`` must be a column of ``frame``).
        columns: Panels per row.
        bins: Histogram bins.

    Returns:
        The figure.

    Raises:
        KeyError: If a feature is not a column of ``frame``.
    """
    missing = [spec.name for spec in specs if spec.name not in frame.columns]
    if missing:
        raise KeyError(f"features not in the table: {', '.join(missing)}")
    rows = max(1, -(-len(specs) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.0 * rows), squeeze=False)
    for ax, spec in zip(axes.flat, specs, strict=False):
        sns.histplot(frame[spec.name], bins=bins, ax=ax, color="#4c72b0")
        ax.set_title(spec.label, fontsize=9)
        ax.set_xlabel(unit_label(spec.name, spec.unit), fontsize=8)
    for ax in list(axes.flat)[len(specs) :]:
        ax.set_visible(False)
    figure.tight_layout()
    return figure
