import json

import numpy as np
import pytest

from sagatsr.features.catalog import spec_by_name
from sagatsr.interpret import (
    aggregate_global,
    aggregate_node,
    fold_runs,
    importance_coefficients,
    load_run_model,
    rank_stability,
    seed_runs,
)
from sagatsr.train.config import TrainConfig
from sagatsr.train.data import load_split_parts
from tests.support.training import SMALL

SPLIT = {"subset": "all", "split": "matbench_fold0", "target": "e_form"}


def one_epoch(**kwargs) -> TrainConfig:
    settings = {"epochs": 1, "batch_size": 8, "lr": 3e-3, "progress_bar": False, "patience": 0}
    return TrainConfig(**(settings | kwargs))


@pytest.fixture(scope="module")
def runs(prepared, tmp_path_factory):
    out_root = tmp_path_factory.mktemp("seeds")
    result = seed_runs(
        prepared.out_dir,
        **SPLIT,
        seeds=[0, 1],
        out_root=out_root,
        model_settings=SMALL,
        train_config=one_epoch(),
    )
    return out_root, result


def test_seed_runs_train_one_model_per_seed(prepared, runs) -> None:
    out_root, result = runs
    assert list(result) == ["0", "1"]
    names = list(prepared.manifest["global_features"])
    for seed, series in result.items():
        assert series.index.tolist() == names
        assert (series >= 0).all() and series.sum() == pytest.approx(1.0, abs=1e-5)
        metrics = json.loads((out_root / f"seed{seed}" / "metrics.json").read_text())
        assert metrics["train_config"]["seed"] == int(seed) and metrics["epochs_run"] == 1
    assert not np.allclose(result["0"], result["1"])  # different seeds, different models
    pairs = rank_stability(result, k=10)
    assert len(pairs) == 1 and -1 <= pairs["spearman"].iloc[0] <= 1


def test_seed_runs_reuse_finished_runs_and_refuse_other_settings(prepared, runs) -> None:
    out_root, result = runs
    metrics = out_root / "seed0" / "metrics.json"
    stamp = metrics.stat().st_mtime_ns
    again = seed_runs(
        prepared.out_dir,
        **SPLIT,
        seeds=[0],
        out_root=out_root,
        model_settings=SMALL,
        train_config=one_epoch(seed=99),  # the seed is replaced per run
    )
    assert metrics.stat().st_mtime_ns == stamp
    np.testing.assert_allclose(again["0"], result["0"])
    with pytest.raises(ValueError, match="different train_config"):
        seed_runs(
            prepared.out_dir,
            **SPLIT,
            seeds=[0],
            out_root=out_root,
            model_settings=SMALL,
            train_config=one_epoch(lr=1e-3),
        )
    with pytest.raises(ValueError, match="embedding"):
        seed_runs(
            prepared.out_dir,
            **SPLIT,
            seeds=[0],
            out_root=out_root,
            model_settings={**SMALL, "embedding": "fcn"},
        )


def test_fold_runs_and_real_catalog_tables(prepared, runs) -> None:
    out_root, result = runs
    _, parts = load_split_parts(prepared, "all", "matbench_fold0", "e_form")
    model = load_run_model(out_root / "seed1")
    folds = fold_runs({"run0": (out_root / "seed0", parts["test"]), "run1": (model, parts["test"])})
    np.testing.assert_allclose(folds["run0"], result["0"])
    np.testing.assert_allclose(folds["run1"], result["1"])
    node_means = fold_runs({"n": (model, parts["test"])}, level="node")["n"]
    assert node_means.sum() == pytest.approx(1.0, abs=1e-5)

    tables = importance_coefficients(model, parts["test"])
    assert set(tables.node_ic["role"]) <= {"A", "B", "X"}
    assert {"O", "N", "I"} & set(tables.node_ic["element"])
    agg = aggregate_global(tables.global_ic)
    assert (agg["label"] != "").all()
    first = agg.iloc[0]
    assert first["label"] == spec_by_name(first["feature"]).label
    node = aggregate_node(tables.node_ic)
    assert node.set_index("feature").loc["shannon_radius", "unit"] == "angstrom"
