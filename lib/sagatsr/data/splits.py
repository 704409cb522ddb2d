"""Train / validation / test splits, saved as plain id lists.

* :func:`matbench_splits`: the official Matbench v0.1 folds (test = one fold,
  training = the other four) with a seeded validation slice of the training
  part for early stopping; the test part is never touched by training.
* :func:`random_split`: a seeded random split for the other datasets.

A split folder holds ``train.txt``, ``val.txt`` and ``test.txt`` (one id per line).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sagatsr.io_utils import atomic_open

PARTS = ("train", "val", "test")


@dataclass(frozen=True)
class Split:
    """One split of a set of ids.

    Attributes:
        name: e.g. ``"matbench_fold0"`` or ``"random"``.
        train: Training ids.
        val: Validation ids (early stopping, model selection).
        test: Test ids (reported only).
    """

    name: str
    train: tuple[str, ...]
    val: tuple[str, ...]
    test: tuple[str, ...]

    def __post_init__(self) -> None:
        parts = [set(self.train), set(self.val), set(self.test)]
        sizes = [len(self.train), len(self.val), len(self.test)]
        if [len(p) for p in parts] != sizes:
            raise ValueError(f"split {self.name}: a part lists an id twice")
        if parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2]:
            raise ValueError(f"split {self.name}: train, val and test must be disjoint")


def _seeded_subset(ids: Sequence[str], fraction: float, seed: int) -> set[str]:
    rng = np.random.default_rng(seed)
    count = round(fraction * len(ids))
    return {ids[i] for i in rng.permutation(len(ids))[:count]}


def matbench_splits(
    ids: Sequence[str], folds: Sequence[int], *, val_fraction: float = 0.1, seed: int = 0
) -> list[Split]:
    """The Matbench folds of ``ids``.

    Args:
        ids: Entry ids.
        folds: Test fold (0-4) of each id.
        val_fraction: Share of each fold's training part held out for validation.
        seed: Seed of the validation slice.

    Returns:
        One :class:`Split` per fold present, ``matbench_fold<k>``, in fold order.

    Raises:
        ValueError: If the lengths differ or ``val_fraction`` is not in [0, 1).
    """
    if len(ids) != len(folds):
        raise ValueError(f"{len(ids)} ids but {len(folds)} folds")
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    fold_array = np.asarray(folds)
    splits = []
    for fold in sorted(set(fold_array.tolist())):
        test = [i for i, f in zip(ids, fold_array, strict=True) if f == fold]
        rest = [i for i, f in zip(ids, fold_array, strict=True) if f != fold]
        val = _seeded_subset(rest, val_fraction, seed + int(fold))
        splits.append(
            Split(
                f"matbench_fold{fold}",
                tuple(i for i in rest if i not in val),
                tuple(i for i in rest if i in val),
                tuple(test),
            )
        )
    return splits


def random_split(
    ids: Sequence[str],
    *,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    name: str = "random",
) -> Split:
    """A seeded random train / val / test split.

    Args:
        ids: Entry ids (unique).
        fractions: Train, validation and test shares (sum to 1).
        seed: Random seed.
        name: Split name.

    Returns:
        The split; parts keep the input order of ids.

    Raises:
        ValueError: If the fractions are negative or do not sum to 1.
    """
    if min(fractions) < 0 or not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"fractions must be non-negative and sum to 1, got {fractions}")
    order = np.random.default_rng(seed).permutation(len(ids))
    n_val = round(fractions[1] * len(ids))
    n_test = round(fractions[2] * len(ids))
    val = {ids[i] for i in order[:n_val]}
    test = {ids[i] for i in order[n_val : n_val + n_test]}
    return Split(
        name,
        tuple(i for i in ids if i not in val and i not in test),
        tuple(i for i in ids if i in val),
        tuple(i for i in ids if i in test),
    )


def save_split(split: Split, folder: str | os.PathLike[str]) -> Path:
    """Write ``train.txt``, ``val.txt``, ``test.txt`` into ``folder`` (atomically each)."""
    path = Path(folder)
    for part in PARTS:
        with atomic_open(path / f"{part}.txt", "w") as handle:
            handle.writelines(f"{i}\n" for i in getattr(split, part))
    return path


def load_split(folder: str | os.PathLike[str]) -> Split:
    """Read a split written by :func:`save_split`.

    Raises:
        FileNotFoundError: If a part file is missing.
    """
    path = Path(folder)
    parts = {}
    for part in PARTS:
        file = path / f"{part}.txt"
        if not file.is_file():
            raise FileNotFoundError(f"split file {file} does not exist")
        parts[part] = tuple(line.strip() for line in file.read_text().splitlines() if line.strip())
    return Split(path.name, parts["train"], parts["val"], parts["test"])
