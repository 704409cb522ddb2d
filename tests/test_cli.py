"""The command line: catalog listing, clear errors, the featurize benchmark."""

import csv
import json
import subprocess
import sys

from sagatsr.cli import main
from sagatsr.features import GLOBAL_FEATURES, NODE_FEATURES
from tests.test_prepare import castelli_like


def test_features_list(capsys) -> None:
    assert main(["features", "list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{len(NODE_FEATURES) + len(GLOBAL_FEATURES)} features")
    assert "B_ionization_energy_1" in out and "tolerance_factor" in out
    assert main(["features", "list", "--level", "node"]) == 0
    assert "tolerance_factor" not in capsys.readouterr().out


def test_runtime_errors_are_one_line_and_exit_1(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("SAGATSR_DATA_MIRROR", str(tmp_path))
    assert main(["prepare", "nope", "--out", str(tmp_path / "x")]) == 1
    assert "unknown dataset 'nope'" in capsys.readouterr().err
    assert main(["prepare", "oqmd_perovskites", "--out", str(tmp_path / "x")]) == 1
    assert "no folder oqmd_perovskites/" in capsys.readouterr().err
    monkeypatch.setenv("SAGATSR_DATA_MIRROR", str(tmp_path / "missing"))
    assert main(["prepare", "oqmd_perovskites", "--out", str(tmp_path / "x")]) == 1
    assert "is not an existing folder" in capsys.readouterr().err


def test_usage_errors_exit_2_and_version_prints(capsys) -> None:
    import pytest

    from sagatsr import __version__

    with pytest.raises(SystemExit) as usage:
        main(["train", "--no-such-option"])
    assert usage.value.code == 2
    for fraction in ("0", "1.5", "half"):
        with pytest.raises(SystemExit) as usage:
            main(["train", "prepared", "--out", "runs", "--train-fraction", fraction])
        assert usage.value.code == 2
        assert f"expected a number in (0, 1], got '{fraction}'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as version:
        main(["--version"])
    assert version.value.code == 0
    assert capsys.readouterr().out.strip() == f"sagatsr {__version__}"


def test_prepare_never_deletes_a_folder_it_did_not_write(tmp_path, capsys) -> None:
    mirror = castelli_like(tmp_path / "mirror", n_copies=1)
    users_data = tmp_path / "data"
    users_data.mkdir()
    (users_data / "labels.csv").write_text("id,gap\n")
    argv = ["prepare", "castelli_perovskites", "--raw", str(mirror), "--quiet"]
    assert main([*argv, "--out", str(users_data)]) == 1
    assert "is not a prepared dataset" in capsys.readouterr().err
    assert (users_data / "labels.csv").read_text() == "id,gap\n"


def test_prepare_reads_vasp_calculation_folders(tmp_path, capsys) -> None:
    from pymatgen.io.vasp import Poscar

    from tests.support.datasets import GOOD

    calcs = tmp_path / "calcs"
    rows = ["id,gap"]
    for index, structure in enumerate(list(GOOD.values()) * 2):
        folder = calcs / f"calc-{index}"
        folder.mkdir(parents=True)
        (folder / "CONTCAR").write_text(Poscar(structure).get_str())
        (folder / "OSZICAR").write_text("not a structure")
        rows.append(f"calc-{index},{1 + index / 10}")
    rows.append("calc-99,2.0")  # its calculation folder is missing
    (calcs / "labels.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "prepared"
    argv = ["prepare", str(calcs), "--name", "mine", "--target", "gap:eV", "--quiet"]
    assert main([*argv, "--structure-file", "CONTCAR", "--out", str(out)]) == 0
    n = len(rows) - 2
    assert f"mine: {n + 1} entries read, {n} valid records" in capsys.readouterr().out
    issues = (out / "validation.csv").read_text()
    assert "calc-99/CONTCAR" in issues
    # Without the option every label row names the option it needs.
    assert main([*argv, "--out", str(tmp_path / "again")]) == 1
    assert "--structure-file" in capsys.readouterr().err


def test_own_data_options_with_a_registered_dataset_are_refused(tmp_path, capsys) -> None:
    argv = ["prepare", "castelli_perovskites", "--out", str(tmp_path / "o")]
    assert main([*argv, "--target", "gap:eV", "--split-column", "part"]) == 2
    err = capsys.readouterr().err
    assert "--target, --split-column: for your own data" in err and "registered" in err
    assert not (tmp_path / "o").exists()
    # the checked options are the parser's "your own data" group
    from sagatsr.cli import _OWN_DATA_OPTIONS, build_parser

    commands = next(a for a in build_parser()._actions if a.dest == "command")
    (group,) = [g for g in commands.choices["prepare"]._action_groups if g.title == "your own data"]
    assert {a.dest for a in group._group_actions} == set(_OWN_DATA_OPTIONS)


def test_counts_and_output_paths_are_checked_as_parsed(tmp_path, capsys) -> None:
    import pytest

    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    cases = [
        (["prepare", "x", "--out", "o", "--workers", "0"], "at least 1, got '0'"),
        (["prepare", "x", "--out", "o", "--max-entries", "-3"], "at least 0, got '-3'"),
        (["predict", "m", "s.cif", "--top", "-1"], "at least 0, got '-1'"),
        (["predict", "m", "s.cif", "--batch-size", "0"], "at least 1, got '0'"),
        (["predict", "m", "s.cif", "--csv", str(tmp_path)], "is a folder"),
        (["prepare", "x", "--out", str(a_file)], "is a file; give the path of a folder"),
        (["train", "p", "--out", str(a_file / "runs")], "is a file, not a folder"),
        (["analyze", "r", "--out", str(a_file / "ic.csv")], "is a file, not a folder"),
        (["benchmark", "featurize", "--out", str(tmp_path)], "is a folder"),
    ]
    for argv, message in cases:
        with pytest.raises(SystemExit) as usage:
            main(argv)
        assert usage.value.code == 2, argv
        assert message in capsys.readouterr().err, argv
    assert a_file.read_text() == "x"


def test_featurize_benchmark_writes_provenance(tmp_path, capsys) -> None:
    mirror = castelli_like(tmp_path / "mirror", n_copies=2)
    out = tmp_path / "featurize.json"
    code = main(
        ["benchmark", "featurize", "--raw", str(mirror), "--workers", "1", "--out", str(out)]
    )
    assert code == 0
    result = json.loads(out.read_text())
    assert result["n_graphs"] == 12 and result["structures_per_second"] > 0
    for key in ("command", "commit", "hardware", "date", "graph_seconds"):
        assert key in result
    assert result["command"].startswith("sagatsr benchmark featurize")
    assert "cpu" in result["hardware"]


def test_analyze_prints_and_writes_the_ranking(trained_runs, tmp_path, capsys) -> None:
    import pandas as pd

    run = trained_runs / "models" / "castelli_e_form"
    out = tmp_path / "ranking.csv"
    argv = ["analyze", str(run), "--prepared-root", str(trained_runs / "prepared")]
    assert main([*argv, "--top", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    ranking = pd.read_csv(out)
    assert list(ranking["rank"]) == list(range(1, len(ranking) + 1))
    assert ranking["mean_ic"].is_monotonic_decreasing
    assert abs(ranking["mean_ic"].sum() - 1.0) < 1e-4  # the ICs of a structure sum to 1
    assert "castelli_perovskites/all e_form" in printed and "test structures" in printed
    for name in ranking["feature"][:3]:
        assert name in printed
    assert ranking["feature"][3] not in printed.split("node features")[0]
    assert main(["analyze", str(tmp_path / "nope"), "--prepared-root", str(tmp_path)]) == 1


def test_train_can_hide_the_test_part_while_recipes_are_compared(prepared, tmp_path, capsys):
    argv = ["train", str(prepared.out_dir), "--split", "matbench_fold0", "--target", "e_form"]
    argv += ["--epochs", "1", "--batch-size", "8", "--hidden", "16", "--heads", "2"]
    argv += ["--layers", "1", "--edge-dim", "8", "--quiet", "--out", str(tmp_path / "runs")]
    assert main([*argv, "--hide-test"]) == 0
    shown = capsys.readouterr().out
    metrics = json.loads((tmp_path / "runs" / "e_form" / "metrics.json").read_text())
    assert f"best validation MAE {metrics['best_val_mae']:.4g} eV/cell (epoch 0 of 1" in shown
    assert "test MAE" not in shown and "test" in metrics["metrics"]  # kept in the run folder
    assert main(argv) == 0  # the run is finished: loaded, and its test MAE printed
    assert "e_form: test MAE" in capsys.readouterr().out


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    # `sagatsr features list | head`: the pipe is closed before the output comes
    # (the child is still importing when the read end is closed here).
    process = subprocess.Popen(
        [sys.executable, "-m", "sagatsr", "features", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait() == 1
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


def test_a_subset_without_splits_is_named(prepared, tmp_path, capsys) -> None:
    argv = ["train", str(prepared.out_dir), "--out", str(tmp_path), "--quiet"]
    assert main([*argv, "--subset", "ABX3"]) == 1
    assert (
        "has no splits of subset 'ABX3' (ABX3 has 0 structure(s); subsets with splits: "
        in capsys.readouterr().err
    )
    assert main([*argv, "--subset", "nope"]) == 1
    assert "has no splits of subset 'nope' (no such subset;" in capsys.readouterr().err


def test_train_with_seeds_gives_a_calibrated_ensemble_to_predict_with(prepared, tmp_path, capsys):
    from tests.support.datasets import GOOD, cif

    runs = tmp_path / "runs"
    argv = ["train", str(prepared.out_dir), "--split", "matbench_fold0", "--target", "e_form"]
    argv += ["--epochs", "1", "--batch-size", "8", "--hidden", "16", "--heads", "2"]
    argv += ["--layers", "1", "--edge-dim", "8", "--quiet", "--out", str(runs)]
    assert main([*argv, "--seeds", "0", "1"]) == 0
    shown = capsys.readouterr().out
    ensemble = json.loads((runs / "e_form" / "ensemble.json").read_text())
    assert ensemble["seeds"] == [0, 1] and ensemble["members"] == ["seed0", "seed1"]
    assert ensemble["summary"] in shown
    coverage = ensemble["uncertainty"]["test"]["coverage"]
    assert (
        f"observed test coverage of the 68 % / 95 % intervals {coverage['0.68']:.2f} / "
        f"{coverage['0.95']:.2f}" in shown
    )
    structure = tmp_path / "srtio3.cif"
    structure.write_text(cif(GOOD["p-1"]))
    table = tmp_path / "predicted.csv"
    argv_predict = ["predict", str(runs / "e_form"), str(structure), "--json", "--csv", str(table)]
    assert main(argv_predict) == 0
    shown = json.loads(capsys.readouterr().out)[0]
    assert shown["uncertainty"] > 0
    [row] = list(csv.DictReader(table.open()))
    assert (
        float(row["uncertainty"]) == shown["uncertainty"] and float(row["value"]) == shown["value"]
    )
    assert main([*argv, "--seeds", "0", "1", "--hide-test"]) == 0  # finished members: loaded
    shown = capsys.readouterr().out
    assert "ensemble of 2 e_form models: validation MAE" in shown and "test" not in shown.replace(
        "test part not shown", ""
    )
    assert main([*argv, "--seeds", "3", "3"]) == 2
    assert "at least two distinct seeds" in capsys.readouterr().err
    assert main([*argv, "--seeds", "0", "1", "--refit", "--patience", "0"]) == 2
    assert "cannot calibrate their spread" in capsys.readouterr().err
