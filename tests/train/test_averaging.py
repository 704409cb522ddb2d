import itertools

import pytest
import torch

from sagatsr.train.averaging import ema_with_warmup, warmed_up_decay


def test_decay_grows_from_small_to_the_configured_value() -> None:
    decays = [warmed_up_decay(0.999, n) for n in range(0, 20000, 50)]
    assert decays[0] == pytest.approx(0.1)
    assert all(b >= a for a, b in itertools.pairwise(decays))
    assert decays[-1] == 0.999
    assert warmed_up_decay(0.9, 10**6) == 0.9


def test_a_short_average_follows_the_weights_and_not_their_initial_value() -> None:
    update = ema_with_warmup(0.999)
    averaged, current = [torch.zeros(3)], [torch.zeros(3)]
    for step in range(200):  # the weights move from 0 to 1 and stay there
        current[0].fill_(min(1.0, step / 50))
        update(averaged, current, torch.tensor(step + 1))
    fixed = 1.0 - 0.999**150  # what a fixed decay keeps of the last 150 steps at 1
    assert averaged[0][0] > 0.95 > fixed


def test_integer_buffers_follow_the_model() -> None:
    update = ema_with_warmup(0.99)
    averaged, current = [torch.tensor([False])], [torch.tensor([True])]
    update(averaged, current, 5)
    assert bool(averaged[0][0])


def test_decay_outside_the_unit_interval_is_refused() -> None:
    with pytest.raises(ValueError):
        ema_with_warmup(1.0)
