import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from sagatsr.graphs.packed import packed_loader
from sagatsr.train.data import load_split_parts
from sagatsr.train.ensemble import (
    ENSEMBLE_FILE,
    LoadedEnsemble,
    ensemble_predictions,
    is_ensemble,
    member_folder,
    train_ensemble,
)
from tests.support.training import SMALL, quick


@pytest.fixture(scope="module")
def ensemble(prepared, tmp_path_factory):
    out = tmp_path_factory.mktemp("ensemble") / "ens"
    result = train_ensemble(
        prepared.out_dir,
        subset="all",
        split="matbench_fold0",
        target="e_form",
        out_dir=out,
        seeds=(3, 4),
        model_settings=SMALL,
        train_config=quick(epochs=2),
        command="test",
    )
    return out, result


def test_ensemble_files_hold_mean_spread_and_calibrated_uncertainty(ensemble) -> None:
    out, result = ensemble
    assert is_ensemble(out) and json.loads((out / ENSEMBLE_FILE).read_text()) == json.loads(
        json.dumps(result)
    )
    assert result["seeds"] == [3, 4] and result["members"] == ["seed3", "seed4"]
    frame = pd.read_csv(out / "predictions.csv")
    members = [pd.read_csv(member_folder(out, s) / "predictions.csv") for s in (3, 4)]
    np.testing.assert_allclose(
        frame["prediction"], (members[0]["prediction"] + members[1]["prediction"]) / 2
    )
    np.testing.assert_allclose(
        frame["spread"], np.abs(members[0]["prediction"] - members[1]["prediction"]) / np.sqrt(2)
    )
    assert (frame["uncertainty"] > 0).all()
    test = frame[frame["part"] == "test"]
    assert result["metrics"]["test"]["mae"] == pytest.approx(
        np.abs(test["e_form"] - test["prediction"]).mean()
    )
    assert set(result["uncertainty"]) == {"val", "test"}
    # Calibrated on the validation part: at least the nominal share of it is covered.
    assert result["uncertainty"]["val"]["coverage"]["0.68"] >= 0.68
    assert len(result["member_test_mae"]) == 2 and result["train_cpu_seconds"] > 0


def test_a_loaded_ensemble_predicts_what_was_stored(ensemble, prepared) -> None:
    out, _ = ensemble
    loaded = LoadedEnsemble.load(out, expected_catalog_version=prepared.graphs().featurizer)
    assert len(loaded.models) == 2 and loaded.metadata["target"] == "e_form"
    _, parts = load_split_parts(prepared, "all", "matbench_fold0", "e_form")
    batch = next(iter(packed_loader(parts["test"].graphs, 1000)))
    mean, spread, half_width = loaded.predict(batch)
    stored = pd.read_csv(out / "predictions.csv").query("part == 'test'")
    np.testing.assert_allclose(mean, stored["prediction"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(spread, stored["spread"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(half_width, stored["uncertainty"], rtol=1e-4, atol=1e-6)


def test_ensembles_need_two_distinct_seeds_and_matching_members(prepared, ensemble) -> None:
    out, _ = ensemble
    with pytest.raises(ValueError, match="two distinct seeds"):
        train_ensemble(
            prepared.out_dir,
            subset="all",
            split="matbench_fold0",
            target="e_form",
            out_dir=out,
            seeds=(1, 1),
        )
    with pytest.raises(ValueError, match="at least two members"):
        ensemble_predictions([member_folder(out, 3)])
    with pytest.raises(FileNotFoundError, match="not an ensemble"):
        LoadedEnsemble.load(member_folder(out, 3))


def test_predict_prints_the_ensemble_value_with_its_uncertainty(ensemble, prepared, capsys) -> None:
    from sagatsr.cli import main

    out, _ = ensemble
    cif = next((prepared.out_dir.parent / "mirror").rglob("*.zip"))
    with zipfile.ZipFile(cif) as archive:
        name = archive.namelist()[0]
        path = out.parent / name
        path.write_bytes(archive.read(name))
    assert main(["predict", str(out), str(path), "--json"]) == 0
    entry = json.loads(capsys.readouterr().out)[0]
    assert entry["value"] is not None and entry["uncertainty"] > 0
    assert len(entry["top_features"]) == 5
    assert entry["outside_training_domain"] == []  # of the training kind (member 0 checks)
    assert main(["predict", str(out), str(path)]) == 0
    assert " +- " in capsys.readouterr().out


def test_members_whose_targets_differ_in_the_last_digit_combine() -> None:
    from sagatsr.train.ensemble import combine_predictions

    base = pd.DataFrame(
        {
            "id": ["a", "b"],
            "part": ["test", "test"],
            "e_form": [0.1 + 0.2, 1.5],
            "prediction": [1.0, 2.0],
        }
    )
    read_back = base.assign(e_form=[0.3, 1.5], prediction=[3.0, 4.0])  # 0.1 + 0.2 != 0.3
    assert read_back["e_form"][0] != base["e_form"][0]
    combined = combine_predictions([base, read_back])
    assert combined["prediction"].tolist() == [2.0, 3.0]
    assert combined["e_form"].tolist() == base["e_form"].tolist()  # the first member's
    with pytest.raises(ValueError, match="member 1 predicted other structures or targets"):
        combine_predictions([base, base.assign(e_form=[0.3001, 1.5])])
    with pytest.raises(ValueError, match="member 1 predicted other structures or targets"):
        combine_predictions([base, base.assign(id=["a", "c"])])
    with pytest.raises(ValueError, match="member 1 predicted other structures or targets"):
        combine_predictions([base, base.iloc[:1]])
