"""Exponential moving average of the weights, with a warm-up of its decay.

With a fixed decay ``d`` the average after ``n`` steps still holds a share
``d ** n`` of the initial, untrained weights: ``0.999 ** 1000 = 0.37``. A short
run (a few thousand steps) is then evaluated with weights dragged back towards
their initialisation. The warm-up grows the decay with the number of updates,
``d_n = min(d, (1 + n) / (10 + n))`` (the ``num_updates`` rule of TensorFlow's
``ExponentialMovingAverage``), so early on the average follows the weights
closely and it becomes the configured long average only once there is
something to average.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

#: Signature of ``torch.optim.swa_utils.AveragedModel``'s ``multi_avg_fn``.
MultiAverageFn = Callable[[Sequence[Tensor], Sequence[Tensor], Tensor | int], None]


def warmed_up_decay(decay: float, updates: int) -> float:
    """Decay of the ``updates``-th update (0-based count of earlier averaging steps).

    Args:
        decay: The configured (final) decay in ``[0, 1)``.
        updates: Updates already made to the average.

    Returns:
        ``min(decay, (1 + updates) / (10 + updates))``.
    """
    return min(decay, (1.0 + updates) / (10.0 + updates))


def ema_with_warmup(decay: float) -> MultiAverageFn:
    """An ``AveragedModel`` ``multi_avg_fn``: EMA whose decay warms up (see module docstring).

    Args:
        decay: Final decay in ``[0, 1)``.

    Returns:
        A function updating the averaged tensors in place from the current ones.

    Raises:
        ValueError: If ``decay`` is outside ``[0, 1)``.
    """
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"decay must be in [0, 1), got {decay}")

    @torch.no_grad()
    def update(
        averaged: Sequence[Tensor], current: Sequence[Tensor], updates: Tensor | int
    ) -> None:
        step_decay = warmed_up_decay(decay, int(updates))
        if torch.is_floating_point(averaged[0]):
            torch._foreach_lerp_(list(averaged), list(current), 1.0 - step_decay)
        else:  # integer or boolean buffers are not averaged: they follow the model
            for target, source in zip(averaged, current, strict=True):
                target.copy_(source)

    return update
