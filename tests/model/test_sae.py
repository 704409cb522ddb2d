import pytest
import torch

from sagatsr.model import SelfAdaptableEncoding
from sagatsr.model.sae import _TanhScore


def test_vectorised_projection_matches_per_feature_reference() -> None:
    torch.manual_seed(0)
    sae = SelfAdaptableEncoding(5, 8, n_basis=6, clip=3.0)
    r = torch.randn(4, 5)
    h = sae.project(r)
    for i in range(5):
        gauss = torch.exp(-(((r[:, i : i + 1] - sae.centers) / sae.width) ** 2))
        basis = torch.cat([gauss, r[:, i : i + 1]], dim=1)
        expected = basis @ sae.weight[i] + sae.bias[i]
        torch.testing.assert_close(h[:, i], expected)


def test_ic_is_a_softmax_over_features_and_h0_its_weighted_sum() -> None:
    torch.manual_seed(1)
    for score in ("tanh", "linear"):
        sae = SelfAdaptableEncoding(7, 16, score=score)
        r = torch.randn(10, 7)
        h0, ic = sae(r)
        assert h0.shape == (10, 16) and ic.shape == (10, 7)
        assert (ic >= 0).all()
        torch.testing.assert_close(ic.sum(-1), torch.ones(10))
        torch.testing.assert_close(h0, torch.einsum("nf,nfh->nh", ic, sae.project(r)))


@pytest.mark.parametrize("score", ["tanh", "linear"])
def test_fast_forward_and_gradients_equal_the_literal_definition(score: str) -> None:
    torch.manual_seed(2)
    sae = SelfAdaptableEncoding(9, 12, n_basis=5, score=score).double()
    r = (3 * torch.randn(6, 9, dtype=torch.double)).requires_grad_()
    valid = torch.rand(6, 9) > 0.2
    valid[0] = False  # an item with no valid feature
    fast, literal = sae(r, valid), sae.reference(r, valid)
    for a, b in zip(fast, literal, strict=True):
        torch.testing.assert_close(a, b)
    weights = torch.randn(6, 12, dtype=torch.double), torch.randn(6, 9, dtype=torch.double)

    def grads(outputs: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        loss = (outputs[0] * weights[0]).sum() + (outputs[1] * weights[1]).sum()
        return torch.autograd.grad(loss, [r, *sae.parameters()])

    for a, b in zip(grads(sae(r, valid)), grads(sae.reference(r, valid)), strict=True):
        torch.testing.assert_close(a, b)


def test_tanh_score_gradient_is_exact() -> None:
    torch.manual_seed(3)
    basis = torch.randn(3, 4, 5, dtype=torch.double, requires_grad=True)
    weight = torch.randn(3, 5, 6, dtype=torch.double, requires_grad=True)
    w_a = torch.randn(6, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(_TanhScore.apply, (basis, weight, w_a))
    expected = torch.tanh(torch.bmm(basis, weight)) @ w_a
    torch.testing.assert_close(_TanhScore.apply(basis, weight, w_a), expected)


def test_missing_features_get_zero_importance() -> None:
    sae = SelfAdaptableEncoding(4, 8)
    valid = torch.tensor([[True, False, True, True], [False, False, False, False]])
    _, ic = sae(torch.zeros(2, 4), valid)
    assert ic[0, 1] == 0.0
    torch.testing.assert_close(ic.sum(-1), torch.ones(2))
    torch.testing.assert_close(ic[1], torch.full((4,), 0.25))
