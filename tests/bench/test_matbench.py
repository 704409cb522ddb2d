import json
from dataclasses import replace

import pytest

from sagatsr.bench.matbench import PUBLISHED_MAE, run_matbench
from sagatsr.train.config import TrainConfig
from tests.support.training import SMALL

#: The recipe of these tests: one epoch of small batches.
ONE_EPOCH = TrainConfig(epochs=1, batch_size=8, progress_bar=False, patience=0)


def test_matbench_protocol_on_two_folds(prepared, tmp_path) -> None:
    out = tmp_path / "matbench.json"
    result = run_matbench(
        prepared.out_dir,
        tmp_path / "runs",
        folds=(0, 1),
        model_settings=SMALL,
        train_config=ONE_EPOCH,
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


def test_matbench_with_an_ensemble_per_fold(prepared, tmp_path) -> None:
    result = run_matbench(
        prepared.out_dir,
        tmp_path / "runs",
        folds=(0,),
        model_settings=SMALL,
        train_config=ONE_EPOCH,
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
    sizes = result["by_ensemble_size"]
    assert [entry["members"] for entry in sizes] == [1, 2]
    assert sizes[1]["mean_test_mae"] == fold["test_mae"]
    assert sizes[1]["mean_val_mae"] == pytest.approx(fold["val_mae"], rel=1e-5)
    assert sizes[0]["mean_test_mae"] == fold["member_test_mae"][0]
    assert sizes[1]["train_cpu_seconds"] == result["train_cpu_seconds"]
    # notebook 05's figures of it
    import matplotlib

    matplotlib.use("Agg")
    from sagatsr.plots.bench import plot_accuracy_vs_cpu_time, plot_leaderboard, plot_reliability

    result["mean_mae"] = 0.03  # place it among the published entries below 0.1
    board = plot_leaderboard(result)
    widths = {round(bar.get_width(), 4) for bar in board.axes[0].patches}
    assert {0.03, 0.0288, 0.0452} <= widths
    curve = plot_accuracy_vs_cpu_time(result).axes[0].lines[0]
    assert list(curve.get_ydata()) == [e["mean_test_mae"] for e in sizes]
    observed = plot_reliability(result).axes[0].lines[1].get_ydata()
    assert list(observed) == summary["reliability"]["observed"]
    single = {**result, "by_ensemble_size": None, "uncertainty_test_mean_over_folds": None}
    assert plot_accuracy_vs_cpu_time(single) is None and plot_reliability(single) is None


def test_folds_run_in_separate_calls_merge_through_parts(prepared, tmp_path) -> None:
    parts = tmp_path / "parts"
    first = run_matbench(
        prepared.out_dir,
        tmp_path / "runs_a",
        folds=(0,),
        model_settings=SMALL,
        train_config=ONE_EPOCH,
        command="first",
        parts_dir=parts,
    )
    part = json.loads((parts / "fold0.json").read_text())
    assert part["fold_result"]["test_mae"] == first["folds"][0]["test_mae"]
    assert part["fold_result"]["commit"] and part["fold_result"]["hardware"]["cpu_cores"] > 0
    # Another session, another run folder: fold 0 is read, only fold 1 is trained.
    merged = run_matbench(
        prepared.out_dir,
        tmp_path / "runs_b",
        folds=(0, 1),
        model_settings=SMALL,
        train_config=TrainConfig(epochs=1, batch_size=8, progress_bar=True, patience=0),
        command="second",
        parts_dir=parts,
    )
    assert not (tmp_path / "runs_b" / "fold0").exists()
    assert (tmp_path / "runs_b" / "fold1" / "metrics.json").is_file()
    assert merged["folds"][0] == part["fold_result"]
    assert [f["fold"] for f in merged["folds"]] == [0, 1]
    assert merged["mean_mae"] == pytest.approx(
        (merged["folds"][0]["test_mae"] + merged["folds"][1]["test_mae"]) / 2
    )
    assert (parts / "fold1.json").is_file()


def test_a_part_made_with_another_recipe_is_refused(prepared, tmp_path) -> None:
    parts = tmp_path / "parts"
    settings = {"model_settings": SMALL, "folds": (0,), "parts_dir": parts}
    run_matbench(prepared.out_dir, tmp_path / "a", train_config=ONE_EPOCH, **settings)
    other = replace(ONE_EPOCH, lr=3e-3)
    with pytest.raises(ValueError, match=r"fold0\.json.*another recipe.*train_config\.lr"):
        run_matbench(prepared.out_dir, tmp_path / "b", train_config=other, **settings)


def test_ensemble_members_run_in_separate_calls_merge_through_member_parts(
    prepared, tmp_path
) -> None:
    parts = tmp_path / "parts"
    settings = {"model_settings": SMALL, "train_config": ONE_EPOCH, "folds": (0,)}
    first = run_matbench(
        prepared.out_dir, tmp_path / "a", seeds=(0, 1), parts_dir=parts, **settings
    )["folds"][0]
    assert sorted(p.name for p in parts.iterdir()) == [
        "fold0.json",
        "fold0_seed0.json",
        "fold0_seed1.json",
    ]
    member = json.loads((parts / "fold0_seed1.json").read_text())
    assert member["seed"] == 1 and member["recipe"]["seeds"] == []
    assert member["recipe"]["train_config"]["seed"] == 1
    assert member["metrics"]["metrics"]["test"]["mae"] == first["member_test_mae"][1]
    assert member["predictions"]["test"]["n"] == first["n_test"]
    assert "e_form" not in member["predictions"]["test"]  # ids and labels stay out
    # Another session without the run folders or the fold's part: the fold is
    # evaluated from the member parts alone, to the same numbers.
    (parts / "fold0.json").unlink()
    again = run_matbench(
        prepared.out_dir, tmp_path / "b", seeds=(0, 1), parts_dir=parts, **settings
    )["folds"][0]
    assert not (tmp_path / "b").exists()
    keys = ("test_mae", "val_mae", "member_test_mae", "uncertainty_test", "by_ensemble_size")
    assert {k: again[k] for k in keys} == {k: first[k] for k in keys}
    # More seeds: the members run so far are read, only the new one is trained.
    (parts / "fold0.json").unlink()
    three = run_matbench(
        prepared.out_dir, tmp_path / "c", seeds=(0, 1, 2), parts_dir=parts, **settings
    )["folds"][0]
    assert sorted(p.name for p in (tmp_path / "c" / "fold0").iterdir()) == ["seed2"]
    assert three["member_test_mae"][:2] == first["member_test_mae"]
    assert (parts / "fold0_seed2.json").is_file()


def test_a_member_part_for_other_structures_or_recipe_is_refused(prepared, tmp_path) -> None:
    parts = tmp_path / "parts"
    settings = {"model_settings": SMALL, "folds": (0,), "seeds": (0, 1), "parts_dir": parts}
    run_matbench(prepared.out_dir, tmp_path / "a", train_config=ONE_EPOCH, **settings)
    (parts / "fold0.json").unlink()
    other = replace(ONE_EPOCH, lr=3e-3)
    with pytest.raises(ValueError, match=r"fold0_seed0\.json.*seed 0.*another recipe.*lr"):
        run_matbench(prepared.out_dir, tmp_path / "b", train_config=other, **settings)
    member = parts / "fold0_seed1.json"
    stored = json.loads(member.read_text())
    stored["predictions"]["val"]["ids_sha256"] = "0" * 64
    member.write_text(json.dumps(stored))
    with pytest.raises(ValueError, match=r"fold0_seed1\.json: its val predictions are for other"):
        run_matbench(prepared.out_dir, tmp_path / "c", train_config=ONE_EPOCH, **settings)
