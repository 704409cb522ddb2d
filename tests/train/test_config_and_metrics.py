import itertools
import math

import numpy as np
import pytest

from sagatsr.train.config import TrainConfig, lr_factor
from sagatsr.train.metrics import regression_metrics


def test_schedule_warms_up_then_decays() -> None:
    config = TrainConfig(warmup_fraction=0.1, end_lr_ratio=0.01, decay_power=1.0)
    factors = [lr_factor(step, 100, config) for step in range(100)]
    assert factors[0] < factors[5] < factors[9] <= 1.0  # warm-up over 10 steps
    assert max(factors) == pytest.approx(1.0, abs=0.01)
    assert all(a >= b for a, b in itertools.pairwise(factors[10:]))  # decay
    assert factors[-1] == pytest.approx(0.01 + 0.99 / 90, rel=1e-6)
    assert lr_factor(1000, 100, config) == pytest.approx(0.01)


def test_config_validation_and_roundtrip() -> None:
    config = TrainConfig(epochs=3, lr=1e-4)
    assert TrainConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="unknown"):
        TrainConfig.from_dict({"epochs": 2, "nope": 1})
    with pytest.raises(ValueError, match="loss must be one of"):
        TrainConfig(loss="huber")
    with pytest.raises(ValueError, match="ema_decay"):
        TrainConfig(ema_decay=1.0)
    assert TrainConfig().monitor == "val_mae" and TrainConfig(loss="mse").monitor == "val_rmse"


def test_regression_metrics() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    scores = regression_metrics(y, y + np.array([0.5, -0.5, 0.5, -0.5]))
    assert scores == {"n": 4, "mae": 0.5, "rmse": 0.5, "r2": pytest.approx(1 - 1.0 / 5.0)}
    assert math.isnan(regression_metrics(np.ones(3), np.ones(3))["r2"])
    with pytest.raises(ValueError, match="finite"):
        regression_metrics(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
