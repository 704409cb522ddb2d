"""The run folder's plot data for ``dvc plots``."""

import pandas as pd

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
