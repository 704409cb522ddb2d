import torch

from sagatsr.model import SelfAdaptableEncoding


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


def test_missing_features_get_zero_importance() -> None:
    sae = SelfAdaptableEncoding(4, 8)
    valid = torch.tensor([[True, False, True, True], [False, False, False, False]])
    _, ic = sae(torch.zeros(2, 4), valid)
    assert ic[0, 1] == 0.0
    torch.testing.assert_close(ic.sum(-1), torch.ones(2))
    torch.testing.assert_close(ic[1], torch.full((4,), 0.25))
