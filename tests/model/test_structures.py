"""sagatsr.model.structures: saved models run on graph arrays, one model or several at once."""

import numpy as np
import torch

from sagatsr.model import load_model
from sagatsr.model.structures import predict_arrays_with_ic, predict_members_with_ic


def test_members_on_shared_batches_match_each_model_alone(prepared, model_dir) -> None:
    store = prepared.graphs()
    graphs = [store.graph(position) for position in range(len(store))]
    first, second = load_model(model_dir), load_model(model_dir)
    with torch.no_grad():  # a second member that differs in weights and in its target scale
        for parameter in second.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
        second.target_mean.add_(1.0)
    first.train()  # the training flag of each member is restored
    members = predict_members_with_ic([first, second], graphs, batch_size=7)
    alone = [predict_arrays_with_ic(m, graphs, batch_size=64) for m in (first, second)]
    assert first.training and not second.training
    for (values, ics), (values_alone, ics_alone) in zip(members, alone, strict=True):
        assert values.shape == (len(graphs), 1) and ics.shape == (len(graphs), ics_alone.shape[1])
        np.testing.assert_allclose(values, values_alone, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ics, ics_alone, rtol=1e-5, atol=1e-7)
    assert not np.allclose(members[0][0], members[1][0])


def test_no_graphs_give_empty_predictions(model_dir) -> None:
    values, ics = predict_members_with_ic([load_model(model_dir)], [])[0]
    assert values.shape == (0, 1) and ics is None
