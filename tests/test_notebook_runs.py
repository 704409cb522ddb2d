"""Every pipeline notebook runs under papermill with tiny parameters (the CI smoke test)."""

import json
from pathlib import Path

import nbformat
import pytest

from tests.test_prepare import castelli_like

ROOT = Path(__file__).resolve().parents[1]


def run_notebook(name: str, out: Path, parameters: dict) -> nbformat.NotebookNode:
    import papermill

    papermill.execute_notebook(
        str(ROOT / "notebooks" / name),
        str(out),
        parameters=parameters,
        cwd=str(ROOT),
        progress_bar=False,
        kernel_name="python3",
    )
    book = nbformat.read(out, as_version=4)
    noise = [
        output["text"][:200]
        for cell in book.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    ]
    assert not noise, f"{name} printed library log output to its page: {noise}"
    return book


def images(book: nbformat.NotebookNode) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in book.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


@pytest.mark.slow
def test_01_prepare_data(tmp_path) -> None:
    mirror = castelli_like(tmp_path / "mirror", n_copies=2)
    book = run_notebook(
        "01_prepare_data.ipynb",
        tmp_path / "01.ipynb",
        {
            "dataset": "castelli_perovskites",
            "raw_dir": str(mirror),
            "out_dir": str(tmp_path / "prepared"),
            "cache_path": str(tmp_path / "cache.sqlite"),
            "metrics_path": str(tmp_path / "prepare.json"),
            "workers": 1,
        },
    )
    assert (tmp_path / "prepared" / "manifest.json").is_file()
    assert (tmp_path / "prepare.json").is_file()
    assert images(book) >= 1


@pytest.mark.slow
def test_01_prepares_a_user_dataset(tmp_path) -> None:
    import json

    from tests.test_user_data_cli import dataset

    data = tmp_path / "mine.csv"
    dataset(data, n=12)
    run_notebook(
        "01_prepare_data.ipynb",
        tmp_path / "01.ipynb",
        {
            "dataset": str(data),
            "name": "mine",
            "targets": "gap:eV",
            "out_dir": str(tmp_path / "prepared"),
            "cache_path": "",
            "metrics_path": str(tmp_path / "prepare.json"),
            "workers": 1,
        },
    )
    manifest = json.loads((tmp_path / "prepared" / "manifest.json").read_text())
    assert manifest["dataset"] == "mine" and manifest["n_records"] == 12
    assert manifest["targets"] == [{"name": "gap", "unit": "eV", "description": "user target gap"}]


@pytest.mark.slow
def test_02_train_gat(tmp_path) -> None:
    from sagatsr.graphs.neighbors import NeighborConfig
    from sagatsr.prepare import prepare_dataset

    mirror = castelli_like(tmp_path / "mirror", n_copies=5)
    prepared = prepare_dataset(
        "castelli_perovskites",
        raw_root=mirror,
        out_dir=tmp_path / "prepared",
        neighbors=NeighborConfig(),
    )
    book = run_notebook(
        "02_train_gat.ipynb",
        tmp_path / "02.ipynb",
        {
            "prepared_dir": str(prepared.out_dir),
            "out_dir": str(tmp_path / "run"),
            "metrics_path": str(tmp_path / "train.json"),
            "hidden": 16,
            "heads": 2,
            "layers": 1,
            "edge_dim": 8,
            "epochs": 2,
            "batch_size": 8,
            "loss": "mse",
            "warmup_fraction": 0.2,  # not in the parameters cell: any recipe option reaches it
        },
    )
    assert (tmp_path / "run" / "model" / "state.pt").is_file()
    assert "test MAE" in (tmp_path / "train.json").read_text()
    recorded = json.loads((tmp_path / "train.json").read_text())
    assert recorded["train_config"]["loss"] == "mse"
    assert recorded["train_config"]["warmup_fraction"] == 0.2
    assert recorded["model_config"]["hidden"] == 16
    assert images(book) >= 2


@pytest.mark.slow
def test_03_attention_analysis(trained_runs, tmp_path) -> None:
    import json

    book = run_notebook(
        "03_attention_analysis.ipynb",
        tmp_path / "03.ipynb",
        {
            "models_root": str(trained_runs / "models"),
            "prepared_root": str(trained_runs / "prepared"),
            "stability_dataset": "castelli_perovskites",
            "stability_subset": "all",
            "stability_split": "matbench_fold0",
            "stability_target": "e_form",
            "stability_seeds": 2,
            "epochs": 1,
            "stability_out": str(tmp_path / "stability"),
            "hidden": 16,
            "heads": 2,
            "layers": 1,
            "edge_dim": 8,
            "batch_size": 8,
            "permutation_run": "castelli_e_form",
            "permutation_repeats": 1,
            "metrics_path": str(tmp_path / "analysis.json"),
        },
    )
    summary = json.loads((tmp_path / "analysis.json").read_text())
    assert set(summary["top_features"]) == {
        "castelli_perovskites/all e_form",
        "castelli_perovskites/all gap_gllbsc",
    }
    assert summary["seed_stability"]["n_pairs"] == 1
    assert -1 <= summary["ic_vs_permutation"]["spearman"] <= 1
    assert images(book) >= 4


@pytest.mark.slow
def test_04_sr_distillation(trained_runs, tmp_path) -> None:
    import json

    book = run_notebook(
        "04_sr_distillation.ipynb",
        tmp_path / "04.ipynb",
        {
            "models_root": str(trained_runs / "models"),
            "prepared_root": str(trained_runs / "prepared"),
            "runs": "castelli_e_form,castelli_gap",
            "oof_root": str(tmp_path / "oof"),
            "k_folds": 2,
            "fold_epochs": 1,
            "top_k": 3,
            "descriptor_k": 4,
            "sisso_max_dim": 2,
            "sisso_n_sis": 10,
            "operon_generations": 5,
            "operon_population": 50,
            "formula_digits": 3,
            "metrics_path": str(tmp_path / "distill.json"),
        },
    )
    summary = json.loads((tmp_path / "distill.json").read_text())
    # 2 runs x (2 engines x (with Ep, features only) + 3 comparisons: IC ungrouped,
    # permutation grouped and ungrouped, with the first engine)
    assert len(summary["expressions"]) == 14
    assert {e["engine"] for e in summary["expressions"]} == {"sisso", "operon"}
    assert images(book) >= 2
    # the tables show every expression rounded to formula_digits, the expressions table
    # renders each one (no MathJax needed); the result file keeps full precision
    from html import escape

    from sagatsr.sr.display import formula_text

    shown = "\n".join(
        output["data"]["text/html"]
        for cell in book.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "text/html" in output.get("data", {})
    )
    assert shown.count("data:image/svg+xml;base64,") == 14
    for expression in (e["expression"] for e in summary["expressions"]):
        assert escape(formula_text(expression, 3)) in shown
    assert any(formula_text(e["expression"], 3) != e["expression"] for e in summary["expressions"])


@pytest.mark.slow
def test_05_speedup_benchmark(trained_runs, tmp_path) -> None:
    import json

    from sagatsr.sr.distill import distill_run

    distill_run(
        trained_runs / "models" / "castelli_gap",
        trained_runs / "prepared",
        oof_root=tmp_path / "oof" / "castelli_gap",
        k_folds=2,
        engines=(),
        fold_epochs=1,
    )
    book = run_notebook(
        "05_speedup_benchmark.ipynb",
        tmp_path / "05.ipynb",
        {
            "models_root": str(trained_runs / "models"),
            "prepared_root": str(trained_runs / "prepared"),
            "oof_root": str(tmp_path / "oof"),
            "runs": "castelli_gap",
            "sisso_max_dim": 2,
            "sisso_n_sis": 10,
            "top_k": 3,
            "repetitions": "1,2,3",
            "repeats": 1,
            "fit_min_atoms": 40,
            "metrics_path": str(tmp_path / "sr_speedup.json"),
            "scaling_metrics_path": str(tmp_path / "scaling.json"),
        },
    )
    speedup = json.loads((tmp_path / "sr_speedup.json").read_text())
    assert speedup["runs"][0]["speedup"] > 0
    scaling = json.loads((tmp_path / "scaling.json").read_text())
    assert [r["n_atoms"] for r in scaling["sizes"]["cpu"]] == [5, 40, 135]
    assert images(book) >= 3  # speedup, two scaling plots


def test_06_accuracy_benchmarks_reads_the_result_files(tmp_path) -> None:
    import json

    from tests.bench.test_results import ablation_result

    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "embedding_ablation.json").write_text(json.dumps(ablation_result()))
    book = run_notebook(
        "06_accuracy_benchmarks.ipynb",
        tmp_path / "06.ipynb",
        {"suite_metrics_dir": str(suites), "metrics_path": str(suites / "matbench_refit.json")},
    )
    assert images(book) == 1  # the embedding ablation; the suites not run show as None
    assert "fcn_AB(OX)3" in json.dumps([c.outputs for c in book.cells if c.cell_type == "code"])


def test_ic_stability_across_runs_cli(trained_runs, tmp_path) -> None:
    import json

    from sagatsr.cli import main

    out = tmp_path / "stability.json"
    runs = [str(trained_runs / "models" / n) for n in ("castelli_e_form", "castelli_gap")]
    args = ["benchmark", "ic_stability", *runs, "--prepared-root", str(trained_runs / "prepared")]
    assert main([*args, "--top", "5", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["n_pairs"] == 1 and -1 <= result["mean_spearman"] <= 1
    assert 0 <= result["mean_top_k_overlap"] <= 1 and result["k"] == 5
    assert main([*args[:3], "--out", str(out)]) == 1  # one run: a clear error
    # runs in folders of the same name (fold0/e_form, fold1/e_form) are told apart
    import shutil

    for fold in ("fold0", "fold1"):
        shutil.copytree(runs[0], tmp_path / fold / "e_form")
    same_name = [str(tmp_path / fold / "e_form") for fold in ("fold0", "fold1")]
    args = ["benchmark", "ic_stability", *same_name]
    args += ["--prepared-root", str(trained_runs / "prepared"), "--out", str(out)]
    assert main(args) == 0
    result = json.loads(out.read_text())
    assert result["n_pairs"] == 1 and result["mean_spearman"] == pytest.approx(1.0)
    assert {result["pairs"][0]["a"], result["pairs"][0]["b"]} == {"fold0/e_form", "fold1/e_form"}
