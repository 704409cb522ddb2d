"""`sagatsr predict`: value with unit and top ICs per file; bad files do not stop the others."""

import json

import pytest

from sagatsr.cli import main
from sagatsr.predict import predict_files
from sagatsr.train.config import TrainConfig
from sagatsr.train.pipeline import train_on_split
from tests.support.datasets import GOOD, cif, disordered_cif
from tests.train.test_training_runs import SMALL


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    from sagatsr.graphs.neighbors import NeighborConfig
    from sagatsr.prepare import prepare_dataset
    from tests.test_prepare import castelli_like

    root = tmp_path_factory.mktemp("predict")
    mirror = castelli_like(root / "mirror", n_copies=5)
    prepared = prepare_dataset(
        "castelli_perovskites",
        raw_root=mirror,
        out_dir=root / "prepared",
        neighbors=NeighborConfig(),
    )
    train_on_split(
        prepared.out_dir,
        subset="all",
        split="matbench_fold0",
        target="e_form",
        out_dir=root / "run",
        model_settings=SMALL,
        train_config=TrainConfig(epochs=1, batch_size=8, progress_bar=False),
    )
    return root / "run" / "model"


@pytest.fixture
def files(tmp_path):
    good = tmp_path / "srtio3.cif"
    good.write_text(cif(GOOD["p-1"]))
    halide = tmp_path / "cspbi3.cif"
    halide.write_text(cif(GOOD["p-6"]))
    garbage = tmp_path / "garbage.cif"
    garbage.write_text("data_x\nnot a cif\n")
    empty = tmp_path / "empty.cif"
    empty.write_text("")
    disordered = tmp_path / "disordered.cif"
    disordered.write_text(disordered_cif())
    return good, halide, garbage, empty, disordered, tmp_path / "missing.cif"


def test_predictions_and_per_file_errors(model_dir, files) -> None:
    results = predict_files(model_dir, files, top_k=3)
    good, halide, garbage, empty, disordered, missing = results
    assert good.error == "" and good.unit == "eV/cell" and good.target == "e_form"
    assert good.formula == "SrTiO3" and isinstance(good.value, float)
    assert len(good.top_features) == 3
    importances = [f["importance"] for f in good.top_features]
    assert importances == sorted(importances, reverse=True) and all(0 < i <= 1 for i in importances)
    assert {"name", "label", "unit", "value", "importance"} <= set(good.top_features[0])
    assert halide.error == "" and halide.value != good.value
    assert "CIF" in garbage.error or "structures" in garbage.error
    assert "empty" in empty.error and "disordered" in disordered.error
    assert "no such file" in missing.error


def test_cli_text_and_json(model_dir, files, capsys) -> None:
    good, halide, garbage = (str(p) for p in files[:3])
    assert main(["predict", str(model_dir), good, halide, "--top", "2"]) == 0
    text = capsys.readouterr().out
    assert "SrTiO3 e_form =" in text and "eV/cell" in text and text.count("    IC ") == 4
    assert main(["predict", str(model_dir), good, garbage, "--json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert [bool(p["error"]) for p in payload] == [False, True]
    assert payload[0]["value"] is not None and payload[1]["value"] is None
