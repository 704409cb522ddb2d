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


def test_normalized_vectors_enter_the_sum_at_unit_rms_and_match_the_reference() -> None:
    torch.manual_seed(4)
    sae = SelfAdaptableEncoding(6, 10, n_basis=5, vectors="normalized").double()
    r = (2 * torch.randn(5, 6, dtype=torch.double)).requires_grad_()
    valid = torch.rand(5, 6) > 0.3
    h0, ic = sae(r, valid)
    h = sae.project(r)
    unit = h / h.pow(2).mean(-1, keepdim=True).add(1e-6).sqrt()
    torch.testing.assert_close(h0, torch.einsum("nf,nfh->nh", ic, unit))
    assert ((ic > 0) == valid).all()
    for a, b in zip((h0, ic), sae.reference(r, valid), strict=True):
        torch.testing.assert_close(a, b)
    # Scaling one feature's weights changes its score, but not the size of its share.
    free = SelfAdaptableEncoding(6, 10, n_basis=5, score="linear").double()
    normalized = SelfAdaptableEncoding(6, 10, n_basis=5, score="linear", vectors="normalized")
    normalized = normalized.double()
    normalized.load_state_dict(free.state_dict())
    with torch.no_grad():
        for sae_ in (free, normalized):
            sae_.attention.zero_()  # uniform ICs, so only the vectors differ
            sae_.weight[0] *= 100.0
            sae_.bias[0] *= 100.0
    x = torch.randn(3, 6, dtype=torch.double)
    assert free(x)[0].norm() > 10 * normalized(x)[0].norm()


def test_zero_score_init_starts_every_coefficient_at_one_over_f() -> None:
    torch.manual_seed(5)
    _, ic = SelfAdaptableEncoding(8, 16, score_init="zero")(torch.randn(4, 8))
    torch.testing.assert_close(ic, torch.full((4, 8), 1 / 8))
    _, ic = SelfAdaptableEncoding(8, 16)(torch.randn(4, 8))
    assert ic.std() > 0.001  # the paper's random start ranks the features at random


def test_feature_dropout_hides_features_in_training_only() -> None:
    torch.manual_seed(6)
    sae = SelfAdaptableEncoding(50, 8, feature_dropout=0.5)
    r = torch.randn(40, 50)
    _, ic = sae.train()(r)
    hidden = (ic == 0).float().mean().item()
    assert 0.4 < hidden < 0.6
    torch.testing.assert_close(ic.sum(-1), torch.ones(40))
    _, ic = sae.eval()(r)
    assert (ic > 0).all()


def test_ic_entropy_is_normalised_and_has_finite_gradients_at_zero() -> None:
    from sagatsr.model.sae import ic_entropy

    uniform, one_hot = torch.full((3, 4), 0.25), torch.eye(4)[:3]
    torch.testing.assert_close(ic_entropy(uniform), torch.tensor(1.0))
    torch.testing.assert_close(ic_entropy(one_hot), torch.tensor(0.0))
    assert ic_entropy(torch.ones(2, 1)) == 0.0 and ic_entropy(torch.empty(0, 5)) == 0.0
    ic = torch.tensor([[0.0, 0.5, 0.5]], requires_grad=True)
    ic_entropy(ic).backward()
    assert torch.isfinite(ic.grad).all()


def test_entmax_gives_exact_zeros_and_matches_the_reference() -> None:
    torch.manual_seed(7)
    sae = SelfAdaptableEncoding(30, 8, normalizer="entmax15").double()
    with torch.no_grad():
        sae.attention.mul_(20.0)  # spread the scores so that some fall below the threshold
    r = torch.randn(6, 30, dtype=torch.double)
    valid = torch.rand(6, 30) > 0.2
    valid[0] = False
    h0, ic = sae(r, valid)
    torch.testing.assert_close(ic.sum(-1), torch.ones(6, dtype=torch.double))
    assert (ic[1:][~valid[1:]] == 0).all() and (ic[1:][valid[1:]] == 0).any()
    torch.testing.assert_close(ic[0], torch.full((30,), 1 / 30, dtype=torch.double))
    for a, b in zip((h0, ic), sae.reference(r, valid), strict=True):
        torch.testing.assert_close(a, b)


def test_feature_major_basis_is_the_transposed_basis() -> None:
    torch.manual_seed(2)
    sae = SelfAdaptableEncoding(6, 8, n_basis=5)
    r = torch.randn(4, 6)
    torch.testing.assert_close(sae.basis(r, feature_major=True), sae.basis(r).transpose(0, 1))


def test_scoring_each_distinct_value_once_gives_the_literal_encoding_and_gradients() -> None:
    """Inputs without a gradient take the distinct-value path (features with repeats)."""
    torch.manual_seed(4)
    sae = SelfAdaptableEncoding(6, 10, n_basis=5).double()
    levels = torch.tensor([1, 2, 3, 9, 40, 40])
    r = (torch.rand(40, 6, dtype=torch.double) * levels).floor() / 4 - 2  # repeats per column
    r[:, 5] = 3 * torch.randn(40, dtype=torch.double)  # all distinct
    valid = torch.rand(40, 6) > 0.1
    weights = torch.randn(40, 10, dtype=torch.double), torch.randn(40, 6, dtype=torch.double)

    def outputs_and_grads(encode) -> tuple[torch.Tensor, ...]:
        h0, ic = encode(r, valid)
        loss = (h0 * weights[0]).sum() + (ic * weights[1]).sum()
        return (h0, ic, *torch.autograd.grad(loss, list(sae.parameters())))

    for a, b in zip(outputs_and_grads(sae), outputs_and_grads(sae.reference), strict=True):
        torch.testing.assert_close(a, b)
