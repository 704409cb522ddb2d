"""Training hyperparameters as one JSON-serialisable dataclass."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

#: Training losses on standardised targets, and the validation metric each selects
#: the best epoch (and stops early) by.
LOSS_MONITORS: dict[str, str] = {"l1": "val_mae", "mse": "val_rmse"}


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained (the paper's reference values as defaults where it gives them).

    Attributes:
        epochs: Maximum number of epochs (the paper trains 200).
        batch_size: Graphs per batch (the reference code uses 1; we batch).
        lr: Peak learning rate of AdamW (paper: 8e-5 at batch size 1).
        weight_decay: AdamW weight decay (paper: 3e-5).
        warmup_fraction: Share of all optimisation steps with a linear warm-up.
        decay_power: Power of the polynomial decay to ``lr * end_lr_ratio``.
        end_lr_ratio: Final learning rate as a fraction of ``lr``.
        patience: Early stopping: epochs without a better validation MAE
            (``0`` disables early stopping).
        seed: Seed of model initialisation, batch order and dropout.
        accelerator: Lightning accelerator (``"auto"``, ``"cpu"``, ``"gpu"``).
        devices: Lightning devices (``"auto"``, a count, or a list); several
            GPUs use DDP with no code change.
        num_workers: Data-loader worker processes.
        deterministic: Ask torch for deterministic algorithms (exact CPU
            reproducibility for a fixed seed).
        progress_bar: Show Lightning's progress bar.
        max_time_minutes: Stop training after this wall time (``0``: no limit),
            counted over every call of a resumed run; the best checkpoint so far
            is kept.
        loss: ``"l1"`` (the paper's choice) or ``"mse"``. L1 regresses to the
            conditional median: on a target that is exactly zero for most
            structures (band gaps of sets dominated by metals) it learns to
            predict zero everywhere; MSE regresses to the mean and does not.
            The best epoch and early stopping follow validation MAE for ``l1``
            and validation RMSE for ``mse``.
        ema_decay: Keep an exponential moving average of the weights with this
            decay per optimisation step (``0``: off). Validation, the best
            checkpoint and the saved model then use the averaged weights
            (Lightning's ``WeightAveraging``). The decay warms up, ``min(ema_decay,
            (1 + n) / (10 + n))`` at the ``n``-th update, so a short run is not
            evaluated with weights still close to their initialisation (see
            :mod:`sagatsr.train.averaging`); with about 200 steps per epoch,
            ``0.999`` then averages over roughly the last five epochs.
        compile: Compile the network's training step with ``torch.compile``
            (TorchInductor): fused kernels instead of thousands of small
            operations per step. It costs a compilation of the order of a
            minute at the start of each run (less when Inductor's on-disk
            cache has seen the model), so it pays off for runs of more than a
            few minutes. Results stay deterministic for a fixed seed but differ
            slightly from those without compilation (floating-point order).
        threads: Torch threads per training process (``0``: chosen
            automatically, see :func:`sagatsr.runtime.training_threads`).
    """

    epochs: int = 200
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 3e-5
    warmup_fraction: float = 0.05
    decay_power: float = 1.0
    end_lr_ratio: float = 0.01
    patience: int = 30
    seed: int = 0
    accelerator: str = "auto"
    devices: Any = "auto"
    num_workers: int = 0
    deterministic: bool = True
    progress_bar: bool = True
    max_time_minutes: float = 0.0
    loss: Literal["l1", "mse"] = "l1"
    ema_decay: float = 0.0
    compile: bool = False
    threads: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be >= 1")
        if self.lr <= 0 or self.weight_decay < 0:
            raise ValueError("lr must be positive and weight_decay non-negative")
        if not 0.0 <= self.warmup_fraction < 1.0:
            raise ValueError(f"warmup_fraction must be in [0, 1), got {self.warmup_fraction}")
        if not 0.0 < self.end_lr_ratio <= 1.0 or self.decay_power <= 0:
            raise ValueError("end_lr_ratio must be in (0, 1] and decay_power positive")
        if min(self.patience, self.num_workers, self.max_time_minutes, self.threads) < 0:
            raise ValueError("patience, num_workers, max_time_minutes and threads must be >= 0")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.loss not in LOSS_MONITORS:
            raise ValueError(f"loss must be one of {sorted(LOSS_MONITORS)}, got {self.loss!r}")

    @property
    def monitor(self) -> str:
        """Validation metric that picks the best epoch and drives early stopping."""
        return LOSS_MONITORS[self.loss]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Rebuild from :meth:`to_dict` output.

        Raises:
            ValueError: For unknown keys.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig fields: {unknown}")
        return cls(**values)


def lr_factor(step: int, total_steps: int, config: TrainConfig) -> float:
    """Learning-rate multiplier: linear warm-up, then polynomial decay.

    Args:
        step: Optimisation step (0-based).
        total_steps: Steps of the whole run.
        config: Training configuration.

    Returns:
        The factor applied to ``config.lr`` (in ``(0, 1]``).
    """
    total = max(total_steps, 1)
    warmup = int(config.warmup_fraction * total)
    if step < warmup:
        return (step + 1) / (warmup + 1)
    progress = min(1.0, (step - warmup) / max(total - warmup, 1))
    end = config.end_lr_ratio
    return end + (1.0 - end) * (1.0 - progress) ** config.decay_power
