"""The run folder's plot data for ``dvc plots``."""

import shutil

import pandas as pd
import pytest

from sagatsr.train.run import Run


def test_plot_data_holds_the_learning_curve_and_the_test_parity(trained_runs, tmp_path) -> None:
    run = Run(trained_runs / "models" / "castelli_e_form")
    paths = run.write_plot_data(tmp_path / "plots")
    curve = pd.read_csv(paths["learning_curve"])
    assert list(curve.columns) == ["epoch", "train_loss", "val_mae"]
    assert list(curve["epoch"]) == [0, 1]
    parity = pd.read_csv(paths["parity"])
    predictions = run.predictions()
    test = predictions[predictions["part"] == "test"]
    assert list(parity.columns) == ["id", "target", "prediction"]
    assert parity["id"].tolist() == test["id"].tolist()
    assert parity["target"].tolist() == test["e_form"].tolist()
    assert len(parity) > 0


def test_a_run_finds_the_prepared_dataset_it_was_trained_on(
    trained_runs, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no artifacts/prepared here
    run = Run(trained_runs / "models" / "castelli_e_form")
    assert run.metadata()["prepared_dir"] == "../../prepared/castelli_perovskites"
    expected = (trained_runs / "prepared" / "castelli_perovskites").resolve()
    assert run.prepared_dataset().out_dir.resolve() == expected
    assert run.prepared_dataset(trained_runs / "prepared").out_dir.resolve() == expected
    with pytest.raises(FileNotFoundError, match=r"which is not at .*nowhere/castelli_perovskites"):
        run.prepared_dataset(tmp_path / "nowhere")
    moved = Run(tmp_path / "moved")
    shutil.copytree(run.model_dir, moved.model_dir)
    with pytest.raises(
        FileNotFoundError,
        match=r"not at .*prepared/castelli_perovskites nor at artifacts/prepared/castelli_per"
        r"ovskites: give the folder that holds castelli_perovskites/ with --prepared-root",
    ):
        moved.prepared_dataset()


def test_a_folder_of_runs_is_named_as_such(trained_runs, tmp_path) -> None:
    Run(trained_runs / "models" / "castelli_gap").require_model()
    with pytest.raises(
        FileNotFoundError,
        match=r"no model/\) \(it holds the runs castelli_e_form, castelli_gap: give one of them",
    ):
        Run(trained_runs / "models").require_model()
    with pytest.raises(FileNotFoundError, match=r"no model/\)$"):
        Run(tmp_path).require_model()
