import base64
import io
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import nbformat
import pytest
from IPython.core.formatters import format_display_data

from sagatsr.reports import build_reports, describe_executed_notebook, summarize_metrics
from sagatsr.sr.display import show_formula
from tests.support.browser import headless_chromium, loaded_images


def png_base64() -> str:
    figure, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


FORMULA = "0.884211886633782*Ep + 0.0181618449681339"


def executed_notebook(path, metrics_path) -> None:
    """A notebook as papermill leaves it: parameters, injected parameters, a figure, a formula."""
    book = nbformat.v4.new_notebook()
    book.cells.append(nbformat.v4.new_markdown_cell("# 01 · Prepare a dataset\n\n## Section"))
    for tag, source in (("parameters", "runs = 'a'"), ("injected-parameters", "runs = 'toy'")):
        book.cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": [tag]}))
    cell = nbformat.v4.new_code_cell("plot()")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"image/png": png_base64(), "text/plain": "fig"}
        )
    ]
    book.cells.append(cell)
    cell = nbformat.v4.new_code_cell("show_formula(expression)")
    data, _ = format_display_data(show_formula(FORMULA))  # what the kernel would send
    cell.outputs = [nbformat.v4.new_output("execute_result", data=data, execution_count=1)]
    book.cells.append(cell)
    book.metadata["papermill"] = {
        "parameters": {"dataset": "toy", "metrics_path": str(metrics_path)}
    }
    nbformat.write(book, path)


def test_summarize_metrics_prefers_summary_then_numbers(tmp_path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"summary": "MAE 0.03 eV/cell", "x": 1}))
    (tmp_path / "b.json").write_text(json.dumps({"n": 3, "mae": 0.123456, "name": "z"}))
    assert summarize_metrics(tmp_path / "a.json") == "MAE 0.03 eV/cell"
    assert summarize_metrics(tmp_path / "b.json") == "n 3, mae 0.1235"
    assert summarize_metrics(tmp_path / "none.json") == "missing"


def test_title_and_metrics_come_from_papermill_parameters(tmp_path) -> None:
    executed_notebook(tmp_path / "01_x.ipynb", "m.json")
    assert describe_executed_notebook(tmp_path / "01_x.ipynb") == (
        "01 · Prepare a dataset (toy)",
        "m.json",
    )


def test_build_reports_requires_notebooks(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no executed notebook"):
        build_reports(tmp_path, tmp_path / "out")


def text_only_notebook(path) -> None:
    """An executed notebook whose outputs hold no image."""
    book = nbformat.v4.new_notebook()
    book.cells.append(nbformat.v4.new_markdown_cell("# 05 · Benchmarks"))
    cell = nbformat.v4.new_code_cell("table()")
    cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "1"})]
    book.cells.append(cell)
    nbformat.write(book, path)


def result_files(folder) -> None:
    """Two result files, as the benchmarks write them; the others are absent."""
    folder.mkdir()
    run = {
        "commit": "b634113cb14080008e2b8c122cd9c441734de1e2",
        "hardware": {"cpu": "Intel Xeon", "cpu_cores": 2, "gpu": None},
        "date": "2026-11-27T16:31:14+00:00",
    }
    matbench = {
        "unit": "eV/cell",
        "folds": [{"test_mae": 0.0390}],
        "mean_mae": 0.0390,
        "std_mae": 0.0,
        "mean_val_mae": 0.0372,
        "published_mae": {"ALIGNN": 0.0288},
        **run,
    }
    (folder / "matbench_perovskites.json").write_text(json.dumps(matbench))
    featurize = {
        "n_graphs": 18928,
        "dataset": "castelli_perovskites",
        "graph_seconds": 18.02,
        "structures_per_second": 1050.2,
        "workers": 2,
        "goal_seconds": 120.0,
        **run,
    }
    (folder / "featurize.json").write_text(json.dumps(featurize))


def linked_files(driver) -> list[str]:
    """Every link and image source of the current page, as URLs."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('a[href]'), a => a.href)"
        ".concat(Array.from(document.images, i => i.src));"
    )


def test_reports_render_in_headless_chromium(tmp_path) -> None:
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"summary": "18928 records"}))
    nb_dir = tmp_path / "nb"
    nb_dir.mkdir()
    executed_notebook(nb_dir / "01_prepare_data_toy.ipynb", metrics)
    text_only_notebook(nb_dir / "05_speedup_benchmark.ipynb")
    result_files(tmp_path / "results")
    pages = build_reports(nb_dir, tmp_path / "reports", metrics_dir=tmp_path / "results")
    assert [p.summary for p in pages] == ["18928 records", ""]
    assert [(p.html_path, p.reader_path, p.figure) for p in pages] == [
        (
            "01_prepare_data_toy.html",
            "01_prepare_data_toy_reader.html",
            "thumbs/01_prepare_data_toy.png",
        ),
        ("05_speedup_benchmark.html", "05_speedup_benchmark_reader.html", ""),
    ]

    with headless_chromium(tmp_path) as driver:
        index = (tmp_path / "reports" / "index.html").as_uri()
        driver.get(index)
        # the dashboard: loads cleanly, links only existing local files, every image decodes
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
        targets = linked_files(driver)
        assert len(targets) >= 8
        for url in targets:
            parsed = urlparse(url)
            assert parsed.scheme == "file", url
            assert Path(unquote(parsed.path)).is_file(), url
        images = driver.find_elements("tag name", "img")
        assert len(images) == 1 and loaded_images(driver) == 1
        assert (
            images[0].get_attribute("alt") == "Section: key figure of 01 · Prepare a dataset (toy)"
        )
        cells = [c.text for c in driver.find_elements("css selector", "table.headlines td")]
        assert "0.0390 ± 0.0000" in cells and "eV/cell" in cells and "18.0" in cells
        assert "ALIGNN 0.0288 eV/cell" in cells and "goal < 120 s" in cells
        from sagatsr.headlines import SUITES

        # every other README section (the two written above: Matbench and featurization)
        assert cells.count("not measured") == len(SUITES) - 2
        source = driver.find_element("css selector", "td.source").text
        assert "2026-11-27 · commit b634113 · Intel Xeon, 2 cores" in source
        card = driver.find_elements("css selector", ".card")[1]
        assert "no figure in this notebook" in card.text and "05 · Benchmarks" in card.text
        driver.find_element("css selector", "a.thumb img").click()
        assert driver.current_url.endswith("01_prepare_data_toy_reader.html")

        driver.get(index)
        assert driver.find_element("tag name", "h1").text == "SA-GAT-SR reports"
        driver.find_element("link text", "01 · Prepare a dataset (toy)").click()
        assert driver.current_url.endswith("_reader.html")  # the title opens the reader's page
        headings = [h.text for h in driver.find_elements("css selector", "h1, h2")]
        assert any("Prepare a dataset" in h for h in headings)
        assert loaded_images(driver) >= 2  # the figure and the rendered formula
        text = driver.find_element("tag name", "body").text
        assert "0.8842*Ep + 0.01816" in text
        assert "plot()" not in text and "runs = " not in text  # no code, no parameters

        driver.get(index)
        driver.find_element("link text", "notebook with code").click()  # the first card's
        text = driver.find_element("tag name", "body").text
        assert "plot()" in text and "runs = 'toy'" in text
        assert "0.8842*Ep + 0.01816" in text and loaded_images(driver) >= 2


def test_pages_read_offline_with_the_formula_as_text(tmp_path) -> None:
    nb_dir = tmp_path / "nb"
    nb_dir.mkdir()
    executed_notebook(nb_dir / "04_sr_distillation.ipynb", tmp_path / "none.json")
    build_reports(nb_dir, tmp_path / "reports")
    for name in ("04_sr_distillation.html", "04_sr_distillation_reader.html"):
        page = (tmp_path / "reports" / name).read_text()
        assert "0.8842*Ep + 0.01816" in page and FORMULA not in page
        assert "data:image/svg+xml;base64," in page
        # nothing is fetched from the network: no script with a remote source (MathJax, require.js)
        assert not re.findall(r"<script[^>]*src=\"https?:", page), name
    reader = (tmp_path / "reports" / "04_sr_distillation_reader.html").read_text()
    assert "runs = " not in reader and "plot()" not in reader


def test_mathjax_is_loaded_only_from_a_url_given(tmp_path) -> None:
    nb_dir = tmp_path / "nb"
    nb_dir.mkdir()
    executed_notebook(nb_dir / "01_x.ipynb", tmp_path / "none.json")
    build_reports(nb_dir, tmp_path / "reports", mathjax_url="mathjax/tex-chtml.js")
    assert '<script src="mathjax/tex-chtml.js">' in (tmp_path / "reports" / "01_x.html").read_text()
