"""Out-of-fold Ep: every training row predicted by a model that never trained on it."""

import pandas as pd
import pytest

from sagatsr.train.config import TrainConfig
from sagatsr.train.oof import OOF_FILE, out_of_fold_predictions
from tests.support.training import SMALL


def test_oof_predictions(prepared, tmp_path) -> None:
    frame = out_of_fold_predictions(
        prepared.out_dir,
        subset="all",
        split="matbench_fold0",
        target="gap_gllbsc",
        out_root=tmp_path,
        k=3,
        model_settings=SMALL,
        train_config=TrainConfig(epochs=1, batch_size=8, progress_bar=False, patience=0),
    )
    split = prepared.out_dir / "splits" / "all" / "matbench_fold0"
    for part in ("train", "val", "test"):
        ids = (split / f"{part}.txt").read_text().split()
        assert set(frame.query("part == @part")["id"]) == set(ids)
    train = frame.query("part == 'train'")
    assert set(train["model"]) == {"fold0", "fold1", "fold2"}
    assert set(frame.query("part != 'train'")["model"]) == {"main"}
    # Each fold model never saw the rows it predicted: its training ids exclude them.
    for model, rows in train.groupby("model"):
        seen = set((tmp_path / model / "train_ids.txt").read_text().split())
        assert seen and not seen & set(rows["id"])
        assert seen | set(rows["id"]) == set(train["id"])
    assert frame["ep"].notna().all()
    assert pd.read_csv(tmp_path / OOF_FILE).shape == frame.shape
    with pytest.raises(ValueError, match="k must be"):
        out_of_fold_predictions(
            prepared.out_dir,
            subset="all",
            split="matbench_fold0",
            target="gap_gllbsc",
            out_root=tmp_path,
            k=1,
        )
