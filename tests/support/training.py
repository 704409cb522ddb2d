"""Small training settings shared by the tests."""

from __future__ import annotations

from sagatsr.train.config import TrainConfig

#: A model small enough to train in seconds.
SMALL = {"hidden": 16, "heads": 2, "layers": 1, "edge_dim": 8, "n_rbf": 8, "sae_basis": 4}


def quick(epochs: int = 3, **kwargs) -> TrainConfig:
    """A few epochs of batch 8, no early stopping, no progress bar."""
    return TrainConfig(
        epochs=epochs, batch_size=8, lr=3e-3, progress_bar=False, patience=0, **kwargs
    )
