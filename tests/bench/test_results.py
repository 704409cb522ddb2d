import json

import matplotlib
import pytest

from sagatsr.bench.results import matbench_frame, read_results, suite_frame
from sagatsr.plots.bench import plot_embedding_ablation

matplotlib.use("Agg")


def ablation_result() -> dict:
    runs = []
    for embedding, mae in (("sae", 0.05), ("fcn", 0.06), ("onehot", 0.08)):
        for subset in ("all", "AB(OX)3"):
            runs.append(
                {
                    "name": f"{embedding}_{subset}",
                    "dataset": "castelli_perovskites",
                    "subset": subset,
                    "split": "matbench_fold0",
                    "target": "e_form",
                    "embedding": embedding,
                    "unit": "eV/cell",
                    "test_mae": mae,
                    "test_rmse": 2 * mae,
                    "test_r2": 0.9,
                    "n_train": 10,
                    "n_test": 5,
                    "epochs_run": 3,
                    "best_epoch": 2,
                    "train_seconds": 1.0,
                }
            )
    return {"suite": "embedding_ablation", "runs": runs}


def test_read_results_maps_missing_suites_to_none(tmp_path) -> None:
    (tmp_path / "embedding_ablation.json").write_text(json.dumps(ablation_result()))
    results = read_results(tmp_path)
    assert results["matbench"] is None and results["subsets"] is None
    assert results["embedding_ablation"]["suite"] == "embedding_ablation"


def test_read_results_errors_name_the_file_or_suite(tmp_path) -> None:
    (tmp_path / "subsets.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"subsets\.json"):
        read_results(tmp_path, ["subsets"])
    with pytest.raises(KeyError, match="unknown benchmark suite"):
        read_results(tmp_path, ["nope"])


def test_suite_and_matbench_frames() -> None:
    frame = suite_frame(ablation_result())
    assert len(frame) == 6 and frame["test_mae"].min() == 0.05
    matbench = matbench_frame(
        {"folds": [{"fold": 0, "test_mae": 0.04}, {"fold": 1, "test_mae": 0.06}], "mean_mae": 0.05}
    )
    assert matbench["fold"].tolist() == [0, 1, "mean"]
    assert matbench["test_mae"].tolist() == [0.04, 0.06, 0.05]


def test_embedding_ablation_plot_has_one_bar_per_run() -> None:
    figure = plot_embedding_ablation(ablation_result())
    bars = [patch for container in figure.axes[0].containers for patch in container]
    assert sorted(round(bar.get_height(), 6) for bar in bars) == [
        0.05,
        0.05,
        0.06,
        0.06,
        0.08,
        0.08,
    ]
