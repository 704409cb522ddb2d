import json

from sagatsr.bench.matbench import PUBLISHED_MAE, run_matbench
from sagatsr.train.config import TrainConfig
from tests.train.test_training_runs import SMALL, prepared  # noqa: F401  (fixture)


def test_matbench_protocol_on_two_folds(prepared, tmp_path) -> None:  # noqa: F811
    out = tmp_path / "matbench.json"
    result = run_matbench(
        prepared.out_dir,
        tmp_path / "runs",
        folds=(0, 1),
        model_settings=SMALL,
        train_config=TrainConfig(epochs=1, batch_size=8, progress_bar=False, patience=0),
        out_path=out,
        command="test",
    )
    assert [f["fold"] for f in result["folds"]] == [0, 1]
    assert not result["complete"] and "INCOMPLETE" in result["summary"]
    assert not result["meets_minimum"] and result["better_than"] == []
    fold0 = (prepared.out_dir / "splits/all/matbench_fold0/test.txt").read_text().split()
    assert result["folds"][0]["n_test"] == len(fold0)
    assert result["mean_mae"] == sum(f["test_mae"] for f in result["folds"]) / 2
    # Recipes are compared on validation MAE, each fold's own held-out training slice.
    for fold in result["folds"]:
        run = json.loads((tmp_path / "runs" / f"fold{fold['fold']}" / "metrics.json").read_text())
        assert fold["val_mae"] == run["best_val_mae"] > 0
    assert result["mean_val_mae"] == sum(f["val_mae"] for f in result["folds"]) / 2
    assert result["minimum_bar_cgcnn"] == PUBLISHED_MAE["CGCNN"] == 0.0452
    saved = json.loads(out.read_text())
    assert saved["command"] == "test" and saved["commit"] and "finished" in saved


def test_matbench_with_an_ensemble_per_fold(prepared, tmp_path) -> None:  # noqa: F811
    result = run_matbench(
        prepared.out_dir,
        tmp_path / "runs",
        folds=(0,),
        model_settings=SMALL,
        train_config=TrainConfig(epochs=1, batch_size=8, progress_bar=False, patience=0),
        seeds=(0, 1),
        command="test",
    )
    fold = result["folds"][0]
    ensemble = json.loads((tmp_path / "runs/fold0/ensemble.json").read_text())
    assert fold["test_mae"] == ensemble["metrics"]["test"]["mae"]
    assert fold["seeds"] == [0, 1] and len(fold["member_test_mae"]) == 2
    assert fold["uncertainty_test"]["coverage"].keys() == {"0.68", "0.95"}
    assert result["ensemble_seeds"] == [0, 1]
    summary = result["uncertainty_test_mean_over_folds"]
    assert summary["coverage"] == fold["uncertainty_test"]["coverage"]
    assert result["train_cpu_seconds"] == fold["train_cpu_seconds"] > 0
