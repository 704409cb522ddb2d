"""Small training settings shared by the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sagatsr.train.config import TrainConfig

#: A model small enough to train in seconds.
SMALL = {"hidden": 16, "heads": 2, "layers": 1, "edge_dim": 8, "n_rbf": 8, "sae_basis": 4}


def quick(epochs: int = 3, **kwargs) -> TrainConfig:
    """A few epochs of batch 8, no early stopping, no progress bar."""
    return TrainConfig(
        epochs=epochs, batch_size=8, lr=3e-3, progress_bar=False, patience=0, **kwargs
    )


def train_fold0(prepared: Any, out_dir: Path, **kwargs: Any) -> dict[str, Any]:
    """``train_on_split`` of a prepared test dataset: all entries, Matbench fold 0, ``e_form``.

    Args:
        prepared: The :class:`sagatsr.prepare.PreparedDataset` of a fixture.
        out_dir: The run folder.
        **kwargs: More ``train_on_split`` arguments (model, training, refit...).

    Returns:
        The run's ``metrics.json``.
    """
    from sagatsr.train.pipeline import train_on_split

    return train_on_split(
        prepared.out_dir,
        subset="all",
        split="matbench_fold0",
        target="e_form",
        out_dir=out_dir,
        **kwargs,
    )
