import matplotlib

matplotlib.use("Agg")

import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from sagatsr.interpret import aggregate_global, importance_matrix, rank_stability
from sagatsr.plots.importance import (
    plot_ic_heatmap,
    plot_ic_vs_permutation,
    plot_stability,
    plot_top_features,
)


def test_every_figure_builds() -> None:
    ic = pd.DataFrame(
        {"tolerance_factor": [0.5, 0.6], "density": [0.3, 0.3], "other": [0.2, 0.1]},
        index=["s1", "s2"],
    )
    agg = aggregate_global(ic)
    matrix = importance_matrix({"e_form": agg, "gap": pd.Series({"density": 0.9, "other": 0.1})})
    moved = pd.DataFrame(
        {"feature": ["density", "other", "tolerance_factor"], "mae_increase": [0.3, 0.1, 0.0]}
    )
    pairs = rank_stability({"0": agg.set_index("feature")["mean_ic"], "1": matrix["gap"]}, k=2)
    figures = [
        plot_ic_heatmap(matrix, top=2),
        plot_top_features(agg, 2),
        plot_stability(pairs),
        plot_ic_vs_permutation(agg, moved),
    ]
    assert all(isinstance(f, Figure) for f in figures)
    heatmap_rows = [t.get_text() for t in figures[0].axes[0].get_yticklabels()]
    assert len(heatmap_rows) == 2
    bars = [t.get_text() for t in figures[1].axes[0].get_yticklabels()]
    assert bars[0].startswith("Goldschmidt tolerance factor")
    for figure in figures:
        plt.close(figure)
