"""Splits: Matbench folds, seeded random splits, id-list files."""

import pytest

from sagatsr.data.splits import Split, load_split, matbench_splits, random_split, save_split


def test_matbench_splits_follow_the_folds() -> None:
    ids = [f"id{i}" for i in range(100)]
    folds = [i % 5 for i in range(100)]
    splits = matbench_splits(ids, folds, val_fraction=0.1, seed=3)
    assert [s.name for s in splits] == [f"matbench_fold{k}" for k in range(5)]
    for k, split in enumerate(splits):
        assert set(split.test) == {i for i, f in zip(ids, folds, strict=True) if f == k}
        assert len(split.val) == 8 and len(split.train) == 72
        assert set(split.train) | set(split.val) | set(split.test) == set(ids)
    assert matbench_splits(ids, folds, seed=3) == splits  # seeded
    assert matbench_splits(ids, folds, seed=4)[0].val != splits[0].val
    with pytest.raises(ValueError):
        matbench_splits(ids, folds[:-1])


def test_random_split_is_seeded_and_disjoint() -> None:
    ids = [f"m{i}" for i in range(50)]
    split = random_split(ids, fractions=(0.8, 0.1, 0.1), seed=1)
    assert (len(split.train), len(split.val), len(split.test)) == (40, 5, 5)
    assert random_split(ids, seed=1) == split
    assert random_split(ids, seed=2) != split
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(ids, fractions=(0.5, 0.1, 0.1))
    with pytest.raises(ValueError, match="disjoint"):
        Split("bad", ("a",), ("a",), ())


def test_save_and_load(tmp_path) -> None:
    split = random_split([f"x{i}" for i in range(20)], seed=0)
    folder = save_split(split, tmp_path / "random")
    assert sorted(p.name for p in folder.iterdir()) == ["test.txt", "train.txt", "val.txt"]
    assert load_split(folder) == split
    with pytest.raises(FileNotFoundError, match=r"train\.txt"):
        load_split(tmp_path / "none")
