"""`sagatsr predict`: value with unit and top ICs per file; bad files do not stop the others."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sagatsr.cif_files import InputItem, PendingFiles, expand_inputs
from sagatsr.cli import main
from sagatsr.predict import Prediction, Predictor, format_predictions, predict_files
from tests.support.datasets import GOOD, cif, disordered_cif
from tests.support.user_formats import GAPS, USER_FORMATS, structures, write_format


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


def test_predicting_imports_neither_sympy_nor_torch_s_compiler() -> None:
    # sympy is a third of a second of `sagatsr predict`'s start (only runs with formulas
    # need it); torch._dynamo about a second (only compiled training needs it)
    code = (
        "import sys\nimport sagatsr.predict\n"
        "print('sympy' in sys.modules, 'torch._dynamo' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False False"


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


def test_folders_globs_and_truncated_files(model_dir, files, tmp_path) -> None:
    good = files[0]
    truncated = tmp_path / "truncated.cif"
    truncated.write_text(good.read_text()[: len(good.read_text()) // 2])
    no_cifs = tmp_path / "empty_folder"
    no_cifs.mkdir()
    folder = predict_files(model_dir, [tmp_path], top_k=1)
    assert [r.path for r in folder] == sorted(str(p) for p in tmp_path.glob("*.cif"))
    pattern = predict_files(model_dir, [str(tmp_path / "s*.cif"), str(tmp_path / "zz*.cif")])
    assert [r.path for r in pattern[:1]] == [str(good)] and pattern[0].error == ""
    assert "matches no file" in pattern[1].error
    by_path = {r.path: r for r in folder}
    assert "truncated or unparsable" in by_path[str(truncated)].error
    empty_folder = predict_files(model_dir, [no_cifs])[0]
    assert "folder with no CIF (.cif, .cif.gz) or POSCAR files" in empty_folder.error


def test_poscar_files_predict_as_the_cif_of_the_same_structure(model_dir, files, tmp_path) -> None:
    import gzip

    from pymatgen.core import Structure
    from pymatgen.io.vasp import Poscar

    good = files[0]
    structure = Structure.from_file(good)
    folder = tmp_path / "vasp"
    folder.mkdir()
    (folder / "POSCAR").write_text(Poscar(structure).get_str())
    flags = [[True, True, False]] * len(structure)
    (folder / "CONTCAR_pinned").write_text(Poscar(structure, selective_dynamics=flags).get_str())
    (folder / "srtio3.vasp.gz").write_bytes(gzip.compress(Poscar(structure).get_str().encode()))
    (folder / "POSCAR_vasp4").write_text("Sr Ti O\n1.0\n3.9 0 0\n0 3.9 0\n0 0 3.9\n1 1 3\nDirect\n")
    (folder / "notes.txt").write_text("not a structure")
    (folder / "._POSCAR").write_bytes(b"\x00\x05\x16\x07")  # macOS metadata
    (folder / "._srtio3.cif").write_bytes(b"\x00\x05\x16\x07")
    plain = predict_files(model_dir, [good])[0]
    results = {Path(r.path).name: r for r in predict_files(model_dir, [folder])}
    assert sorted(results) == ["CONTCAR_pinned", "POSCAR", "POSCAR_vasp4", "srtio3.vasp.gz"]
    for name in ("CONTCAR_pinned", "POSCAR", "srtio3.vasp.gz"):
        assert results[name].error == "" and results[name].formula == plain.formula
        assert results[name].value == pytest.approx(plain.value, abs=1e-5)
    assert "POSCAR" in results["POSCAR_vasp4"].error and results["POSCAR_vasp4"].value is None


def test_calculation_folders_predict_their_structure_file(model_dir, files, tmp_path, capsys):
    import zipfile

    from pymatgen.core import Structure
    from pymatgen.io.vasp import Poscar

    plain = predict_files(model_dir, [files[0]])[0]
    contcar = Poscar(Structure.from_file(files[0])).get_str()
    calcs = tmp_path / "calcs"
    (calcs / "mp-1").mkdir(parents=True)
    (calcs / "mp-1" / "CONTCAR").write_text(contcar)
    (calcs / "mp-1" / "OUTCAR").write_text("not a structure")
    archive = tmp_path / "calcs.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("mp-2/CONTCAR", contcar)
    argv = ["predict", str(model_dir), str(calcs), str(archive), "--structure-file", "CONTCAR"]
    assert main([*argv, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(Path(r["path"]).name, r["record"]) for r in rows] == [
        ("CONTCAR", ""),
        ("calcs.zip", "mp-2"),
    ]
    assert all(r["value"] == pytest.approx(plain.value, abs=1e-5) for r in rows)
    with pytest.raises(SystemExit) as usage:
        main([*argv[:-1], "mp-1/CONTCAR"])
    assert usage.value.code == 2 and "not a path" in capsys.readouterr().err


def test_gzip_compressed_files_predict_as_the_plain_ones(model_dir, files, tmp_path) -> None:
    import gzip

    folder = tmp_path / "compressed"
    folder.mkdir()
    good = files[0]
    (folder / "good.cif.gz").write_bytes(gzip.compress(good.read_bytes()))
    (folder / "cut.cif.gz").write_bytes(gzip.compress(good.read_bytes())[:50])
    cut, compressed = predict_files(model_dir, [folder])  # sorted: cut, good
    plain = predict_files(model_dir, [good])[0]
    assert compressed.path.endswith("good.cif.gz") and compressed.error == ""
    assert compressed.value == plain.value and compressed.formula == plain.formula
    assert cut.value is None and "damaged gzip file" in cut.error


def test_batched_predictions_equal_one_at_a_time(model_dir, files) -> None:
    good, halide = files[:2]
    together = predict_files(model_dir, [good, halide, good], batch_size=2)
    alone = [predict_files(model_dir, [path])[0] for path in (good, halide)]
    assert together[0].value == pytest.approx(alone[0].value, rel=1e-6)
    assert together[1].value == pytest.approx(alone[1].value, rel=1e-6)
    assert together[2].value == pytest.approx(together[0].value, rel=1e-6)
    names = [[f["name"] for f in r.top_features] for r in (together[1], alone[1])]
    assert names[0] == names[1]


def test_a_saved_model_predicts_structures_with_its_own_graph_settings(model_dir, files) -> None:
    from pymatgen.core import Structure

    from sagatsr.model import load_model, read_model_config

    config, _ = read_model_config(model_dir)
    assert config.neighbors.max_neighbors == 12 and config.neighbors.cutoff == config.cutoff
    model = load_model(model_dir)
    structures = [Structure.from_file(files[0]), Structure.from_file(files[1])]
    values = model.predict_structures(structures)
    assert values.shape == (2, 1)
    expected = [r.value for r in predict_files(model_dir, files[:2])]
    assert values[:, 0].tolist() == pytest.approx(expected, rel=1e-6)


def test_printout_leaves_out_the_unit_of_pure_numbers_and_rounds_the_formula() -> None:
    feature = {"name": "ratio_AB_atomic_radius", "label": "r_A / r_B", "unit": "1"}
    result = Prediction(
        "a.cif",
        "e_form",
        "eV/cell",
        value=1.23456,
        uncertainty=0.0123,
        formula="SrTiO3",
        top_features=[{**feature, "value": 0.538461538, "importance": 0.25}],
        sr_formula="0.884211886633782*Ep + 0.0181618449681339",
        sr_value=1.1234567,
    )
    lines = format_predictions([result]).splitlines()
    assert lines == [
        "a.cif: SrTiO3 e_form = 1.235 +- 0.012 eV/cell",
        "    formula: 1.123 eV/cell  (e_form = 0.8842*Ep + 0.01816)",
        "    IC 0.250  ratio_AB_atomic_radius = 0.5385  (r_A / r_B)",
    ]
    # a dimensionless target: no unit after its value either
    result.unit, result.uncertainty = "1", None
    assert format_predictions([result]).splitlines()[0] == "a.cif: SrTiO3 e_form = 1.235"
    assert result.sr_formula == "0.884211886633782*Ep + 0.0181618449681339"  # kept in full


@pytest.mark.parametrize("fmt", USER_FORMATS[1:])  # every format but a folder with labels
def test_every_record_of_a_file_of_structures_is_predicted(model_dir, tmp_path, fmt) -> None:
    path = write_format(tmp_path, fmt)
    id_column = "name_id" if fmt == "ase_db" else "id"
    singles = tmp_path / "singles"
    singles.mkdir()
    for name, structure in structures().items():
        (singles / f"{name}.cif").write_text(cif(structure))
    alone = {Path(r.path).stem: r for r in predict_files(model_dir, [singles])}
    results = Predictor(model_dir).predict_pending(
        PendingFiles.for_model(model_dir, [path], id_column=id_column)
    )
    assert sorted(r.record for r in results) == sorted(GAPS)
    for r in results:
        assert r.path == str(path) and r.error == ""
        assert r.formula == alone[r.record].formula
        assert r.value == pytest.approx(alone[r.record].value, abs=1e-5)
    assert format_predictions(results).startswith(f"{path}[{results[0].record}]: ")


def test_bad_records_and_unreadable_tables_are_named(model_dir, tmp_path, capsys) -> None:
    import csv

    table = tmp_path / "candidates.csv"
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows(
            [["id", "cif"], ["good", cif(GOOD["p-1"])], ["bad", "garbage"], ["no", ""]]
        )
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    no_cif = tmp_path / "no_cif.csv"
    no_cif.write_text("id,structure\na,x\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("id,cif\n")
    good, bad, no_text, unreadable, missing_column, nothing = predict_files(
        model_dir, [table, broken, no_cif, empty]
    )
    assert good.error == "" and good.record == "good" and good.formula == "SrTiO3"
    assert (bad.record, no_text.record) == ("bad", "no")
    assert "unparsable CIF" in bad.error and no_text.error == "no CIF text"
    assert unreadable.record == "" and "not valid JSON" in unreadable.error
    assert "cif" in missing_column.error and "holds no structures" in nothing.error
    assert expand_inputs([tmp_path / "absent.csv"]) == [
        InputItem(str(tmp_path / "absent.csv"), error="no such file")
    ]
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(model_dir), str(table), "--csv", str(out)]) == 1  # bad records
    rows = list(csv.DictReader(out.open()))
    assert [(r["record"], r["formula"], bool(r["value"]), bool(r["error"])) for r in rows] == [
        ("good", "SrTiO3", True, False),
        ("bad", "", False, True),
        ("no", "", False, True),
    ]
    assert capsys.readouterr().out.startswith(f"{table}[good]: SrTiO3 e_form = ")
    # --csv naming an input would overwrite the user's structures: refused before any work.
    before = table.read_bytes()
    assert main(["predict", str(model_dir), str(table), "--csv", str(table)]) == 2
    assert "is one of the inputs" in capsys.readouterr().err and table.read_bytes() == before
    glob_input = str(tmp_path / "cand*.csv")
    assert main(["predict", str(model_dir), glob_input, "--csv", str(table)]) == 2
    assert table.read_bytes() == before


def test_nan_cells_and_overlapping_atoms_get_their_own_messages(model_dir, tmp_path) -> None:
    text = cif(GOOD["p-1"])
    nan_cell = tmp_path / "nan_cell.cif"
    nan_cell.write_text(re.sub(r"(_cell_length_a\s+)\S+", r"\1nan", text))
    overlapping = tmp_path / "overlapping.cif"
    structure = GOOD["p-1"].copy()
    structure.append("O", [0.03, 0.0, 0.0])  # 0.12 angstrom from the site at the origin
    overlapping.write_text(cif(structure))
    nan_result, overlap_result = predict_files(model_dir, [nan_cell, overlapping])
    assert nan_result.value is None and "nan or infinite" in nan_result.error
    assert overlap_result.value is None and "overlapping atoms" in overlap_result.error


def test_structures_outside_the_training_domain_are_flagged(model_dir, files, tmp_path, capsys):
    stored = json.loads((model_dir / "config.json").read_text())["metadata"]["training_domain"]
    assert stored["sites"] == [5, 5] and stored["perovskite_share"] == 1.0
    supercell = GOOD["p-1"].copy()
    supercell.make_supercell([2, 1, 1])
    doubled = tmp_path / "srtio3_2x1x1.cif"
    doubled.write_text(cif(supercell))
    inside, outside = predict_files(model_dir, [files[0], doubled])
    assert inside.outside_training_domain == [] and inside.error == ""
    assert outside.outside_training_domain[0] == "10 sites; the training structures had 5"
    assert main(["predict", str(model_dir), str(files[0]), str(doubled)]) == 0  # not an error
    printed = capsys.readouterr()
    assert printed.out.count("    WARNING outside the training domain: ") == 2
    assert "1 of 2 structure(s) outside the model's training domain" in printed.err
    assert main(["predict", str(model_dir), str(doubled), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload[0]["outside_training_domain"] == outside.outside_training_domain
    # a model saved without a domain (before it was recorded) is not checked
    older = tmp_path / "older"
    shutil.copytree(model_dir, older)
    config = json.loads((older / "config.json").read_text())
    del config["metadata"]["training_domain"]
    (older / "config.json").write_text(json.dumps(config))
    (result,) = predict_files(older, [doubled])
    assert result.outside_training_domain is None
    assert result.value == pytest.approx(outside.value, rel=1e-5)  # alone, not in a batch of 2


def test_a_folder_of_runs_is_named_instead_of_read_as_a_model(model_dir, files, tmp_path, capsys):
    runs = tmp_path / "runs"
    shutil.copytree(model_dir.parent / "model", runs / "e_form" / "model")
    assert main(["predict", str(runs), str(files[0])]) == 1
    assert "holds runs, not a model: e_form (give one of them)" in capsys.readouterr().err


def test_a_file_with_several_structures_is_named_not_cut_to_the_first(model_dir, tmp_path):
    two = tmp_path / "two.cif"
    two.write_text(cif(GOOD["p-1"]) + cif(GOOD["p-2"]).replace("data_", "data_second_", 1))
    [result] = predict_files(model_dir, [two])
    assert result.value is None
    assert result.error.startswith("the CIF holds 2 structures (data blocks data_")
    assert "split it into one file per structure" in result.error
