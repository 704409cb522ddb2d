import base64
import io
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import nbformat
import pytest

from sagatsr.reports import build_reports, describe_executed_notebook, summarize_metrics
from tests.support.browser import headless_chromium, loaded_images


def png_base64() -> str:
    figure, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def executed_notebook(path, metrics_path) -> None:
    book = nbformat.v4.new_notebook()
    book.cells.append(nbformat.v4.new_markdown_cell("# 01 · Prepare a dataset\n\n## Section"))
    cell = nbformat.v4.new_code_cell("plot()")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"image/png": png_base64(), "text/plain": "fig"}
        )
    ]
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


def test_reports_render_in_headless_chromium(tmp_path) -> None:
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"summary": "18928 records"}))
    nb_dir = tmp_path / "nb"
    nb_dir.mkdir()
    executed_notebook(nb_dir / "01_prepare_data_toy.ipynb", metrics)
    pages = build_reports(nb_dir, tmp_path / "reports")
    assert [p.summary for p in pages] == ["18928 records"]

    with headless_chromium(tmp_path) as driver:
        driver.get((tmp_path / "reports" / "index.html").as_uri())
        assert driver.find_element("tag name", "h1").text == "SA-GAT-SR reports"
        link = driver.find_element("link text", "01 · Prepare a dataset (toy)")
        link.click()
        headings = [h.text for h in driver.find_elements("css selector", "h1, h2")]
        assert any("Prepare a dataset" in h for h in headings)
        assert loaded_images(driver) >= 1
