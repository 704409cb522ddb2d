import json
import shutil
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from sagatsr.bench.matbench import run_matbench
from sagatsr.bench.matbench_combined import combine_matbench
from sagatsr.bench.readme import matbench_section
from sagatsr.bench.results import SUITE_FILES, matbench_frame, read_results
from sagatsr.plots.bench import plot_leaderboard, plot_reliability
from sagatsr.train.config import TrainConfig
from sagatsr.train.run import Run
from tests.support.training import SMALL

#: One epoch of small batches; the two recipes differ in weight decay only.
ONE_EPOCH_A = TrainConfig(epochs=1, batch_size=8, progress_bar=False, patience=0, weight_decay=0.05)
ONE_EPOCH_B = replace(ONE_EPOCH_A, weight_decay=0.2)


@pytest.fixture(scope="module")
def two_benchmarks(prepared, tmp_path_factory):
    """Fold 0 of two 2-seed benchmarks that differ in weight decay, each with its parts."""
    root = tmp_path_factory.mktemp("combined")
    for name, config in (("a", ONE_EPOCH_A), ("b", ONE_EPOCH_B)):
        run_matbench(
            prepared.out_dir,
            root / f"runs_{name}",
            folds=(0,),
            model_settings=SMALL,
            train_config=config,
            seeds=(0, 1),
            parts_dir=root / f"parts_{name}",
        )
    return root


def test_the_combined_ensemble_is_the_mean_of_every_member(prepared, two_benchmarks) -> None:
    root = two_benchmarks
    out = root / "combined.json"
    result = combine_matbench(
        prepared.out_dir, [root / "parts_a", root / "parts_b"], folds=(0,), out_path=out
    )
    fold = result["folds"][0]
    # Members in turn from each benchmark, so the first two already mix the recipes.
    assert fold["members"] == [
        {"recipe": 0, "seed": 0},
        {"recipe": 1, "seed": 0},
        {"recipe": 0, "seed": 1},
        {"recipe": 1, "seed": 1},
    ]
    runs = [root / "runs_a/fold0/seed0", root / "runs_b/fold0/seed0"]
    runs += [root / "runs_a/fold0/seed1", root / "runs_b/fold0/seed1"]
    frames = [Run(run).predictions() for run in runs]
    test = [frame[frame["part"] == "test"] for frame in frames]
    mean = np.mean([t["prediction"].to_numpy() for t in test], axis=0)
    assert fold["test_mae"] == pytest.approx(np.abs(mean - test[0]["e_form"]).mean(), rel=1e-6)
    assert fold["member_val_mae"] == [Run(run).metrics()["best_val_mae"] for run in runs]
    assert [size["members"] for size in fold["by_ensemble_size"]] == [1, 2, 3, 4]
    assert result["by_ensemble_size"][3]["mean_test_mae"] == pytest.approx(fold["test_mae"])
    assert [r["train_config"]["weight_decay"] for r in result["recipes"]] == [0.05, 0.2]
    assert result["ensemble_seeds"] == [0, 0, 1, 1]
    assert result["summary"].startswith(
        f"Matbench perovskites e_form: mean test MAE {result['mean_mae']:.4f} eV/cell "
        "(ensembles of 4 members from 2 recipes) over 1 fold(s)"
    )
    assert json.loads(out.read_text())["mean_mae"] == result["mean_mae"]
    text = matbench_section({"matbench_perovskites": result})
    assert "An ensemble of 4 members per fold from 2 recipes: (A) 2 seeds of model" in text
    assert "weight decay 0.05" in text and "(B) 2 seeds" in text and "weight decay 0.2" in text


def test_combining_refuses_what_it_cannot_score(prepared, two_benchmarks, tmp_path) -> None:
    root = two_benchmarks
    with pytest.raises(ValueError, match="at least two benchmarks"):
        combine_matbench(prepared.out_dir, [root / "parts_a"], folds=(0,))
    with pytest.raises(ValueError, match=r"fold 1 is not finished there \(fold1\.json missing\)"):
        combine_matbench(prepared.out_dir, [root / "parts_a", root / "parts_b"], folds=(1,))
    # A member part that does not belong to its folder's recipe is refused, not mixed in.
    broken = tmp_path / "parts_b"
    shutil.copytree(root / "parts_b", broken)
    member = broken / "fold0_seed1.json"
    stored = json.loads(member.read_text())
    stored["recipe"]["train_config"]["lr"] = 1.0
    member.write_text(json.dumps(stored))
    with pytest.raises(ValueError, match=r"fold0_seed1\.json.*another recipe.*lr"):
        combine_matbench(prepared.out_dir, [root / "parts_a", broken], folds=(0,))
    member.unlink()
    with pytest.raises(ValueError, match=r"fold0_seed1\.json: the member is missing"):
        combine_matbench(prepared.out_dir, [root / "parts_a", broken], folds=(0,))


def test_the_command_line_writes_the_combined_result(prepared, two_benchmarks, tmp_path) -> None:
    from sagatsr.cli import main

    out = tmp_path / "combined.json"
    parts = [str(two_benchmarks / "parts_a"), str(two_benchmarks / "parts_b")]
    argv = ["benchmark", "matbench_combined", *parts, "--prepared", str(prepared.out_dir)]
    assert main([*argv, "--folds", "0", "--out", str(out)]) == 0
    saved = json.loads(out.read_text())
    assert saved["folds"][0]["fold"] == 0 and len(saved["recipes"]) == 2
    assert pd.DataFrame(saved["folds"][0]["members"]).shape == (4, 2)


def test_refit_members_are_calibrated_like_the_ensembles_trained_without_the_slice(
    prepared, two_benchmarks, tmp_path
) -> None:
    from sagatsr.bench.matbench import fold_calibrations
    from sagatsr.cli import main

    root = two_benchmarks
    combined = combine_matbench(
        prepared.out_dir,
        [root / "parts_a", root / "parts_b"],
        folds=(0,),
        out_path=tmp_path / "c.json",
    )
    from_result = fold_calibrations(tmp_path / "c.json")
    assert from_result[0].to_dict() == combined["folds"][0]["calibration"]
    from_parts = fold_calibrations(root / "parts_a")
    part = json.loads((root / "parts_a" / "fold0.json").read_text())
    assert from_parts[0].to_dict() == part["fold_result"]["calibration"]
    with pytest.raises(ValueError, match="no fold with an ensemble calibration"):
        fold_calibrations(tmp_path)
    settings = {"folds": (0,), "model_settings": SMALL, "seeds": (0, 1), "refit": True}
    with pytest.raises(ValueError, match=r"missing for fold\(s\) \[0\]"):
        run_matbench(prepared.out_dir, tmp_path / "no", train_config=ONE_EPOCH_A, **settings)
    for name, config in (("a", ONE_EPOCH_A), ("b", ONE_EPOCH_B)):
        result = run_matbench(
            prepared.out_dir,
            tmp_path / f"refit_{name}",
            train_config=config,
            parts_dir=tmp_path / f"parts_{name}",
            calibrations=from_parts if name == "a" else fold_calibrations(root / "parts_b"),
            **settings,
        )
        assert result["refit"] is True and "refit on training + validation" in result["summary"]
    member = Run(tmp_path / "refit_a" / "fold0" / "seed0").metrics()
    assert member["refit"] is True
    ensemble = json.loads((tmp_path / "refit_a" / "fold0" / "ensemble.json").read_text())
    assert ensemble["calibration"] == from_parts[0].to_dict()  # not fitted on in-sample errors
    assert json.loads((tmp_path / "parts_a" / "fold0.json").read_text())["recipe"]["refit"]
    refit_parts = [tmp_path / "parts_a", tmp_path / "parts_b"]
    with pytest.raises(ValueError, match="refit on the validation slice"):
        combine_matbench(prepared.out_dir, refit_parts, folds=(0,))
    with pytest.raises(ValueError, match="cannot be combined"):
        combine_matbench(prepared.out_dir, [tmp_path / "parts_a", root / "parts_b"], folds=(0,))
    out = tmp_path / "refit.json"
    argv = ["benchmark", "matbench_combined", *map(str, refit_parts), "--folds", "0"]
    argv += ["--prepared", str(prepared.out_dir), "--calibration-from", str(tmp_path / "c.json")]
    assert main([*argv, "--out", str(out)]) == 0
    refit = json.loads(out.read_text())
    assert refit["refit"] is True and refit["folds"][0]["calibration"] == from_result[0].to_dict()
    text = matbench_section({"matbench_perovskites": refit})
    assert "refit on the training and validation parts (last epoch)" in text
    assert "trained without it" in text and "validation / test" not in text
    # notebook 05 reads it as the matbench_refit suite and shows it like the first result
    assert read_results(tmp_path / "nothing_yet", ["matbench_refit"]) == {"matbench_refit": None}
    shutil.copy(out, tmp_path / SUITE_FILES["matbench_refit"])
    shown = read_results(tmp_path, ["matbench_refit"])["matbench_refit"]
    frame = matbench_frame(shown)
    assert frame["fold"].tolist() == [0, "mean"]
    assert frame["test_mae"].tolist() == [refit["folds"][0]["test_mae"], refit["mean_mae"]]
    assert plot_leaderboard(shown) is not None and plot_reliability(shown) is not None
    # a refit ensemble without a calibration is a usage error of the command line
    assert main(["benchmark", "matbench", "--refit", "--seeds", "0", "1"]) == 2
