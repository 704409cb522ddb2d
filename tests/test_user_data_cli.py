"""Your own crystals end to end from the command line: prepare, train, distill, predict."""

import csv
import json

import pytest
from pymatgen.core import Lattice, Structure

from sagatsr.cli import main
from tests.data.test_roles import cubic_perovskite
from tests.support.datasets import cif


def dataset(path, n: int = 40) -> None:
    """Perovskites with a made-up band gap that grows with the lattice parameter."""
    pairs = [("Sr", "Ti"), ("Ba", "Zr"), ("Ca", "Ti"), ("K", "Nb"), ("La", "Al")]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "gap", "cif"])
        for i in range(n):
            a_site, b_site = pairs[i % len(pairs)]
            a = 3.8 + 0.01 * i
            structure = cubic_perovskite(a_site, b_site, ["O"] * 3, a=a)
            writer.writerow([f"s{i}", round(1.0 + (a - 3.8) * 5, 4), cif(structure)])


@pytest.mark.slow
def test_prepare_train_distill_predict(tmp_path, capsys) -> None:
    data = tmp_path / "mine.csv"
    dataset(data)
    prepared = tmp_path / "prepared" / "mine"
    assert (
        main(
            [
                "prepare",
                str(data),
                "--name",
                "mine",
                "--target",
                "gap:eV",
                "--out",
                str(prepared),
                "--quiet",
            ]
        )
        == 0
    )
    assert "mine: 40 entries read, 40 valid records" in capsys.readouterr().out
    runs = tmp_path / "runs"
    small = [
        "--hidden",
        "16",
        "--heads",
        "2",
        "--layers",
        "1",
        "--edge-dim",
        "8",
        "--n-rbf",
        "8",
        "--sae-basis",
        "4",
    ]
    assert (
        main(
            [
                "train",
                str(prepared),
                "--target",
                "gap",
                "--out",
                str(runs),
                "--epochs",
                "2",
                "--batch-size",
                "8",
                "--quiet",
                *small,
            ]
        )
        == 0
    )
    run = runs / "gap"
    assert (
        main(
            [
                "distill",
                str(run),  # the prepared folder is the one the run recorded
                "--k-folds",
                "2",
                "--fold-epochs",
                "1",
                "--top-k",
                "2",
                "--descriptor-k",
                "3",
                "--n-sis",
                "10",
                "--max-dim",
                "2",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "network test MAE" in out and "gap = " in out
    formulas = json.loads((run / "formulas.json").read_text())
    assert formulas["unit"] == "eV" and formulas["formulas"]
    structure = tmp_path / "new.cif"
    structure.write_text(cif(cubic_perovskite("Sr", "Ti", ["O"] * 3, a=3.9)))
    assert main(["predict", str(run), str(structure), "--json"]) == 0
    entry = json.loads(capsys.readouterr().out)[0]
    assert (
        entry["value"] is not None and entry["sr_value"] is not None and "Ep" in entry["sr_formula"]
    )
    assert main(["predict", str(run), str(structure)]) == 0
    assert "    formula: " in capsys.readouterr().out
    rock_salt = tmp_path / "nacl.cif"
    rock_salt.write_text(
        cif(
            Structure.from_spacegroup(
                "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
            )
        )
    )
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "broken.cif").write_text("data_x\n_cell_length_a 3")
    assert main(["predict", str(run), str(rock_salt), str(folder)]) == 1  # one file failed
    text = capsys.readouterr().out
    assert "nacl.cif: NaCl gap = " in text and "broken.cif: ERROR" in text
    # the README's worked example collects the three steps into one result file
    from sagatsr.bench.readme import worked_example_section

    result_path = tmp_path / "metrics" / "user_data_mp20.json"
    argv = ["benchmark", "worked_example", str(run), "--prepared-root", str(tmp_path / "prepared")]
    assert main([*argv, "--out", str(result_path)]) == 0
    result = json.loads(result_path.read_text())
    assert result["prepare"]["n_entries"] == 40 and result["prepare"]["n_skipped"] == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert result["train"]["metrics"]["test"]["mae"] == metrics["metrics"]["test"]["mae"]
    assert [f["test_mae"] for f in result["distill"]["formulas"]] == [
        f["test_mae"] for f in formulas["formulas"]
    ]
    assert result["commit"] and result["command"].startswith("sagatsr benchmark worked_example")
    block = worked_example_section({"user_data_mp20": result})
    assert "40 entries read" in block and f"{metrics['metrics']['test']['mae']:.4g} eV" in block
    assert block.count("| ") >= 2 + len(formulas["formulas"])
    assert main(["benchmark", "worked_example", str(tmp_path), "--out", str(result_path)]) == 1
