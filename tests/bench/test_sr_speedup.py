"""The 23x harness on a tiny distilled run: both arms timed on the same rows and settings."""

import json

from sagatsr.bench.sr_speedup import DFT_COST_NOTE, conventional_inputs, measure_sr_speedup
from sagatsr.sr.distill import EP
from tests.sr.test_distill import result  # noqa: F401  (fixture)


def test_conventional_inputs_are_the_whole_catalog(result, trained_runs) -> None:  # noqa: F811
    _, inputs, units, dropped = conventional_inputs(result, trained_runs / "prepared")
    assert EP not in inputs and result.data.target not in inputs
    assert len(inputs) + len(dropped) == len(result.data.frame.columns) - 4 + len(units)
    assert set(result.data.top_features(3)) <= set(inputs)
    assert all(reason for reason in dropped.values())


def test_speedup_result(result, trained_runs, tmp_path) -> None:  # noqa: F811
    out = tmp_path / "sr_speedup.json"
    # Two fold models of the run: one resumed once (its clocks restart), one never trained.
    fold0 = tmp_path / "oof" / result.run / "fold0"
    fold0.mkdir(parents=True)
    (fold0 / "history.csv").write_text(
        "epoch,train_loss,val_mae,lr,seconds,cpu_seconds\n"
        "0,1,1,0.1,10,9\n1,1,1,0.1,20,18\n2,1,1,0.1,5,4\n"
    )
    (tmp_path / "oof" / result.run / "fold1").mkdir()
    measured = measure_sr_speedup(
        [result],
        prepared_root=trained_runs / "prepared",
        models_root=trained_runs / "models",
        oof_root=tmp_path / "oof",
        engine="sisso",
        sr_options={"n_sis": 10, "max_dim": 2, "operators": ["+", "-", "*", "/"]},
        top_k=3,
        out_path=out,
        command="test",
    )
    (row,) = measured["runs"]
    assert row["conventional"]["n_inputs"] > row["sa_gat_sr"]["n_inputs"] == 4
    assert row["conventional"]["sr_seconds"] > 0 and row["sa_gat_sr"]["sr_seconds"] > 0
    assert row["speedup"] == row["conventional"]["sr_seconds"] / row["sa_gat_sr"]["sr_seconds"]
    assert row["one_time_costs"]["dft_inputs"] == DFT_COST_NOTE
    assert row["one_time_costs"]["ep_inference_seconds"] > 0
    assert row["one_time_costs"]["n_fold_models"] == 1
    assert row["one_time_costs"]["fold_models_training_seconds"] == 25.0  # 20 + 5 after resume
    assert json.loads(out.read_text())["goal_speedup"] == 23
