import pytest
import torch
from torch_geometric.data import Batch, Data

from sagatsr.model import SAGAT, fit_scalers
from tests.model.helpers import F_GLOBAL, F_NODE, make_graph, make_graphs, small_config

EMBEDDINGS = ("sae", "fcn", "onehot")


def fitted_model(embedding: str = "sae", seed: int = 0, **overrides: object) -> SAGAT:
    torch.manual_seed(seed)
    model = SAGAT(small_config(embedding, **overrides))
    fit_scalers(model, make_graphs(8, seed=100))
    return model.eval()


@pytest.mark.parametrize("embedding", EMBEDDINGS)
def test_output_shapes_and_ic(embedding: str) -> None:
    model = fitted_model(embedding, n_targets=3)
    batch = Batch.from_data_list(make_graphs(4))
    pred, ic = model(batch, return_ic=True)
    assert pred.shape == (4, 3)
    assert torch.isfinite(pred).all()
    assert model(batch).shape == (4, 3)
    if embedding == "sae":
        assert ic["node_ic"].shape == (batch.num_nodes, F_NODE)
        assert ic["global_ic"].shape == (4, F_GLOBAL)
        for value in ic.values():
            assert (value >= 0).all()
            torch.testing.assert_close(value.sum(-1), torch.ones(value.shape[0]))
    else:
        assert ic == {"node_ic": None, "global_ic": None}


def test_single_graph_without_batch_vector() -> None:
    graph = make_graph(3)
    assert fitted_model()(graph).shape == (1, 1)


def permute_atoms(graph: Data, perm: torch.Tensor) -> Data:
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(perm.numel())
    edge_order = torch.randperm(
        graph.edge_distance.numel(), generator=torch.Generator().manual_seed(0)
    )
    return Data(
        x=graph.x[perm],
        u=graph.u,
        z=graph.z[perm],
        role=graph.role[perm],
        edge_index=inverse[graph.edge_index][:, edge_order],
        edge_distance=graph.edge_distance[edge_order],
        edge_shell=graph.edge_shell[edge_order],
        num_nodes=graph.num_nodes,
    )


@pytest.mark.parametrize("embedding", EMBEDDINGS)
def test_invariant_to_atom_order(embedding: str) -> None:
    model = fitted_model(embedding)
    for graph in make_graphs(2, seed=7):
        perm = torch.randperm(graph.num_nodes, generator=torch.Generator().manual_seed(1))
        permuted = permute_atoms(graph, perm)
        pred, ic = model(graph, return_ic=True)
        pred_p, ic_p = model(permuted, return_ic=True)
        torch.testing.assert_close(pred_p, pred, atol=1e-5, rtol=0)
        if embedding == "sae":
            torch.testing.assert_close(ic_p["node_ic"], ic["node_ic"][perm], atol=1e-6, rtol=0)


def test_identical_graph_arrays_give_identical_predictions() -> None:
    # The graph builder maps every choice of periodic image (and site wrap) to
    # the same neighbour pairs, distances and shells (tests/graphs/test_neighbors.py);
    # the model sees only those arrays, so the prediction cannot depend on it.
    # Here: two independently built copies, and the same edges listed in another order.
    model = fitted_model()
    a, b = make_graph(11), make_graph(11)
    assert torch.equal(model(a), model(b))
    reordered = permute_atoms(a, torch.arange(a.num_nodes))
    torch.testing.assert_close(model(reordered), model(a), atol=1e-5, rtol=0)


@pytest.mark.parametrize("embedding", EMBEDDINGS)
def test_prediction_does_not_depend_on_batch_mates(embedding: str) -> None:
    model = fitted_model(embedding)
    graphs = make_graphs(5, seed=20)
    together = model(Batch.from_data_list(graphs))
    for i, graph in enumerate(graphs):
        alone = model(Batch.from_data_list([graph]))
        torch.testing.assert_close(together[i : i + 1], alone, atol=1e-5, rtol=0)


@pytest.mark.parametrize("embedding", EMBEDDINGS)
def test_same_seed_gives_identical_models_and_outputs(embedding: str) -> None:
    batch = Batch.from_data_list(make_graphs(4))
    first, second = fitted_model(embedding, seed=5), fitted_model(embedding, seed=5)
    assert torch.equal(first(batch), second(batch))
    first.train()
    second.train()
    torch.manual_seed(9)
    out_first = first(batch)
    torch.manual_seed(9)
    assert torch.equal(out_first, second(batch))


def test_missing_feature_values_give_finite_output_and_zero_ic() -> None:
    model = fitted_model()
    graph = make_graph(2)
    graph.x[0, 3] = float("nan")
    graph.u[0, 5] = float("nan")
    pred, ic = model(graph, return_ic=True)
    assert torch.isfinite(pred).all()
    assert ic["node_ic"][0, 3] == 0.0 and ic["global_ic"][0, 5] == 0.0


def test_predict_destandardises_and_keeps_training_flag() -> None:
    model = fitted_model(n_targets=2)
    batch = Batch.from_data_list(make_graphs(3))
    model.set_target_stats([1.5, -2.0], [0.5, 10.0])
    model.train()
    physical = model.predict(batch)
    assert model.training
    model.eval()
    torch.testing.assert_close(
        physical, model(batch) * torch.tensor([0.5, 10.0]) + torch.tensor([1.5, -2.0])
    )
    with pytest.raises(ValueError):
        model.set_target_stats([0.0, 0.0], [1.0, 0.0])


def test_unfitted_scalers_are_an_error_except_for_onehot() -> None:
    graph = make_graph(0)
    with pytest.raises(RuntimeError, match="fit_scalers"):
        SAGAT(small_config())(graph)
    assert SAGAT(small_config("onehot"))(graph).shape == (1, 1)


def test_feature_width_mismatch_is_a_clear_error() -> None:
    graph = make_graph(0, f_node=F_NODE + 1)
    with pytest.raises(ValueError, match="re-featurize"):
        fitted_model()(graph)


@pytest.mark.parametrize("embedding", EMBEDDINGS)
@pytest.mark.parametrize("layers", [1, 3])
def test_every_parameter_gets_a_gradient(embedding: str, layers: int) -> None:
    # DDP refuses a model with parameters that no output depends on.
    model = fitted_model(embedding, layers=layers).train()
    model(Batch.from_data_list(make_graphs(4))).sum().backward()
    assert [name for name, p in model.named_parameters() if p.grad is None] == []


def test_compiling_under_a_torch_older_than_the_checked_one_is_refused(monkeypatch) -> None:
    model = SAGAT(small_config())
    monkeypatch.setattr(torch, "__version__", "2.11.0+cu130")
    with pytest.raises(RuntimeError, match=r"needs torch >= 2\.13 \(this is 2\.11\.0\+cu130\)"):
        model.compiled_core()
    monkeypatch.setattr(torch, "__version__", "2.13.0+cpu")
    assert callable(model.compiled_core())
    # the SAE's value-dependent scoring stays eager inside the compiled network
    from sagatsr.model.sae import SelfAdaptableEncoding

    assert SelfAdaptableEncoding._tanh_scores._sagatsr_eager
    assert SelfAdaptableEncoding._tanh_scores._torchdynamo_disable
