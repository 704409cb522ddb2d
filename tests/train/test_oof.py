"""Out-of-fold Ep: every training row predicted by a model that never trained on it."""

import os

import numpy as np
import pandas as pd
import pytest

from sagatsr.train import runner
from sagatsr.train.config import TrainConfig
from sagatsr.train.data import load_split_parts
from sagatsr.train.oof import OOF_FILE, _keep_ids, fit_on_ids, out_of_fold_predictions
from sagatsr.train.run import Run
from sagatsr.train.runner import best_model, predict_graphs
from tests.support.training import SMALL, quick


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


@pytest.mark.slow
def test_data_parallel_oof_models_each_train_in_their_own_process(prepared, tmp_path) -> None:
    # k + 1 data-parallel fits in one call: before they ran in their own
    # processes, the second one was refused (Lightning starts one fit's peers).
    frame = out_of_fold_predictions(
        prepared.out_dir,
        subset="all",
        split="matbench_fold0",
        target="e_form",
        out_root=tmp_path,
        k=2,
        model_settings=SMALL,
        train_config=quick(epochs=1, accelerator="cpu", devices=2),
    )
    assert set(frame["model"]) == {"main", "fold0", "fold1"}
    assert frame["ep"].notna().all()
    for model in ("main", "fold0", "fold1"):
        assert Run(tmp_path / model).best_checkpoint.is_file()
    # The calling process never became a data-parallel rank (nor refused a second fit).
    assert "LOCAL_RANK" not in os.environ and runner._data_parallel_fits == 0
    # The held-out rows' Ep is the saved fold model's prediction.
    held_out = frame.query("model == 'fold1'")
    _, parts = load_split_parts(prepared, "all", "matbench_fold0", "e_form")
    rows = _keep_ids(parts["train"], list(held_out["id"]))
    expected = predict_graphs(best_model(tmp_path / "fold1"), rows)
    np.testing.assert_allclose(held_out.set_index("id").loc[rows.ids, "ep"], expected)


def test_a_fit_on_ids_outside_the_training_part_is_refused(prepared, tmp_path) -> None:
    with pytest.raises(ValueError, match=r"1 id\(s\) are not in the training part, e.g. nope"):
        fit_on_ids(
            prepared.out_dir,
            subset="all",
            split="matbench_fold0",
            target="e_form",
            train_ids=["nope"],
            out_dir=tmp_path / "run",
            model_settings=SMALL,
            train_config=quick(epochs=1),
            check_recipe=False,
        )
    assert not (tmp_path / "run").exists()
