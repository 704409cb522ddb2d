import json

import pytest

from sagatsr.bench.suites import SUBSET_RUNS, ablation_runs, run_suite
from sagatsr.train.config import TrainConfig
from tests.support.training import SMALL


def test_suite_definitions() -> None:
    names = [r.name for r in ablation_runs(folds=(0, 1))]
    assert len(names) == len(set(names)) == 12
    assert {r.embedding for r in ablation_runs()} == {"sae", "fcn", "onehot"}
    assert {(r.subset, r.target) for r in SUBSET_RUNS} >= {
        ("ABO3", "formation_energy_per_atom"),
        ("ABX3", "band_gap"),
        ("all", "gap_gllbsc"),
    }
    # Band gaps (zero for every metal) train with MSE, everything else with L1.
    assert {r.target: r.loss for r in SUBSET_RUNS} == {
        "formation_energy_per_atom": "l1",
        "band_gap": "mse",
        "gap_gllbsc": "mse",
    }


def test_ablation_suite_on_a_tiny_dataset(tmp_path) -> None:
    from sagatsr.graphs.neighbors import NeighborConfig
    from sagatsr.prepare import prepare_dataset
    from tests.test_prepare import castelli_like

    mirror = castelli_like(tmp_path / "mirror", n_copies=10)
    prepare_dataset(
        "castelli_perovskites",
        raw_root=mirror,
        out_dir=tmp_path / "prepared" / "castelli_perovskites",
        neighbors=NeighborConfig(),
    )
    out = tmp_path / "ablation.json"
    parts = tmp_path / "parts"
    settings = {
        "prepared_root": tmp_path / "prepared",
        "model_settings": SMALL,
        "out_path": out,
        "command": "test",
        "parts_dir": parts,
    }
    config = TrainConfig(epochs=1, batch_size=8, progress_bar=False, patience=0)
    # an interrupted suite: the first two runs finished in an earlier session
    first = run_suite(
        "embedding_ablation",
        ablation_runs()[:2],
        runs_root=tmp_path / "lost_runs",
        train_config=config,
        **settings,
    )
    assert sorted(p.name for p in parts.iterdir()) == [
        "sae_all_fold0.json",
        "sae_mixed_anion_fold0.json",
    ]
    result = run_suite(
        "embedding_ablation",
        ablation_runs(),
        runs_root=tmp_path / "runs",
        train_config=config,
        **settings,
    )
    # the finished runs are read from their parts, not trained again
    assert not (tmp_path / "runs" / "sae_all_fold0").exists()
    assert (tmp_path / "runs" / "fcn_all_fold0").is_dir()
    read = [r for r in result["runs"] if "part" in r]
    assert [r["name"] for r in read] == ["sae_all_fold0", "sae_mixed_anion_fold0"]
    assert [r["test_mae"] for r in read] == [r["test_mae"] for r in first["runs"]]
    assert len(list(parts.iterdir())) == 6
    # a part of another recipe is refused, never mixed in
    with pytest.raises(ValueError, match=r"run sae_all_fold0 was run with another recipe.*lr"):
        run_suite(
            "embedding_ablation",
            ablation_runs()[:1],
            runs_root=tmp_path / "runs",
            train_config=TrainConfig(epochs=1, batch_size=8, patience=0, lr=0.1),
            **settings,
        )
    assert result["complete"] and len(result["runs"]) == 6
    assert {r["embedding"] for r in result["runs"]} == {"sae", "fcn", "onehot"}
    assert all(r["test_mae"] >= 0 and r["unit"] == "eV/cell" for r in result["runs"])
    assert json.loads(out.read_text())["suite"] == "embedding_ablation"
