"""The results dashboard ``reports/index.html``: headline figures and one card per notebook.

The page has two parts. A table of every figure the README quotes
(:func:`sagatsr.headlines.headline_figures`), each with its unit, the published
figures and goals to compare it with, and the date, commit and hardware of the
measurement, a link to its result file beside them. Then a card per executed
notebook: its key figure as a thumbnail (an image file under ``thumbs/`` next
to the index, see :func:`write_key_figures`) linking to the notebook's reader
page, or a text card when the notebook shows no image. The page loads nothing
but these files, so it reads offline.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import quote

from sagatsr.headlines import NOT_MEASURED, UNREADABLE, Headline
from sagatsr.io_utils import atomic_open

#: Folder of the thumbnails, next to the index page.
THUMBS_DIR = "thumbs"

#: Tag of the cell whose image is the notebook's key figure (else the first or last image).
KEY_FIGURE_TAG = "key-figure"

#: Image outputs taken as key figures, in order of preference, with their file suffix.
_IMAGE_TYPES = {"image/png": ".png", "image/svg+xml": ".svg", "image/jpeg": ".jpg"}


@dataclass(frozen=True)
class ReportPage:
    """One rendered notebook, as the index shows it.

    Attributes:
        title: Heading shown in the index.
        html_path: The full page (code and outputs), relative to the reports folder.
        reader_path: The reader's page (no code cells), relative to the reports folder.
        summary: One line with the stage's key figure.
        figure: The key figure's thumbnail, relative to the reports folder (``""``: none).
        figure_alt: Its alternative text.
    """

    title: str
    html_path: str
    reader_path: str
    summary: str
    figure: str = ""
    figure_alt: str = ""


@dataclass(frozen=True)
class KeyFigure:
    """The image a notebook is shown with in the index.

    Attributes:
        path: The written image file.
        alt: Alternative text: the section heading above the image and the notebook.
    """

    path: Path
    alt: str


def _image(output: Any) -> tuple[str, str] | None:
    """``(mime type, data)`` of an output's image, preferring PNG, then SVG."""
    data = output.get("data", {})
    for mime in _IMAGE_TYPES:
        if mime in data:
            value = data[mime]
            return mime, "".join(value) if isinstance(value, list) else value
    return None


def key_figure_of(
    notebook: str | os.PathLike[str], *, choose: Literal["first", "last"] = "first"
) -> tuple[str, str, str] | None:
    """The key figure of an executed notebook.

    Args:
        notebook: An executed ``.ipynb``.
        choose: Which image output when no cell is tagged :data:`KEY_FIGURE_TAG`.

    Returns:
        ``(mime type, data, section heading above it)`` (PNG and JPEG data base64,
        SVG as text), or ``None`` when the notebook shows no image.
    """
    import nbformat

    book = nbformat.read(Path(notebook), as_version=4)
    found: list[tuple[bool, str, str, str]] = []
    heading = ""
    for cell in book.cells:
        if cell.cell_type == "markdown":
            lines = cell.source.splitlines()
            titles = [line.lstrip("#").strip() for line in lines if line.startswith("#")]
            heading = titles[-1] if titles else heading
            continue
        tagged = KEY_FIGURE_TAG in cell.get("metadata", {}).get("tags", [])
        for output in cell.get("outputs", []):
            image = _image(output)
            if image:
                found.append((tagged, *image, heading))
    if not found:
        return None
    tagged = [entry for entry in found if entry[0]]
    pool = tagged or found
    _, mime, data, section = pool[0] if choose == "first" else pool[-1]
    return mime, data, section


def write_key_figures(
    notebooks: Sequence[str | os.PathLike[str]],
    folder: str | os.PathLike[str],
    *,
    titles: Sequence[str] | None = None,
    choose: Literal["first", "last"] = "first",
) -> list[KeyFigure | None]:
    """Write each notebook's key figure to ``folder/<notebook stem>.<png|svg|jpg>``.

    Image files of ``folder`` that belong to no notebook given (a notebook since
    removed, or one whose figure changed format) are deleted, so the folder holds
    exactly the current thumbnails.

    Args:
        notebooks: Executed notebooks.
        folder: Destination (``reports/thumbs``), created when missing.
        titles: Notebook titles for the alternative text (default: the stems).
        choose: See :func:`key_figure_of`.

    Returns:
        Per notebook its :class:`KeyFigure`, or ``None`` when it shows no image.
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    names = titles or [Path(n).stem for n in notebooks]
    written: list[KeyFigure | None] = []
    for notebook, title in zip(notebooks, names, strict=True):
        found = key_figure_of(notebook, choose=choose)
        if found is None:
            written.append(None)
            continue
        mime, data, section = found
        path = root / f"{Path(notebook).stem}{_IMAGE_TYPES[mime]}"
        if mime == "image/svg+xml":
            with atomic_open(path, "w") as handle:
                handle.write(data)
        else:
            with atomic_open(path, "wb") as handle:
                handle.write(base64.b64decode(data))
        shown = section and section not in title  # not the notebook's own title again
        alt = f"{section}: key figure of {title}" if shown else f"Key figure of {title}"
        written.append(KeyFigure(path, alt))
    keep = {figure.path.name for figure in written if figure}
    for stale in root.iterdir():
        if stale.suffix in _IMAGE_TYPES.values() and stale.name not in keep:
            stale.unlink()
    return written


def _href(target: str | os.PathLike[str], base: Path) -> str | None:
    """``target`` relative to the folder ``base``, URL-quoted; ``None`` across drives."""
    try:
        relative = os.path.relpath(Path(target).resolve(), base.resolve())
    except ValueError:
        return None
    return quote(PurePosixPath(*Path(relative).parts).as_posix())


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _measured_cell(row: Headline, metrics_dir: Path | None, base: Path, rowspan: int) -> str:
    span = f' rowspan="{rowspan}"' if rowspan > 1 else ""
    href = _href(metrics_dir / row.file, base) if metrics_dir and row.source else None
    file = f'<a href="{href}">{_e(row.file)}</a>' if href else f"<code>{_e(row.file)}</code>"
    if row.source is None:
        return f'<td class="source"{span}>{file}: absent</td>'
    source = row.source
    commit = f"{source.commit} (uncommitted changes)" if source.dirty else source.commit
    return (
        f'<td class="source"{span}>{file}<br>{_e(source.date)} &middot; commit '
        f"<code>{_e(commit)}</code> &middot; {_e(source.hardware)}</td>"
    )


def _row(row: Headline) -> str:
    """A table row without its closing tag and provenance cell."""
    state = {NOT_MEASURED: " missing", UNREADABLE: " unreadable"}.get(row.value, "")
    anchors = "".join(f"<li>{_e(anchor)}</li>" for anchor in row.anchors)
    detail = f'<div class="detail">{_e(row.detail)}</div>' if row.detail else ""
    return (
        f'<tr><td class="figure">{_e(row.figure)}{detail}</td>'
        f'<td class="value{state}">{_e(row.value)}</td><td class="unit">{_e(row.unit)}</td>'
        f'<td class="anchors">{f"<ul>{anchors}</ul>" if anchors else ""}</td>'
    )


def headline_table(rows: Sequence[Headline], *, metrics_dir: Path | None, base: Path) -> str:
    """The HTML table of the headline figures, a heading row per suite.

    Rows of one suite read from the same file share one provenance cell.

    Args:
        rows: From :func:`sagatsr.headlines.headline_figures`.
        metrics_dir: Folder of the result files, linked from the provenance cells.
        base: Folder of the page the table is written into.
    """
    lines = [
        '<table class="headlines">',
        "<thead><tr><th>Figure</th><th>Value</th><th>Unit</th>"
        "<th>Published figures and goals</th><th>Measured</th></tr></thead>",
    ]
    suites: dict[str, list[Headline]] = {}
    for row in rows:
        suites.setdefault(row.suite, []).append(row)
    for number, (suite, members) in enumerate(suites.items()):
        lines.append(
            f'<tbody><tr class="suite"><th colspan="5" scope="colgroup" id="suite-{number}">'
            f"{_e(suite)}</th></tr>"
        )
        for _, run in groupby(members, key=lambda row: (row.file, row.source)):
            shared = list(run)
            for index, row in enumerate(shared):
                source = _measured_cell(row, metrics_dir, base, len(shared)) if index == 0 else ""
                lines.append(_row(row) + source + "</tr>")
        lines.append("</tbody>")
    lines.append("</table>")
    return "\n".join(lines)


def notebook_cards(pages: Sequence[ReportPage]) -> str:
    """One card per notebook: its key figure (or a text card), title, summary and links."""
    cards = []
    for page in pages:
        reader, full = quote(page.reader_path), quote(page.html_path)
        if page.figure:
            picture = (
                f'<a class="thumb" href="{reader}"><img src="{quote(page.figure)}" '
                f'alt="{_e(page.figure_alt)}"></a>'
            )
        else:
            picture = f'<a class="thumb text" href="{reader}">no figure in this notebook</a>'
        summary = f"<p>{_e(page.summary)}</p>" if page.summary else ""
        cards.append(
            f'<article class="card">{picture}<h3><a href="{reader}">{_e(page.title)}</a></h3>'
            f'{summary}<p class="links"><a href="{full}">notebook with code</a></p></article>'
        )
    return '<div class="cards">\n' + "\n".join(cards) + "\n</div>"


_STYLE = """
body{font-family:sans-serif;max-width:75rem;margin:2rem auto;padding:0 1rem;line-height:1.45}
table.headlines{border-collapse:collapse;width:100%;font-size:.92rem}
.headlines th,.headlines td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;
vertical-align:top}
.headlines tr.suite th{background:#f0f3f7;font-size:1rem;padding-top:.6rem}
.headlines td.value{font-weight:bold;white-space:nowrap;font-variant-numeric:tabular-nums}
.headlines td.missing,.headlines td.unreadable{font-weight:normal;font-style:italic;color:#a33}
.headlines .detail,.headlines td.source{color:#555;font-size:.85rem}
.headlines td.anchors ul{margin:0;padding-left:1rem;font-size:.85rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:1rem}
.card{border:1px solid #ddd;border-radius:6px;padding:.6rem}
.card h3{font-size:1rem;margin:.5rem 0 .2rem}.card p{margin:.2rem 0;font-size:.9rem}
.thumb{display:flex;align-items:center;justify-content:center;height:11rem;background:#fafafa}
.thumb img{max-width:100%;max-height:11rem}
.thumb.text{color:#777;font-style:italic;text-decoration:none}
"""


def write_dashboard(
    pages: Sequence[ReportPage],
    out_html: str | os.PathLike[str],
    *,
    headlines: Sequence[Headline] | None = None,
    metrics_dir: str | os.PathLike[str] | None = None,
    title: str = "SA-GAT-SR reports",
) -> Path:
    """Write the dashboard: the headline figures, then a card per notebook.

    Args:
        pages: The notebook pages, in pipeline order.
        out_html: Destination (``reports/index.html``); thumbnails and pages are
            linked relative to its folder.
        headlines: Rows of the table; ``None`` leaves the table out.
        metrics_dir: Folder of the result files (linked from the table).
        title: Page heading.

    Returns:
        The written path.
    """
    out = Path(out_html)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    metrics = Path(metrics_dir) if metrics_dir is not None else None
    if headlines is None:
        figures = "<p>No result folder was given (<code>sagatsr report --metrics</code>).</p>"
    else:
        measured = sum(row.measured for row in headlines)
        figures = (
            f"<p>{measured} figures read from the result files"
            + (f" in <code>{_e(str(metrics))}</code>" if metrics else "")
            + " (the figures the README quotes), each with the published figures and goals "
            "it compares with and where it was measured. A benchmark not run yet shows "
            f"<em>{NOT_MEASURED}</em>.</p>\n"
            + headline_table(headlines, metrics_dir=metrics, base=out.parent)
        )
    page = f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{_e(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>{_e(title)}</h1>
<p>Results of the pipeline (<code>dvc repro</code>), generated {stamp}:
<a href="#figures">headline figures</a> and the <a href="#notebooks">executed notebooks</a>.</p>
<h2 id="figures">Headline figures</h2>
{figures}
<h2 id="notebooks">Notebooks</h2>
<p>Each card shows the notebook's key figure; the figure and the title open the reader's page
(text and results), the last link the whole notebook with its code.</p>
{notebook_cards(pages)}
</body>
</html>
"""
    with atomic_open(out, "w") as handle:
        handle.write(page)
    return out
