"""The attention layer's two orders of computing keys and values agree, eager and compiled."""

from __future__ import annotations

import pytest
import torch

from sagatsr.model.attention import GraphAttentionLayer


def _layer_inputs(seed: int = 0) -> tuple[torch.Tensor, ...]:
    """A random graph: 30 atoms, about 8 edges each (one centre has none), 8 shells."""
    generator = torch.Generator().manual_seed(seed)
    n, n_edges = 30, 240
    x = torch.randn(n, 16, generator=generator)
    edge = torch.randn(n_edges, 6, generator=generator)
    src = torch.randint(0, n, (n_edges,), generator=generator)
    dst = torch.randint(0, n - 1, (n_edges,), generator=generator)  # atom n - 1: no neighbours
    shell = torch.randint(0, 10, (n_edges,), generator=generator)  # some past max_shells
    return x, edge, torch.stack([src, dst]), shell


def _layer(update_edges: bool = True) -> GraphAttentionLayer:
    torch.manual_seed(1)
    layer = GraphAttentionLayer(
        16, 6, heads=4, max_shells=8, dropout=0.0, update_edges=update_edges
    )
    with torch.no_grad():  # non-zero shell biases, so the bias path is exercised
        layer.shell_bias.weight.normal_()
    return layer


@pytest.mark.parametrize("update_edges", [True, False])
def test_per_atom_order_matches_per_edge_order_with_gradients(update_edges: bool) -> None:
    layer = _layer(update_edges)
    x, edge, edge_index, shell = _layer_inputs()
    src, dst = edge_index
    results = {}
    for name in ("_attend_per_edge", "_attend_per_atom"):
        layer.zero_grad()
        bias = layer.shell_bias.weight.index_select(0, shell.clamp(0, 7))
        x_in = x.clone().requires_grad_()
        edge_in = edge.clone().requires_grad_()
        aggregated, alpha = getattr(layer, name)(x_in, edge_in, src, dst, bias)
        (aggregated.square().sum() + alpha.sum(-1).pow(3).sum()).backward()
        grads = {key: p.grad.clone() for key, p in layer.named_parameters() if p.grad is not None}
        results[name] = (aggregated, alpha, x_in.grad, edge_in.grad, grads)
    edge_order, atom_order = results["_attend_per_edge"], results["_attend_per_atom"]
    for a, b in zip(edge_order[:4], atom_order[:4], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    assert edge_order[4].keys() == atom_order[4].keys()
    assert "key_value_edge.weight" in atom_order[4]
    for key in edge_order[4]:
        torch.testing.assert_close(edge_order[4][key], atom_order[4][key], rtol=1e-5, atol=1e-5)
    # The atom without neighbours gets no message in either order.
    assert torch.equal(atom_order[0][-1], torch.zeros(16))


def test_compiled_layer_takes_the_per_atom_order_and_matches_eager() -> None:
    layer = _layer()
    x, edge, edge_index, shell = _layer_inputs(seed=2)
    calls = []
    per_atom = layer._attend_per_atom

    def spy(*args):
        calls.append("per_atom")
        return per_atom(*args)

    layer._attend_per_atom = spy  # type: ignore[method-assign]
    eager = layer(x, edge, edge_index, shell)
    assert calls == []
    compiled = torch.compile(layer, dynamic=True)(x, edge, edge_index, shell)
    assert calls == ["per_atom"]  # traced once
    for a, b in zip(eager, compiled, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
