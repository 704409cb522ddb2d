"""The encoding comparison at a size that runs in the test suite."""

import json
from dataclasses import replace

import pytest

from sagatsr.bench.ic_encodings import (
    comparison_settings,
    fold0_validation,
    merge_encodings,
    run_ic_encodings,
    verdict,
)
from sagatsr.bench.ic_faithfulness import PLANTED, DatasetChoice
from sagatsr.train.config import TrainConfig
from tests.support.training import SMALL

TINY = replace(
    comparison_settings(),
    n_train=40,
    n_val=10,
    n_eval=10,
    seeds=(0, 1),
    model=SMALL,
    train=TrainConfig(epochs=1, batch_size=8, progress_bar=False, patience=0),
)


@pytest.mark.slow
def test_encodings_are_compared_merged_and_judged(prepared, tmp_path) -> None:
    choice = DatasetChoice(prepared.out_dir.name, "all", "matbench_fold0", "e_form")
    parts = [
        run_ic_encodings(
            prepared.out_dir.parent,
            [name],
            dataset=choice,
            settings=TINY,
            planted=PLANTED[:1],
            out_path=tmp_path / f"{name}.json",
            command="test",
            progress=lambda line: None,
        )
        for name in ("paper", "zero_init")
    ]
    assert json.loads((tmp_path / "paper.json").read_text())["commit"]
    scores = parts[1]["encodings"]["zero_init"]["scores"]
    assert 0.0 <= scores["recall_at_5_group"] <= 1.0 and 0.0 < scores["entropy_ratio"] <= 1.0
    assert set(scores["recall_at_5_group_by_target"]) == {"linear"}
    assert scores["planted_mae_over_std"] > 0
    recipe = {"size": None, **SMALL, "epochs": 1, "batch_size": 8, "progress_bar": False}
    check = fold0_validation(prepared.out_dir, ["paper"], tmp_path / "fold0", recipe=recipe)
    assert check["encodings"]["paper"]["val_mae"] > 0
    merged = merge_encodings([*parts, check], "merge")
    assert set(merged["encodings"]) == {"paper", "zero_init"}
    assert set(merged["matbench_fold0"]["encodings"]) == {"paper"}
    assert len(merged["parts"]) == 2 and merged["verdict"]["best"] in merged["encodings"]
    assert "no Matbench fold-0 validation run for both" in merged["verdict"]["reasons"] or (
        merged["verdict"]["best"] == "paper"
    )
    from sagatsr.plots.faithfulness import encoding_frame, plot_encoding_comparison

    assert list(encoding_frame(merged)["encoding"]) == ["paper", "zero_init"]
    assert encoding_frame(merged)["fold0_val_mae"].notna().tolist() == [True, False]
    assert len(plot_encoding_comparison(merged).axes) == 2
    with pytest.raises(ValueError, match="more than one part"):
        merge_encodings([parts[0], parts[0]])
    with pytest.raises(KeyError, match="sharpest"):
        run_ic_encodings(prepared.out_dir.parent, ["sharpest"], dataset=choice, settings=TINY)


def _comparison(recalls: dict[str, float], spearman: dict[str, float], val: dict[str, float]):
    return {
        "encodings": {
            name: {"scores": {"recall_at_5_group": r, "seed_spearman": spearman[name]}}
            for name, r in recalls.items()
        },
        "matbench_fold0": {"encodings": {n: {"val_mae": v} for n, v in val.items()}},
    }


def test_the_verdict_needs_recall_stability_and_accuracy() -> None:
    recalls = {"paper": 0.7, "normalized": 0.9}
    good = _comparison(
        recalls, {"paper": 0.3, "normalized": 0.4}, {"paper": 0.036, "normalized": 0.035}
    )
    assert verdict(good) == {"best": "normalized", "becomes_default": True, "reasons": []}
    unstable = _comparison(
        recalls, {"paper": 0.3, "normalized": 0.2}, {"paper": 0.036, "normalized": 0.035}
    )
    assert not verdict(unstable)["becomes_default"]
    worse = _comparison(
        recalls, {"paper": 0.3, "normalized": 0.4}, {"paper": 0.036, "normalized": 0.037}
    )
    assert verdict(worse)["reasons"] == ["Matbench fold-0 validation MAE above paper's"]
    tied = _comparison({"paper": 0.7, "a": 0.8, "b": 0.8}, {"paper": 0.3, "a": 0.1, "b": 0.4}, {})
    assert verdict(tied)["best"] == "b"
    same = _comparison({"paper": 0.9, "normalized": 0.8}, {"paper": 0.3, "normalized": 0.4}, {})
    assert verdict(same)["best"] == "paper" and not verdict(same)["becomes_default"]


@pytest.mark.slow
def test_the_command_line_checks_the_paper_and_the_best_encoding_on_fold0(
    prepared, tmp_path
) -> None:
    from sagatsr.cli import main

    root = tmp_path / "prepared"
    root.mkdir()
    (root / "castelli_perovskites").symlink_to(prepared.out_dir)
    choice = DatasetChoice(prepared.out_dir.name, "all", "matbench_fold0", "e_form")
    comparison_path = tmp_path / "comparison.json"
    run_ic_encodings(
        prepared.out_dir.parent,
        ["paper"],
        dataset=choice,
        settings=TINY,
        planted=PLANTED[:1],
        out_path=comparison_path,
        progress=lambda line: None,
    )
    code = main(
        [
            "benchmark",
            "ic_encodings",
            "--fold0",
            str(comparison_path),
            "--prepared-root",
            str(root),
            "--work-dir",
            str(tmp_path / "fold0"),
            "--out",
            str(tmp_path / "fold0.json"),
        ]
    )
    assert code == 0
    checked = json.loads((tmp_path / "fold0.json").read_text())
    assert list(checked["encodings"]) == ["paper"] and checked["encodings"]["paper"]["val_mae"] > 0
    assert checked["recipe"]["epochs"] == 150
