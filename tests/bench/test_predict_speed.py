import json
import subprocess
import sys

import pytest

from sagatsr.bench.predict_speed import (
    cif_files_from_zip,
    measure_predict_speed,
    time_command_line,
)


def test_batched_and_one_at_a_time_agree(model_dir, prepared, tmp_path) -> None:
    mirror = prepared.out_dir.parent / "mirror"
    archive = next(mirror.rglob("structures.zip"))
    files = cif_files_from_zip(archive, tmp_path / "cifs", 12)
    assert len(files) == 12
    baseline = [sys.executable, "-m", "sagatsr", "predict", str(model_dir), "--workers", "1"]
    result = measure_predict_speed(
        model_dir,
        files,
        workers=2,
        batch_size=4,
        baseline_cli=baseline,
        baseline_label="one worker",
        out_path=tmp_path / "p.json",
        command="test",
    )
    assert result["n_files"] == 12 and result["max_abs_difference"] < 1e-5
    assert result["before"]["seconds"] > 0 and result["after"]["seconds"] > 0
    assert result["cli"]["n_predicted"] == 12 and result["baseline_cli"]["n_predicted"] == 12
    assert result["baseline_cli"]["label"] == "one worker"
    assert result["cli_speedup"] == result["baseline_cli"]["seconds"] / result["cli"]["seconds"]
    assert json.loads((tmp_path / "p.json").read_text())["speedup"] == result["speedup"]
    from sagatsr.bench.readme import predict_section

    text = predict_section({"predict": result})
    assert "12 CIF files" in text and "for one worker" in text


def test_a_command_that_misses_files_is_an_error(model_dir, prepared, tmp_path) -> None:
    mirror = prepared.out_dir.parent / "mirror"
    files = cif_files_from_zip(next(mirror.rglob("structures.zip")), tmp_path / "cifs", 3)
    (tmp_path / "cifs" / "broken.cif").write_text("data_x\n_cell_length_a 1\n")
    broken = [*files, str(tmp_path / "cifs" / "broken.cif")]
    with pytest.raises(RuntimeError, match="predicted 3 of 4"):
        time_command_line([sys.executable, "-m", "sagatsr", "predict", str(model_dir)], broken)


def test_a_baseline_from_a_commit_is_prepared_trained_and_timed_by_that_code(
    model_dir, prepared, tmp_path
) -> None:
    from pathlib import Path

    from sagatsr.bench.predict_speed import baseline_from_commit, export_commit_lib
    from sagatsr.model.persistence import read_model_config

    root = Path(__file__).resolve().parents[2]
    mirror = prepared.out_dir.parent / "mirror"
    argv, label, details = baseline_from_commit(
        "HEAD", model_dir, mirror, tmp_path / "baseline", n_entries=20, repo=root
    )
    head = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert details["commit"] == head and label.startswith(f"sagatsr predict at {head[:7]} ")
    assert (tmp_path / "baseline" / "code" / "lib" / "sagatsr" / "cli.py").is_file()
    config, _ = read_model_config(model_dir)
    assert details["architecture"]["--hidden"] == config.hidden
    baseline_config, _ = read_model_config(argv[-1])  # trained by the exported code
    assert (baseline_config.hidden, baseline_config.layers) == (config.hidden, config.layers)
    assert argv[:2] == ["env", f"PYTHONPATH={tmp_path / 'baseline' / 'code' / 'lib'}"]
    files = cif_files_from_zip(next(mirror.rglob("structures.zip")), tmp_path / "cifs", 4)
    timed = time_command_line(argv, files)
    assert timed["n_predicted"] == 4
    with pytest.raises(ValueError, match="no commit 'no-such-commit'"):
        export_commit_lib("no-such-commit", tmp_path / "x", repo=root)
    with pytest.raises(ValueError, match="git repository"):
        export_commit_lib("HEAD", tmp_path / "x", repo=tmp_path)


def test_one_baseline_at_a_time(tmp_path, capsys) -> None:
    from sagatsr.cli import main

    argv = ["benchmark", "predict", str(tmp_path), "--baseline-cli", "x", "--baseline-commit", "y"]
    assert main(argv) == 2
    assert "--baseline-cli or --baseline-commit, not both" in capsys.readouterr().err
