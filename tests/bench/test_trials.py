from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from sagatsr.bench.readme import trials_section
from sagatsr.bench.trials import collect_trials, pair_ensembles
from sagatsr.train.pipeline import train_on_split
from sagatsr.train.run import Run
from tests.support.training import SMALL, quick


def test_trials_compare_recipes_on_validation_only(prepared, tmp_path) -> None:
    runs = []
    for name, lr, fraction in (("reference", 3e-3, 1.0), ("faster", 1e-2, 0.5)):
        folder = tmp_path / name
        train_on_split(
            prepared.out_dir,
            subset="all",
            split="matbench_fold0",
            target="e_form",
            out_dir=folder,
            model_settings=SMALL,
            train_config=replace(quick(epochs=3), lr=lr),
            train_fraction=fraction,
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
    # the two runs as an ensemble: the mean of their validation predictions, nothing else
    predictions = [Run(run).predictions() for run in runs]
    val = [frame[frame["part"] == "val"] for frame in predictions]
    mean = (val[0]["prediction"].to_numpy() + val[1]["prediction"].to_numpy()) / 2
    (pair,) = result["pairs"]
    assert pair["runs"] == [first["run"], second["run"]]
    assert pair["val_mae"] == pytest.approx(np.abs(mean - val[0]["e_form"].to_numpy()).mean())
    text = trials_section({"recipe_trials_x": result})
    assert "| weight decay |" in text and "Validation MAE of the mean of two runs" in text
    assert [trial["train_fraction"] for trial in result["trials"]] == [1.0, 0.5]
    assert "| 3 | 0 | 1 | 1 x" in text and "| 3 | 0 | 0.5 | 1 x" in text  # epochs, seed, share
    with pytest.raises(ValueError):
        collect_trials([])


def test_pairs_of_runs_that_predicted_other_structures_are_refused(tmp_path) -> None:
    for name, ids in (("a", ["x", "y"]), ("b", ["x", "z"])):
        (tmp_path / name).mkdir()
        frame = pd.DataFrame({"id": ids, "part": "val", "e_form": [1.0, 2.0], "prediction": 1.5})
        frame.to_csv(tmp_path / name / "predictions.csv", index=False)
    with pytest.raises(ValueError, match="a and b predicted other validation structures"):
        pair_ensembles([tmp_path / "a", tmp_path / "b"], ["a", "b"])
