"""HTML reports: executed notebooks -> ``reports/*.html`` and an index page.

Every notebook gets two pages, rendered with nbconvert: ``<stem>.html``, the whole
executed notebook, and ``<stem>_reader.html``, the reader's page: text and results
only (no code cells, no parameters cells). Figures are embedded as data URIs and
no script is loaded from the internet (no require.js, and MathJax only from a URL
given, e.g. a local copy), so each page stands alone and reads offline; formulas
come as rendered images beside their plain text (:mod:`sagatsr.sr.display`).
The index, ``index.html``, is the results dashboard (:mod:`sagatsr.dashboard`):
the headline figures read from the result files of ``reports/metrics``, then a
card per notebook with its key figure (``thumbs/<stem>.png`` or ``.svg``) and a
one-line summary of the stage's key metric.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sagatsr.dashboard import THUMBS_DIR, ReportPage, write_dashboard, write_key_figures
from sagatsr.headlines import headline_figures, load_metrics
from sagatsr.io_utils import atomic_open

__all__ = [
    "PARAMETER_TAGS",
    "READER_SUFFIX",
    "ReportPage",
    "build_reports",
    "describe_executed_notebook",
    "notebook_to_html",
    "summarize_metrics",
]

#: Cell tags of papermill's parameters cells, left out of the reader's page.
PARAMETER_TAGS = frozenset({"parameters", "injected-parameters"})

#: Suffix of a notebook's reader page: ``<stem>_reader.html``.
READER_SUFFIX = "_reader"

# JupyterLab's page without the scripts it loads from a CDN: require.js (only for
# widgets) is left out, MathJax is loaded only from a URL given.
_OFFLINE_TEMPLATE = "sagatsr_offline.html.j2"
_OFFLINE_TEMPLATE_SOURCE = """{%- extends 'index.html.j2' -%}
{%- from 'mathjax.html.j2' import mathjax -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}
{%- if resources.mathjax_url -%}{{ mathjax(resources.mathjax_url) }}{%- endif -%}
{%- endblock html_head_js_mathjax -%}
"""


def notebook_to_html(
    notebook: str | os.PathLike[str],
    out_html: str | os.PathLike[str],
    *,
    reader: bool = False,
    mathjax_url: str = "",
) -> Path:
    """Render an executed notebook to a standalone HTML page that reads offline.

    Args:
        notebook: Executed ``.ipynb`` (e.g. papermill's output).
        out_html: Destination ``.html``.
        reader: The reader's page: no code cells (their outputs stay) and no
            parameters cells (:data:`PARAMETER_TAGS`).
        mathjax_url: Where to load MathJax from (e.g. a local copy); ``""``
            (the default) loads none, and LaTeX in Markdown cells shows as typed.

    Returns:
        The written path.

    Raises:
        FileNotFoundError: If the notebook does not exist.
    """
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    source = Path(notebook)
    if not source.is_file():
        raise FileNotFoundError(f"executed notebook {source} does not exist")
    config = Config()
    if reader:
        config.TagRemovePreprocessor.remove_cell_tags = set(PARAMETER_TAGS)
    exporter = HTMLExporter(
        config=config,
        template_name="lab",
        template_file=_OFFLINE_TEMPLATE,
        extra_loaders=[DictLoader({_OFFLINE_TEMPLATE: _OFFLINE_TEMPLATE_SOURCE})],
        mathjax_url=mathjax_url,
        exclude_input=reader,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nbformat.read(source, as_version=4))
    with atomic_open(out_html, "w") as handle:
        handle.write(body)
    return Path(out_html)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_fmt(v)}" for k, v in value.items())
    return str(value)


def summarize_metrics(path: str | os.PathLike[str]) -> str:
    """One line describing a metrics JSON file.

    Args:
        path: A ``reports/metrics/*.json`` file.

    Returns:
        ``"key value, key value, ..."`` built from the file's ``summary`` entry
        when present, else from its top-level numbers; ``"missing"`` when the
        file does not exist.
    """
    file = Path(path)
    if not file.is_file():
        return "missing"
    data = json.loads(file.read_text(encoding="utf-8"))
    headline = data.get("summary")
    if isinstance(headline, str):
        return headline
    if isinstance(headline, dict):
        return _fmt(headline)
    numbers = {
        k: v for k, v in data.items() if isinstance(v, int | float) and not isinstance(v, bool)
    }
    return _fmt(dict(list(numbers.items())[:6])) or "no numeric figures"


def describe_executed_notebook(notebook: str | os.PathLike[str]) -> tuple[str, str | None]:
    """Title and metrics file of an executed notebook.

    The title is the notebook's first Markdown heading followed by the
    ``dataset`` / ``subset`` / ``target`` parameters papermill recorded; the
    metrics file is the recorded ``metrics_path`` parameter.

    Args:
        notebook: A notebook executed by papermill.

    Returns:
        ``(title, metrics path or None)``.
    """
    import nbformat

    book = nbformat.read(Path(notebook), as_version=4)
    heading = next(
        (
            line.lstrip("#").strip()
            for cell in book.cells
            if cell.cell_type == "markdown"
            for line in cell.source.splitlines()
            if line.startswith("#")
        ),
        Path(notebook).stem,
    )
    parameters = book.metadata.get("papermill", {}).get("parameters", {})
    detail = " / ".join(
        str(parameters[k]) for k in ("dataset", "subset", "target") if parameters.get(k)
    )
    title = f"{heading} ({detail})" if detail else heading
    return title, parameters.get("metrics_path") or None


def build_reports(
    notebooks_dir: str | os.PathLike[str],
    reports_dir: str | os.PathLike[str],
    *,
    metrics_dir: str | os.PathLike[str] | None = None,
    mathjax_url: str = "",
) -> list[ReportPage]:
    """Render every executed notebook of ``notebooks_dir`` twice and write the dashboard.

    Args:
        notebooks_dir: Folder of executed notebooks (``reports/nb``), rendered
            in name order (the stage number prefix keeps pipeline order).
        reports_dir: Output folder; pages are ``<notebook stem>.html`` (the
            whole notebook) and ``<notebook stem>_reader.html`` (no code) in it,
            the key figures ``thumbs/<notebook stem>.<png|svg>``
            (:func:`sagatsr.dashboard.write_key_figures`), and ``index.html``.
        metrics_dir: Folder of the result files (``reports/metrics``) whose
            figures head the index (absent files show as not measured);
            ``None`` leaves the table out.
        mathjax_url: See :func:`notebook_to_html` (default: no MathJax).

    Returns:
        The pages listed in the index.

    Raises:
        FileNotFoundError: If ``notebooks_dir`` holds no notebook.
        ValueError: If a result file of ``metrics_dir`` is not valid JSON.
    """
    sources = sorted(Path(notebooks_dir).glob("*.ipynb"))
    if not sources:
        raise FileNotFoundError(f"no executed notebook in {notebooks_dir}")
    root = Path(reports_dir)
    described = [describe_executed_notebook(notebook) for notebook in sources]
    figures = write_key_figures(
        sources, root / THUMBS_DIR, titles=[title for title, _ in described]
    )
    pages = []
    for notebook, (title, metrics), figure in zip(sources, described, figures, strict=True):
        page = root / f"{notebook.stem}.html"
        reader = root / f"{notebook.stem}{READER_SUFFIX}.html"
        notebook_to_html(notebook, page, mathjax_url=mathjax_url)
        notebook_to_html(notebook, reader, reader=True, mathjax_url=mathjax_url)
        summary = summarize_metrics(metrics) if metrics else ""
        thumbnail = figure.path.relative_to(root).as_posix() if figure else ""
        alt = figure.alt if figure else ""
        pages.append(ReportPage(title, page.name, reader.name, summary, thumbnail, alt))
    headlines = None
    if metrics_dir is not None:
        headlines = headline_figures(load_metrics(metrics_dir))
    write_dashboard(pages, root / "index.html", headlines=headlines, metrics_dir=metrics_dir)
    return pages
