"""HTML reports: executed notebooks -> ``reports/*.html`` and an index page.

Every notebook gets two pages, rendered with nbconvert: ``<stem>.html``, the whole
executed notebook, and ``<stem>_reader.html``, the reader's page: text and results
only (no code cells, no parameters cells). Figures are embedded as data URIs and
no script is loaded from the internet (no require.js, and MathJax only from a URL
given, e.g. a local copy), so each page stands alone and reads offline; formulas
come as rendered images beside their plain text (:mod:`sagatsr.sr.display`).
The index links every page with a one-line summary of the stage's key metric
read from ``reports/metrics/*.json``.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sagatsr.io_utils import atomic_open

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


@dataclass(frozen=True)
class ReportPage:
    """One rendered notebook.

    Attributes:
        title: Heading shown in the index.
        html_path: The full page (code and outputs), relative to the reports folder.
        reader_path: The reader's page (no code cells), relative to the reports folder.
        summary: One line with the stage's key figure.
    """

    title: str
    html_path: str
    reader_path: str
    summary: str


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


def write_index(
    pages: Sequence[ReportPage],
    out_html: str | os.PathLike[str],
    *,
    title: str = "SA-GAT-SR reports",
) -> Path:
    """Write the index page linking every report.

    Args:
        pages: The pages, in pipeline order.
        out_html: Destination (``reports/index.html``).
        title: Page heading.

    Returns:
        The written path.
    """
    items = "\n".join(
        f'    <li><a href="{html.escape(p.reader_path)}">{html.escape(p.title)}</a>'
        f" &mdash; {html.escape(p.summary)}"
        f' (<a href="{html.escape(p.html_path)}">notebook with code</a>)</li>'
        for p in pages
    )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;line-height:1.5}}</style>
</head>
<body>
  <h1>{html.escape(title)}</h1>
  <p>Executed notebooks of the pipeline (<code>dvc repro</code>), generated {stamp}.
  Each title opens the reader's page (text and results); the second link, the whole
  notebook with its code.</p>
  <ul>
{items}
  </ul>
</body>
</html>
"""
    with atomic_open(out_html, "w") as handle:
        handle.write(page)
    return Path(out_html)


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
    mathjax_url: str = "",
) -> list[ReportPage]:
    """Render every executed notebook of ``notebooks_dir`` twice and write ``index.html``.

    Args:
        notebooks_dir: Folder of executed notebooks (``reports/nb``), rendered
            in name order (the stage number prefix keeps pipeline order).
        reports_dir: Output folder; pages are ``<notebook stem>.html`` (the
            whole notebook) and ``<notebook stem>_reader.html`` (no code) in it.
        mathjax_url: See :func:`notebook_to_html` (default: no MathJax).

    Returns:
        The pages listed in the index.

    Raises:
        FileNotFoundError: If ``notebooks_dir`` holds no notebook.
    """
    sources = sorted(Path(notebooks_dir).glob("*.ipynb"))
    if not sources:
        raise FileNotFoundError(f"no executed notebook in {notebooks_dir}")
    root = Path(reports_dir)
    pages = []
    for notebook in sources:
        title, metrics = describe_executed_notebook(notebook)
        page = root / f"{notebook.stem}.html"
        reader = root / f"{notebook.stem}{READER_SUFFIX}.html"
        notebook_to_html(notebook, page, mathjax_url=mathjax_url)
        notebook_to_html(notebook, reader, reader=True, mathjax_url=mathjax_url)
        summary = summarize_metrics(metrics) if metrics else ""
        pages.append(ReportPage(title, page.name, reader.name, summary))
    write_index(pages, root / "index.html")
    return pages
