import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader

from sagatsr.model import SAGAT, FeatureScaler, fit_scalers
from tests.model.helpers import make_graphs, small_config


def test_robust_centre_and_scale() -> None:
    rng = np.random.default_rng(0)
    values = np.stack(
        [rng.normal(100.0, 5.0, 4000), np.full(4000, 3.0), rng.normal(0.0, 1e-3, 4000)], axis=1
    )
    scaler = FeatureScaler(3, clip=5.0).fit(torch.as_tensor(values))
    assert scaler.center[0].item() == pytest.approx(100.0, abs=0.5)
    assert scaler.scale[0].item() == pytest.approx(5.0, rel=0.1)
    assert scaler.scale[1].item() == 1.0  # constant feature
    assert scaler.scale[2].item() == pytest.approx(1e-3, rel=0.1)
    scaled = scaler(torch.as_tensor(values, dtype=torch.float32))
    assert scaled.abs().max() <= 5.0
    assert scaled[:, 1].abs().max() == 0.0


def test_mostly_constant_feature_falls_back_to_std() -> None:
    values = torch.zeros(100, 1)
    values[:3] = 1.0
    scaler = FeatureScaler(1, clip=5.0).fit(values)
    assert scaler.scale.item() == pytest.approx(values.std(unbiased=False).item(), rel=1e-5)


def test_missing_values_are_ignored_then_mapped_to_the_median() -> None:
    values = torch.tensor([[1.0], [2.0], [float("nan")], [3.0], [float("inf")]])
    scaler = FeatureScaler(1, clip=5.0).fit(values)
    assert scaler.center.item() == pytest.approx(2.0)
    out = scaler(values)
    assert torch.isfinite(out).all()
    assert out[2].item() == 0.0 and out[4].item() == 0.0


def test_unfitted_scaler_refuses() -> None:
    with pytest.raises(RuntimeError, match="fit_scalers"):
        FeatureScaler(2, clip=5.0)(torch.zeros(1, 2))


def test_wrong_width_is_rejected() -> None:
    with pytest.raises(ValueError):
        FeatureScaler(2, clip=5.0).fit(torch.zeros(4, 3))


def test_fit_scalers_from_loader_equals_tensors_and_lands_in_state_dict() -> None:
    graphs = make_graphs(6)
    a = fit_scalers(SAGAT(small_config()), DataLoader(graphs, batch_size=4))
    x = torch.cat([g.x for g in graphs])
    u = torch.cat([g.u for g in graphs])
    b = fit_scalers(SAGAT(small_config()), (x, u))
    for name in ("node_scaler.center", "node_scaler.scale", "global_scaler.scale"):
        assert torch.equal(a.state_dict()[name], b.state_dict()[name])
    assert bool(a.state_dict()["global_scaler.fitted"])
