import matplotlib

matplotlib.use("Agg")

from sagatsr.interpret.attention import aggregate_attention
from sagatsr.plots.attention import plot_attention_shares, plot_structure_attention
from tests.interpret.test_attention import weights  # noqa: F401  (fixture)


def test_attention_figures(weights) -> None:  # noqa: F811
    _, _, table = weights
    shares = plot_attention_shares(aggregate_attention(table))
    assert shares.axes[0].get_xlabel() == "layer and head"
    one = plot_structure_attention(table, "g0", layer=1)
    assert "g0" in one.axes[0].get_title()
