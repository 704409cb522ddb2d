"""The IC faithfulness benchmark at a size that runs in the test suite."""

import json

import numpy as np
import pytest

from sagatsr.bench.ic_faithfulness import (
    PLANTED,
    DatasetChoice,
    FaithfulnessSettings,
    PlantedTarget,
    merge_results,
    planted_signal,
    robust_z,
    run_ic_faithfulness,
)
from sagatsr.train.config import TrainConfig
from tests.support.training import SMALL


def test_planted_formulas() -> None:
    a, b, c = np.array([1.0, 2.0, 3.0, 4.0]), np.array([4.0, 1.0, 3.0, 2.0]), np.arange(4.0)
    columns = {"a": a, "b": b, "c": c}
    za, zb, zc = robust_z(a), robust_z(b), robust_z(c)
    assert np.allclose(
        planted_signal(PlantedTarget("l", "linear", ("a", "b")), columns), za + 0.8 * zb
    )
    assert np.allclose(planted_signal(PlantedTarget("p", "product", ("a", "b")), columns), za * zb)
    assert np.allclose(
        planted_signal(PlantedTarget("i", "interaction", ("a", "b", "c")), columns),
        za + zb + za * zc,
    )
    with pytest.raises(ValueError):
        planted_signal(PlantedTarget("x", "cubic", ("a",)), columns)
    assert np.nanmedian(robust_z(np.array([1.0, np.nan, 3.0, 5.0]))) == 0.0


def test_every_default_planted_feature_is_in_the_catalog() -> None:
    from sagatsr.features.catalog import GLOBAL_FEATURES, NODE_FEATURES

    globals_, nodes = {s.name for s in GLOBAL_FEATURES}, {s.name for s in NODE_FEATURES}
    for target in PLANTED:
        assert set(target.features) <= (nodes if target.formula == "node" else globals_)


@pytest.mark.slow
def test_the_benchmark_runs_and_reports_every_experiment(prepared, tmp_path) -> None:
    settings = FaithfulnessSettings(
        n_train=40,
        n_val=10,
        n_eval=10,
        seeds=(0, 1),
        noise_levels=(0.1,),
        ig_steps=4,
        removal_k=3,
        removal_random_draws=1,
        model=SMALL,
        train=TrainConfig(epochs=1, batch_size=8, progress_bar=False, patience=0),
    )
    out = tmp_path / "faithfulness.json"
    result = run_ic_faithfulness(
        prepared.out_dir.parent,
        settings=settings,
        datasets=(DatasetChoice(prepared.out_dir.name, "all", "matbench_fold0", "e_form"),),
        planted=(PLANTED[0], PLANTED[-1]),
        out_path=out,
        command="test",
        progress=lambda line: None,
    )
    assert json.loads(out.read_text())["commit"]
    entry = result["datasets"][prepared.out_dir.name]
    planted = entry["planted"]["targets"]
    assert {(p["target"], p["seed"]) for p in planted} == {
        ("linear", 0),
        ("linear", 1),
        ("node_B_electron_affinity", 0),
        ("node_B_electron_affinity", 1),
    }
    for row in planted:
        assert set(row["recall"]) == {"ic", "permutation", "integrated_gradients", "random"}
        for method in row["recall"].values():
            assert all(0.0 <= v <= 1.0 for grouping in method.values() for v in grouping.values())
        assert 0 < row["concentration"]["entropy_ratio"] <= 1
    assert len(entry["stability"]["seed_pairs"]) == 1
    assert len(entry["stability"]["init_vs_trained"]) == 2
    removed = entry["removal"]["removed"]
    assert set(removed) == {"ic", "permutation", "random_0"}
    assert all(len(r["features"]) == 3 for r in removed.values())
    assert set(result["goals"]) == {
        "ic_group_recall_at_5_at_least_0.9_on_every_target",
        "seed_spearman_and_top10_at_least_0.8",
        "removing_ic_features_hurts_at_least_as_much_as_permutation",
    }
    # notebook 03's figures of it
    import matplotlib

    matplotlib.use("Agg")
    from sagatsr.plots.faithfulness import (
        concentration_frame,
        plot_planted_recall,
        plot_removal,
        plot_seed_stability,
        recall_frame,
    )

    recalls = recall_frame(result)
    assert set(recalls["method"]) == {"ic", "permutation", "integrated_gradients", "random"}
    assert len(plot_planted_recall(result).axes) == 3
    bars = [
        p.get_height()
        for p in plot_removal(result).axes[0].patches
        if p.get_height() == p.get_height()
    ]
    assert any(abs(b - removed["ic"]["val_mae_increase"]) < 1e-9 for b in bars)
    assert len(plot_seed_stability(result).axes) == 2
    assert set(concentration_frame(result)["target"]) == {"linear", "node_B_electron_affinity"}
    # the README block renders from it
    from sagatsr.bench.readme import faithfulness_section

    text = faithfulness_section({"ic_faithfulness": json.loads(out.read_text())})
    assert "| linear |" in text and "Goals:" in text and "seed-to-seed Spearman" in text

    # runs side by side on different datasets merge into one result (the CLI's --merge)
    import copy

    from sagatsr.cli import main

    other = copy.deepcopy(json.loads(out.read_text()))
    other["datasets"] = {"renamed": other["datasets"][prepared.out_dir.name]}
    other_path = tmp_path / "other.json"
    other_path.write_text(json.dumps(other))
    merged_path = tmp_path / "merged.json"
    argv = ["benchmark", "ic_faithfulness", "--merge", str(out), str(other_path)]
    assert main([*argv, "--out", str(merged_path)]) == 0
    merged = json.loads(merged_path.read_text())
    assert set(merged["datasets"]) == {prepared.out_dir.name, "renamed"}
    assert len(merged["planted_recall_at_5"]) == 2 * len(result["planted_recall_at_5"])
    assert [p["command"] for p in merged["parts"]] == ["test", "test"]
    with pytest.raises(ValueError, match="more than one part"):
        merge_results([result, result])
    with pytest.raises(ValueError, match="other settings"):
        merge_results([result, {**other, "settings": {**other["settings"], "n_train": 1}}])


def test_an_unknown_dataset_is_a_usage_error(capsys) -> None:
    from sagatsr.cli import main

    assert main(["benchmark", "ic_faithfulness", "--datasets", "nope"]) == 2
    assert "unknown dataset(s) ['nope']" in capsys.readouterr().err


def test_a_second_run_in_the_same_work_dir_trains_nothing_again(prepared, tmp_path) -> None:
    settings = FaithfulnessSettings(
        n_train=30,
        n_val=8,
        n_eval=8,
        seeds=(0, 1),
        noise_levels=(0.1,),
        methods=("ic",),
        removal_k=2,
        removal_random_draws=1,
        model=SMALL,
        train=TrainConfig(epochs=2, batch_size=8, progress_bar=False, patience=0),
    )

    def run() -> dict:
        return run_ic_faithfulness(
            prepared.out_dir.parent,
            settings=settings,
            datasets=(DatasetChoice(prepared.out_dir.name, "all", "matbench_fold0", "e_form"),),
            planted=(PLANTED[0],),
            work_dir=tmp_path / "work",
            progress=lambda line: None,
        )

    first = run()
    histories = sorted((tmp_path / "work").rglob("history.csv"))
    assert len(histories) == 2 + 2 + 4  # planted x seeds, stability seeds, removal (1 + 3)
    before = {path: path.read_text() for path in histories}
    second = run()
    # every model was loaded from its finished run: no epoch trained again
    assert {path: path.read_text() for path in histories} == before
    assert second["datasets"] == first["datasets"]
