"""Joining the pieces of a GPU-machine run (here made on the CPU, as the script's dry run)."""

import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest
import torch

from sagatsr.bench.gpu_checks import (
    COMPILED_FILES,
    SCALING_FILE,
    SISSO_FILES,
    TESTS_FILE,
    THROUGHPUT_FILE,
    TRAIN_FAST_RUN,
    TRAIN_RUN,
    collect_gpu_checks,
    read_junit,
)
from sagatsr.cli import main
from tests.support.training import SMALL, quick

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="3">
<testcase classname="tests.a" name="test_ok" time="1.5"/>
<testcase classname="tests.a" name="test_bad" time="2.0">
<failure message="AssertionError: not close&#10;more">trace</failure></testcase>
<testcase classname="tests.b" name="test_gpu" time="0.0">
<skipped message="needs a CUDA device"/></testcase>
</testsuite></testsuites>
"""


@pytest.fixture(scope="module")
def results(prepared, tmp_path_factory):
    """A results folder with every piece, each written by its real command."""
    from sagatsr.bench.scaling import measure_scaling
    from sagatsr.bench.sisso_engine import compare_with_torchsisso, synthetic_dataset
    from sagatsr.bench.throughput import StepRecipe, measure_throughput
    from sagatsr.train.pipeline import train_on_split

    folder = tmp_path_factory.mktemp("gpu") / "results"
    folder.mkdir()
    (folder / TESTS_FILE).write_text(JUNIT)
    measure_throughput(
        prepared.out_dir,
        target="e_form",
        n_graphs=8,
        repeats=1,
        sizes={"small": SMALL},
        recipes=(StepRecipe("batch8", 8),),
        out_path=folder / THROUGHPUT_FILE,
    )
    measure_throughput(  # the compiled step's file layout (not compiled here: minutes)
        prepared.out_dir,
        target="e_form",
        n_graphs=8,
        repeats=1,
        sizes={"medium": SMALL},
        recipes=(StepRecipe("batch4", 4),),
        out_path=folder / COMPILED_FILES["medium"],
    )
    measure_scaling(
        repetitions=(1, 2),
        devices=("cpu",),
        repeats=1,
        model_settings={"hidden": 16, "heads": 2, "layers": 1, "edge_dim": 8},
        retained_memory_variant=False,
        out_path=folder / SCALING_FILE,
    )
    data, y = synthetic_dataset(60, 5, seed=0)
    for name in SISSO_FILES.values():
        compare_with_torchsisso(data, y, max_dim=1, n_sis=5, exhaustive=False, out=folder / name)
    train_on_split(
        prepared.out_dir,
        subset="all",
        split="matbench_fold0",
        target="e_form",
        out_dir=folder / TRAIN_RUN,
        model_settings=SMALL,
        train_config=quick(epochs=2),
    )
    train_on_split(
        prepared.out_dir,
        subset="all",
        split="matbench_fold0",
        target="e_form",
        out_dir=folder / TRAIN_FAST_RUN,
        model_settings=SMALL,
        train_config=quick(epochs=1, deterministic=False, max_time_minutes=5.0),
    )
    return folder


def test_junit_outcomes_are_read_case_by_case(tmp_path) -> None:
    path = tmp_path / "t.xml"
    path.write_text(JUNIT)
    read = read_junit(path)
    assert (read["passed"], read["failed"], read["skipped"]) == (1, 1, 1)
    bad = next(c for c in read["cases"] if c["outcome"] == "failed")
    assert bad == {
        "test": "tests.a::test_bad",
        "outcome": "failed",
        "seconds": 2.0,
        "message": "AssertionError: not close",
    }


def test_the_pieces_are_joined_with_their_figures_in_the_summary(results, tmp_path) -> None:
    out = tmp_path / "gpu_checks.json"
    result = collect_gpu_checks(results, sent_commit="c" * 40, out_path=out, command="test")
    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    assert result["commit"] == "c" * 40 and result["dirty"] is False
    assert result["command"] == "test" and result["collected"]["command"] == "test"
    # The measurement's provenance is the pieces' (the GPU machine's), not the collector's.
    assert result["hardware"] == json.loads((results / SCALING_FILE).read_text())["hardware"]
    throughput = json.loads((results / THROUGHPUT_FILE).read_text())
    assert result["throughput"] == throughput
    step = throughput["sizes"]["small"]["devices"]["cpu"]["recipes"]["batch8"]
    training = result["training"]
    assert training["epochs_run"] == 2 and len(training["val_mae_by_epoch"]) == 2
    assert training["seconds_per_epoch"] > 0
    summary = result["summary"]
    assert summary.startswith("no GPU recorded; tests 1 passed, 1 failed")
    assert f"small step {step['graphs_per_second']:,.0f} graphs/s (batch 8)" in summary
    ours = result["sisso"]["cuda"]["ours"]["wall_s"]
    assert f"our SISSO {ours:.2f} s on CUDA" in summary
    assert f"2 epochs in {training['train_seconds'] / 60:.1f} min" in summary


def test_a_partial_run_is_joined_and_an_empty_folder_is_an_error(results, tmp_path) -> None:
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / SCALING_FILE).write_text((results / SCALING_FILE).read_text())
    result = collect_gpu_checks(partial)
    assert result["tests"] is None and result["training"] is None and result["scaling"]
    recorded = json.loads((partial / SCALING_FILE).read_text())
    assert result["commit"] == recorded["commit"] == result["commit_recorded_there"]
    import shutil

    only_fast = tmp_path / "only_fast"
    shutil.copytree(results / TRAIN_FAST_RUN, only_fast / TRAIN_FAST_RUN)
    assert collect_gpu_checks(only_fast)["training_fast"]["epochs_run"] == 1
    only_compiled = tmp_path / "only_compiled"
    only_compiled.mkdir()
    shutil.copy(results / COMPILED_FILES["medium"], only_compiled)
    assert collect_gpu_checks(only_compiled)["torch"] == torch.__version__
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="holds none of the GPU check results"):
        collect_gpu_checks(empty)
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        collect_gpu_checks(tmp_path / "missing")


def test_the_command_writes_the_file_and_exits_1_on_a_missing_folder(
    results, tmp_path, capsys
) -> None:
    out = tmp_path / "g.json"
    assert main(["benchmark", "gpu_checks", str(results), "--out", str(out)]) == 0
    assert json.loads(out.read_text())["command"].startswith("sagatsr benchmark gpu_checks")
    assert main(["benchmark", "gpu_checks", str(tmp_path / "nope"), "--out", str(out)]) == 1
    assert "is not a folder of GPU check results" in capsys.readouterr().err


def test_the_readme_block_and_the_dashboard_rows_read_the_joined_file(results) -> None:
    from sagatsr.bench.readme import gpu_checks_section
    from sagatsr.headlines import SUITES, headline_figures

    result = collect_gpu_checks(results, sent_commit="d" * 40)
    block = gpu_checks_section({"gpu_checks": result})
    assert (
        "1 passed, 1 failed, 1 skipped (failed: `a::test_bad`: AssertionError: not close)" in block
    )
    training = result["training"]
    assert f"best validation MAE {training['best_val_mae']:.4f} eV/cell" in block
    assert "tree of commit ddddddd" in block
    compiled = result["throughput_compiled"]
    assert compiled["paper"] is None
    step = compiled["medium"]["sizes"]["medium"]["devices"]["cpu"]["recipes"]["batch4"]
    rate = f"{step['graphs_per_second']:,.0f}"
    assert f"compiled (torch.compile), medium model, graphs/s | batch4 {rate} |" in block
    fast = result["training_fast"]
    assert fast["epochs_run"] == 1 and fast["train_config"]["deterministic"] is False
    assert "| the same without deterministic kernels, 0 loader workers, 5 min | 1 epochs" in block
    suite = [s for s in SUITES if s.name == "gpu_checks"]
    rows = headline_figures({"gpu_checks": result}, suite)
    assert rows[0].figure == "CUDA tests passed" and rows[0].value == "1 of 3"
    assert all(r.measured and r.source.commit == "ddddddd" for r in rows)


def test_the_script_dry_runs_on_the_cpu_and_its_results_are_collected(tmp_path) -> None:
    """The GPU script's shell mechanics (steps, result folder, tar) checked without a GPU."""
    import sagatsr.bench

    script = Path(sagatsr.bench.__file__).with_name("gpu_checks.sh")
    root = script.parents[3]
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    env = {
        **os.environ,
        "OUT": str(tmp_path),
        "DEV": "cpu",
        "STEPS": "scaling",
        "REPS": "1 2",
        "OMP_NUM_THREADS": "1",
        "SAGATSR_SOURCE_COMMIT": "e" * 40,
    }
    done = subprocess.run(
        ["bash", str(script)], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "=== " in done.stdout and "scaling" in done.stdout
    with tarfile.open(tmp_path / "results.tar") as packed:
        assert "results/scaling_gpu.json" in packed.getnames()
    result = collect_gpu_checks(tmp_path / "results")
    assert result["scaling"]["sizes"]["cpu"][-1]["n_atoms"] == 40
    assert result["commit"] == "e" * 40  # what the sender set, over the checkout's git state
