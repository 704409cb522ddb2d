import pytest
import torch

from sagatsr.model.radial import EXPONENT_FLOOR, GaussianRBF, gaussian_expand


def _literal(values: torch.Tensor, centers: torch.Tensor, width: float) -> torch.Tensor:
    return torch.exp(-(((values.unsqueeze(-1) - centers) / width) ** 2))


def test_expansion_equals_the_gaussian_formula_where_it_is_representable() -> None:
    torch.manual_seed(0)
    centers = torch.linspace(-5.0, 5.0, 16)
    values = torch.randn(7, 3) * 2.0
    expanded = gaussian_expand(values, centers, 10.0 / 15)
    assert expanded.shape == (7, 3, 16)
    literal = _literal(values, centers, 10.0 / 15)
    torch.testing.assert_close(expanded, literal, atol=1e-6, rtol=1e-5)


def test_far_values_stop_at_the_floor_instead_of_underflowing() -> None:
    far = gaussian_expand(torch.tensor([100.0]), torch.tensor([0.0, 99.0]), 0.5)
    expected_floor = torch.tensor(EXPONENT_FLOOR).exp()
    torch.testing.assert_close(far[0, 0], expected_floor)
    assert far[0, 0] > 0 and far[0, 1] == pytest.approx(torch.tensor(-4.0).exp().item())


def test_inputs_needing_gradients_get_the_literal_gradient_and_stay_untouched() -> None:
    torch.manual_seed(1)
    centers = torch.linspace(0.0, 4.0, 9)
    values = (torch.rand(5, dtype=torch.double) * 4.0).requires_grad_()
    kept = values.detach().clone()
    weights = torch.randn(5, 9, dtype=torch.double)
    (gaussian_expand(values, centers.double(), 0.5) * weights).sum().backward()
    grad = values.grad.clone()
    values.grad = None
    (_literal(values, centers.double(), 0.5) * weights).sum().backward()
    torch.testing.assert_close(grad, values.grad)
    torch.testing.assert_close(values.detach(), kept)


def test_rbf_expands_distances_on_evenly_spaced_centres() -> None:
    rbf = GaussianRBF(32, 8.0)
    distance = torch.tensor([0.0, 2.5, 8.0])
    expanded = rbf(distance)
    assert expanded.shape == (3, 32)
    literal = _literal(distance, rbf.centers, rbf.width)
    torch.testing.assert_close(expanded, literal, atol=1e-6, rtol=1e-5)
    assert expanded[0, 0] == 1.0 and expanded[2, -1] == 1.0
