import base64
import json
from pathlib import Path

import nbformat
import pytest

from sagatsr.dashboard import (
    KEY_FIGURE_TAG,
    ReportPage,
    key_figure_of,
    write_dashboard,
    write_key_figures,
)
from sagatsr.headlines import (
    NOT_MEASURED,
    SUITES,
    UNREADABLE,
    Provenance,
    headline_figures,
    load_metrics,
)

# A 1x1 PNG: the bytes a thumbnail must keep.
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Dw"
    "HwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10">'
    '<rect width="20" height="10"/></svg>'
)


def run_info(commit: str, cpu: str = "AMD EPYC", gpu: str | None = None, **extra) -> dict:
    return {
        "command": "sagatsr benchmark x",
        "commit": commit,
        "dirty": False,
        "hardware": {"cpu": cpu, "cpu_cores": 2, "gpu": gpu, "gpu_count": 1 if gpu else 0},
        "date": "2026-11-27T16:31:14+00:00",
        **extra,
    }


def write_metrics(folder) -> None:
    """A few result files as the benchmarks write them; predict.json is left absent."""
    folder.mkdir()
    files = {
        "matbench_perovskites": {
            "unit": "eV/cell",
            "complete": True,
            "folds": [{"test_mae": 0.0390}, {"test_mae": 0.0360}],
            "mean_mae": 0.0375,
            "std_mae": 0.0015,
            "mean_val_mae": 0.0372,
            "goal": 0.027,
            "better_than": ["CGCNN"],
            "published_mae": {"CGCNN": 0.0452, "ALIGNN": 0.0288},
            **run_info("b634113cb14080008e2b8c122cd9c441734de1e2", cpu="Intel Xeon"),
        },
        "sr_speedup": {
            "goal_speedup": 23,
            "median_speedup": 279.08,
            "runs": [
                {
                    "run": "oqmd_abx3_band_gap",
                    "unit": "eV",
                    "speedup": 287.4,
                    "equal_or_better_accuracy": True,
                    "conventional": {"n_inputs": 189, "sr_seconds": 17.6, "test_mae": 0.743},
                    "sa_gat_sr": {"n_inputs": 6, "sr_seconds": 0.061, "test_mae": 0.2571},
                }
            ],
            **run_info("ffeb9f23019de309c66d3cd610a098fd4b4d28cc", gpu="NVIDIA H200"),
        },
        # run information nested under "provenance", as sisso_engine.json has it
        "sisso_engine": {
            "dataset": {"n_samples": 500, "n_features": 20},
            "settings": {"max_dim": 3},
            "ours": {"wall_s": 0.067},
            "torchsisso": {"wall_s": 15.04},
            "speedup": 223.98,
            "descriptors_agree": True,
            "provenance": run_info("fbde4b76a30317ca12b1af11015311aed54131f3"),
        },
        "scaling": {
            "goal_slope": 1.1,
            "fit_min_atoms": 500,
            "structure": "SrTiO3",
            "slopes": {
                "cpu": {
                    "large_n": {"inference_s": 1.234, "total_s": 1.13, "inference_peak_bytes": 0.71}
                },
                "cuda": {
                    "large_n": {
                        "inference_s": float("nan"),
                        "total_s": float("nan"),
                        "inference_peak_bytes": float("nan"),
                    }
                },
            },
            **run_info("ffeb9f2"),
        },
        "featurize": {  # lacks graph_seconds
            "n_graphs": 10,
            "dataset": "toy",
            "structures_per_second": 5.0,
            "workers": 2,
            **run_info("5972afc"),
        },
        "train_toy_e_form": {
            "dataset": "toy",
            "subset": "all",
            "split": "random",
            "target": "e_form",
            "unit": "eV/cell",
            "epochs_run": 15,
            "metrics": {"test": {"mae": 0.07531, "r2": 0.979}},
            **run_info("ffeb9f2", dirty=True),
        },
    }
    for name, result in files.items():
        (folder / f"{name}.json").write_text(json.dumps(result))


def test_headline_figures_carry_value_unit_anchors_and_provenance(tmp_path) -> None:
    write_metrics(tmp_path / "metrics")
    rows = headline_figures(load_metrics(tmp_path / "metrics"))
    by_figure = {(row.suite, row.figure): row for row in rows}

    matbench = by_figure[("Matbench perovskites", "mean test MAE over 2 fold(s)")]
    assert (matbench.value, matbench.unit) == ("0.0375 ± 0.0015", "eV/cell")
    # the goal, then the published entries from the best
    assert matbench.anchors == (
        "goal < 0.027 eV/cell",
        "ALIGNN 0.0288 eV/cell",
        "CGCNN 0.0452 eV/cell",
    )
    assert matbench.source == Provenance("2026-11-27", "b634113", False, "Intel Xeon, 2 cores")
    assert (
        "folds 0.0390, 0.0360" in matbench.detail and matbench.file == "matbench_perovskites.json"
    )

    speedup = [row for row in rows if row.file == "sr_speedup.json"]
    assert [(r.value, r.unit) for r in speedup] == [("279", "×"), ("287", "×")]
    assert all("paper 23×" in r.anchors[0] for r in speedup)
    assert speedup[0].source.hardware == "AMD EPYC, 2 cores, GPU NVIDIA H200"
    assert "test MAE 0.743 eV" in speedup[1].detail and "0.2571 eV" in speedup[1].detail

    sisso = next(row for row in rows if row.file == "sisso_engine.json")
    assert (sisso.value, sisso.source.commit) == ("224", "fbde4b7")  # nested provenance

    scaling = [row for row in rows if row.file == "scaling.json"]
    assert [r.value for r in scaling] == ["1.23", "1.13", "0.71"]  # no row for the NaN GPU fit
    assert scaling[0].anchors == ("O(n): 1; goal ≤ 1.1",)

    pipeline = next(row for row in rows if row.file == "train_toy_e_form.json")
    assert (pipeline.value, pipeline.unit) == ("0.07531", "eV/cell")
    assert pipeline.source.dirty and "R² 0.979" in pipeline.detail


def test_absent_and_broken_result_files_show_in_the_table(tmp_path) -> None:
    write_metrics(tmp_path / "metrics")
    rows = headline_figures(load_metrics(tmp_path / "metrics"))
    predict = [row for row in rows if row.file == "predict.json"]
    assert [(r.value, r.source, r.measured) for r in predict] == [(NOT_MEASURED, None, False)]
    (featurize,) = [row for row in rows if row.file == "featurize.json"]
    assert featurize.value == UNREADABLE
    assert featurize.detail == "no entry 'graph_seconds' in the file"
    assert not featurize.measured and featurize.source.commit == "5972afc"
    # every README section has at least one row, measured or not
    assert {row.suite for row in rows} == {suite.title for suite in SUITES}

    empty = headline_figures(load_metrics(tmp_path / "nothing"))
    assert len(empty) == len(SUITES) and {row.value for row in empty} == {NOT_MEASURED}


def notebook(path, images: list[tuple[str, str]], tags=None) -> None:
    """An executed notebook: a section heading before each image output."""
    book = nbformat.v4.new_notebook()
    book.cells.append(nbformat.v4.new_markdown_cell("# Title"))
    for number, (mime, data) in enumerate(images):
        book.cells.append(nbformat.v4.new_markdown_cell(f"## Section {number}"))
        cell = nbformat.v4.new_code_cell("plot()", metadata={"tags": (tags or {}).get(number, [])})
        cell.outputs = [
            nbformat.v4.new_output("display_data", data={mime: data, "text/plain": "x"})
        ]
        book.cells.append(cell)
    nbformat.write(book, path)


def test_key_figure_is_the_tagged_else_the_first_image(tmp_path) -> None:
    images = [("image/png", PNG), ("image/svg+xml", SVG)]
    notebook(tmp_path / "a.ipynb", images)
    assert key_figure_of(tmp_path / "a.ipynb") == ("image/png", PNG, "Section 0")
    assert key_figure_of(tmp_path / "a.ipynb", choose="last") == ("image/svg+xml", SVG, "Section 1")
    notebook(tmp_path / "b.ipynb", images, tags={1: [KEY_FIGURE_TAG]})
    assert key_figure_of(tmp_path / "b.ipynb")[0] == "image/svg+xml"
    notebook(tmp_path / "c.ipynb", [])
    assert key_figure_of(tmp_path / "c.ipynb") is None


def test_key_figures_are_written_as_files_and_stale_ones_removed(tmp_path) -> None:
    notebook(tmp_path / "01_a.ipynb", [("image/png", PNG)])
    notebook(tmp_path / "02_b.ipynb", [("image/svg+xml", SVG)])
    notebook(tmp_path / "03_c.ipynb", [])
    thumbs = tmp_path / "thumbs"
    thumbs.mkdir()
    (thumbs / "00_removed_notebook.png").write_bytes(b"old")
    (thumbs / "notes.txt").write_text("not a thumbnail")
    figures = write_key_figures(
        [tmp_path / f"{n}.ipynb" for n in ("01_a", "02_b", "03_c")],
        thumbs,
        titles=["A", "B", "C"],
    )
    assert [f.path.name if f else None for f in figures] == ["01_a.png", "02_b.svg", None]
    assert (thumbs / "01_a.png").read_bytes() == base64.b64decode(PNG)
    assert (thumbs / "02_b.svg").read_text() == SVG
    assert figures[0].alt == "Section 0: key figure of A"
    assert sorted(p.name for p in thumbs.iterdir()) == ["01_a.png", "02_b.svg", "notes.txt"]


def test_dashboard_table_and_cards(tmp_path) -> None:
    write_metrics(tmp_path / "metrics")
    rows = headline_figures(load_metrics(tmp_path / "metrics"))
    pages = [
        ReportPage("A & co", "a.html", "a_reader.html", "3 runs", "thumbs/a.png", "key of A"),
        ReportPage("B", "b.html", "b_reader.html", ""),
    ]
    out = write_dashboard(
        pages, tmp_path / "reports" / "index.html", headlines=rows, metrics_dir=tmp_path / "metrics"
    )
    page = out.read_text()
    assert '<td class="value">0.0375 ± 0.0015</td><td class="unit">eV/cell</td>' in page
    assert "<li>ALIGNN 0.0288 eV/cell</li>" in page
    # provenance once per file, linked relative to the page
    assert page.count('href="../metrics/sr_speedup.json"') == 1
    assert 'rowspan="2"' in page
    assert "2026-11-27 &middot; commit <code>b634113</code> &middot; Intel Xeon, 2 cores" in page
    assert '<td class="value missing">not measured</td>' in page
    assert "<code>predict.json</code>: absent" in page
    assert '<img src="thumbs/a.png" alt="key of A">' in page and "A &amp; co" in page
    assert '<a class="thumb text" href="b_reader.html">no figure in this notebook</a>' in page

    without = write_dashboard(pages, tmp_path / "bare.html").read_text()
    assert "<table" not in without and "--metrics" in without


@pytest.mark.parametrize("missing", ["matbench_perovskites", "throughput"])
def test_a_missing_suite_is_not_measured(tmp_path, missing) -> None:
    write_metrics(tmp_path / "metrics")
    (tmp_path / "metrics" / f"{missing}.json").unlink(missing_ok=True)
    rows = [
        r
        for r in headline_figures(load_metrics(tmp_path / "metrics"))
        if r.file == f"{missing}.json"
    ]
    assert [(r.figure, r.value, r.unit, r.anchors) for r in rows] == [
        ("all figures", NOT_MEASURED, "", ())
    ]


def test_report_command_reads_the_metrics_option(tmp_path) -> None:
    from sagatsr.cli import build_parser, main

    assert build_parser().parse_args(["report"]).metrics.as_posix() == "reports/metrics"
    nb_dir = tmp_path / "nb"
    nb_dir.mkdir()
    notebook(nb_dir / "01_a.ipynb", [("image/png", PNG)])
    write_metrics(tmp_path / "metrics")
    out = tmp_path / "reports"
    args = ["report", "--notebooks", str(nb_dir), "--metrics", str(tmp_path / "metrics")]
    assert main([*args, "--out", str(out)]) == 0
    page = (out / "index.html").read_text()
    assert "0.0375 ± 0.0015" in page and 'src="thumbs/01_a.png"' in page
    assert (out / "thumbs" / "01_a.png").is_file()


def test_the_determinism_and_worked_example_rows_read_their_files() -> None:
    from sagatsr.headlines import headline_figures

    metrics = json.loads(json.dumps(_real_metrics(("determinism", "user_data_mp20"))))
    rows = {h.suite: h for h in headline_figures(metrics) if h.measured}
    determinism = rows["Determinism: thread count against seed"]
    spreads = metrics["determinism"]["thread_spread"].values()
    assert determinism.value == f"{100 * max(v['rel'] for v in spreads):.1f}"
    assert determinism.unit == "%"
    example = rows["Your own data: the MP-20 worked example"]
    test_mae = metrics["user_data_mp20"]["train"]["metrics"]["test"]["mae"]
    assert example.value == f"{test_mae:.4g}" and example.unit == "eV/atom"


def _real_metrics(names: tuple[str, ...]) -> dict:
    root = Path(__file__).resolve().parents[1] / "reports" / "metrics"
    return {name: json.loads((root / f"{name}.json").read_text()) for name in names}


def test_the_encoding_rows_give_each_variant_and_the_decision() -> None:
    from sagatsr.headlines import headline_figures

    def entry(recall: float) -> dict:
        names = ("recall_at_5_group", "recall_at_5_feature", "seed_spearman", "entropy_ratio")
        return {"scores": dict.fromkeys(names, recall)}

    result = {
        "encodings": {"paper": entry(0.7), "entropy": entry(0.8)},
        "matbench_fold0": {"encodings": {"paper": {"val_mae": 0.0363}}},
        "verdict": {"best": "entropy", "becomes_default": False, "reasons": ["no run"]},
        "commit": "abc1234",
        "date": "2026-12-02",
        "hardware": {"cpu": "AMD EPYC", "cores": 2},
    }
    rows = [h for h in headline_figures({"ic_encodings": result}) if h.file == "ic_encodings.json"]
    assert [h.value for h in rows] == ["0.70", "0.80", "paper (unchanged)"]
    assert "0.0363 eV/cell" in rows[0].detail and "not run" in rows[1].detail
    assert rows[-1].detail == "no run"


def test_the_training_domain_and_refit_rows_read_their_files() -> None:
    from sagatsr.headlines import headline_figures

    metrics = json.loads(json.dumps(_real_metrics(("training_domain", "matbench_perovskites"))))
    rows = [h for h in headline_figures(metrics) if h.measured]
    domain = [h for h in rows if h.suite == "Training domain of a model"]
    evaluated = metrics["training_domain"]["evaluated"]
    assert [h.value for h in domain] == [f"{100 * e['share_outside']:.1f}" for e in evaluated]
    assert domain[0].figure.endswith("castelli_perovskites matbench_fold0 test part")
    # a refit combination has no held-out validation figure, and says so
    refit = {**metrics["matbench_perovskites"], "refit": True}
    del refit["mean_val_mae"]
    (first, *_) = [
        h for h in headline_figures({"matbench_refit": refit}) if h.suite.endswith("validation")
    ]
    assert first.value.startswith(f"{refit['mean_mae']:.4f}")
    assert "members refit on training + validation (no held-out validation figure)" in first.detail
