from dataclasses import replace

import pytest

from sagatsr.bench.trials import collect_trials
from sagatsr.train.pipeline import train_on_split
from tests.support.training import SMALL, quick


def test_trials_compare_recipes_on_validation_only(prepared, tmp_path) -> None:
    runs = []
    for name, lr in (("reference", 3e-3), ("faster", 1e-2)):
        folder = tmp_path / name
        train_on_split(
            prepared.out_dir,
            subset="all",
            split="matbench_fold0",
            target="e_form",
            out_dir=folder,
            model_settings=SMALL,
            train_config=replace(quick(epochs=3), lr=lr),
        )
        runs.append(folder)
    result = collect_trials(runs, out_path=tmp_path / "trials.json", command="test")
    first, second = result["trials"]
    assert first["run"].endswith("reference") and result["reference"] == first["run"]
    assert second["train"]["lr"] == 1e-2 and first["train"]["batch_size"] == 8
    # the reference reaches its own best validation MAE at its best epoch
    assert first["reaches_reference"]["epoch"] == first["best_epoch"]
    assert first["train_cpu_seconds"] > 0 and first["torch_threads"] >= 1
    assert not [key for trial in result["trials"] for key in trial if "test" in key]
    assert result["reference_best_val_mae"] == first["best_val_mae"]
    assert result["best_val_mae"] == min(first["best_val_mae"], second["best_val_mae"])
    assert first["model"]["sae_vectors"] == "free"
    with pytest.raises(ValueError):
        collect_trials([])
