import pytest
import torch

from sagatsr.graphs.packed import PackedGraphs
from sagatsr.interpret.attribution import attribution_ranking, integrated_gradients
from sagatsr.model import SAGAT, fit_scalers
from sagatsr.train.data import LabelledGraphs
from tests.model.helpers import make_graphs, small_config


def test_attributions_add_up_to_the_change_from_the_median_input() -> None:
    torch.manual_seed(0)
    model = SAGAT(small_config())
    graphs = make_graphs(6)
    fit_scalers(model, graphs)
    labelled = LabelledGraphs([str(i) for i in range(6)], graphs)
    attributions = integrated_gradients(model, labelled, n_steps=32, batch_size=4)
    assert attributions.shape == (6, model.config.n_global_features)
    batch = PackedGraphs(graphs).collate(list(range(6)))
    model.eval()
    with torch.no_grad():
        full = model(batch)[:, 0]
        hook = model.global_scaler.register_forward_hook(lambda m, i, o: torch.zeros_like(o))
        median = model(batch)[:, 0]
        hook.remove()
    # completeness: the sum over features is the prediction minus the baseline's
    assert attributions.sum(axis=1).to_numpy() == pytest.approx((full - median).numpy(), abs=1e-4)
    node = integrated_gradients(model, labelled, level="node", n_steps=8)
    assert node.shape == (sum(g.num_nodes for g in graphs), model.config.n_node_features)
    ranking = attribution_ranking(attributions)
    assert ranking.is_monotonic_decreasing and set(ranking.index) == set(attributions.columns)


def test_one_hot_models_have_nothing_to_attribute() -> None:
    model = SAGAT(small_config("onehot"))
    with pytest.raises(ValueError, match="one-hot"):
        integrated_gradients(model, LabelledGraphs(["0"], make_graphs(1)))
