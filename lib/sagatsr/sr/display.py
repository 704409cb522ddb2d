"""Formulas shown to a reader: rounded constants, whole expressions, rendered offline.

Result files keep full precision (``formulas.json``, the equation tables and
metrics written to disk, predictions); this module only makes display copies.
Constants are rounded to :data:`FORMULA_DIGITS` significant digits (sympy
``Float`` atoms, so ``0.884211886633782*Ep + 0.0181618449681339`` reads
``0.8842*Ep + 0.01816``). A rendered formula is an SVG drawn by matplotlib's
mathtext, embedded as a data URI next to the plain text, so report pages need
no MathJax and no network. Tables wrap long expressions instead of cutting them.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from sagatsr.sr.units import format_quantity, unit_label

if TYPE_CHECKING:
    import sympy
    from pandas.io.formats.style import Styler

    from sagatsr.sr.distill import DistillResult

FORMULA_DIGITS = 4
"""Significant digits of the constants of a displayed formula (the one default)."""

LINE_WIDTH = 40
"""About how many characters of a formula go on one line of its rendering."""

#: CSS of a table cell holding a formula: the whole expression, wrapped.
WRAP_CSS = {
    "white-space": "pre-wrap",
    "word-break": "break-word",
    "text-align": "left",
    "min-width": "20em",
}

# An identifier that is not called: a variable (feature name), never a sympy function.
_VARIABLE = re.compile(r"\b([A-Za-z_]\w*)\b(?!\s*\()")


def parse_formula(expression: str | sympy.Expr) -> sympy.Expr:
    """A formula as sympy; text is parsed with every variable a plain symbol.

    Feature names that are also sympy names (``E``, ``S``, ``gamma``...) stay
    symbols; called names (``exp(...)``, ``Abs(...)``) stay functions.

    Args:
        expression: ``str(sympy expression)`` text (``formulas.json``,
            ``equations_["expression"]``) or a sympy expression.

    Raises:
        ValueError: If the text is not a sympy expression.
    """
    import sympy  # imported on use: `sagatsr predict` of a run without formulas never needs it

    if isinstance(expression, sympy.Basic):
        return expression
    text = str(expression)
    symbols = {name: sympy.Symbol(name) for name in _VARIABLE.findall(text)}
    try:
        return sympy.parse_expr(text, local_dict=symbols)
    except (SyntaxError, TypeError, ValueError, sympy.SympifyError) as error:
        raise ValueError(f"not a formula: {text!r} ({error})") from None


def round_formula(expression: str | sympy.Expr, digits: int = FORMULA_DIGITS) -> sympy.Expr:
    """The formula with every floating-point constant rounded to ``digits`` significant digits.

    Integers and rationals (exponents, ``sqrt``) are kept as they are.

    Raises:
        ValueError: If ``digits < 1`` or the text is not a formula.
    """
    if digits < 1:
        raise ValueError(f"digits must be >= 1, got {digits}")
    import sympy

    parsed = parse_formula(expression)
    return parsed.xreplace({f: sympy.Float(f, digits) for f in parsed.atoms(sympy.Float)})


def formula_text(expression: str | sympy.Expr, digits: int = FORMULA_DIGITS) -> str:
    """Plain text of the rounded formula, e.g. ``"0.8842*Ep + 0.01816"``."""
    return str(round_formula(expression, digits))


def _latex(expression: sympy.Expr) -> str:
    import sympy

    names = {s: r"\mathrm{" + s.name.replace("_", r"\_") + "}" for s in expression.free_symbols}
    return sympy.latex(expression, symbol_names=names, mul_symbol=r"\,")


def formula_latex(expression: str | sympy.Expr, digits: int = FORMULA_DIGITS) -> str:
    """LaTeX of the rounded formula; feature names upright, underscores kept as written."""
    return _latex(round_formula(expression, digits))


def formula_latex_lines(
    expression: str | sympy.Expr, digits: int = FORMULA_DIGITS, *, width: int = LINE_WIDTH
) -> list[str]:
    """LaTeX of the rounded formula broken into lines between the terms of its sum.

    Args:
        expression: The formula.
        digits: Significant digits of its constants.
        width: About how many characters of plain text go on one line (a
            longer term gets a line of its own).

    Returns:
        One LaTeX string per line; lines after the first start with ``+`` or ``-``.
    """
    import sympy

    rounded = round_formula(expression, digits)
    terms = rounded.as_ordered_terms() if isinstance(rounded, sympy.Add) else [rounded]
    lines: list[str] = []
    current, length = "", 0
    for term in terms:
        latex, size = _latex(term), len(str(term))
        if current:
            latex = f"- {latex[1:].lstrip()}" if latex.startswith("-") else f"+ {latex}"
            if length + size > width:
                lines.append(current)
                current, length = latex, size
                continue
            latex = " " + latex
        current, length = current + latex, length + size
    return [*lines, current]


def render_latex_svg(latex: str | Sequence[str], *, fontsize: float = 13.0) -> str | None:
    """SVG text of ``latex`` drawn by matplotlib's mathtext (no TeX installation, no network).

    Args:
        latex: Math-mode LaTeX without the ``$`` delimiters, or one such string per line.
        fontsize: Font size in points.

    Returns:
        The SVG document, or ``None`` when mathtext cannot typeset the input.
    """
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import MathTextParser

    lines = [latex] if isinstance(latex, str) else list(latex)
    prop = FontProperties(size=fontsize)
    parser = MathTextParser("path")
    try:
        for line in lines:
            parser.parse(f"${line}$", dpi=72, prop=prop)
    except ValueError:
        return None
    figure = Figure(figsize=(1, 1))
    source = "\n".join(f"${line}$" for line in lines)
    figure.text(0, 0, source, fontproperties=prop, linespacing=1.6)
    buffer = io.StringIO()
    with rc_context({"svg.hashsalt": "sagatsr"}):
        figure.savefig(
            buffer,
            format="svg",
            transparent=True,
            bbox_inches="tight",
            pad_inches=0.03,
            metadata={"Date": None},
        )
    return buffer.getvalue()


@dataclass(frozen=True, repr=False)
class FormulaDisplay:
    """One formula for a reader: rounded plain text, its LaTeX and a rendered SVG.

    In a notebook it shows as the rendered formula above its plain text, so a
    page exported without MathJax (or read offline) still shows both.

    Attributes:
        text: Plain text of the rounded formula.
        latex: Its LaTeX.
        svg: Its rendering (an SVG document), or ``None`` when mathtext could not
            typeset it (the text is then shown alone).
    """

    text: str
    latex: str
    svg: str | None

    def image_html(self) -> str:
        """An ``<img>`` of the rendering (data URI), or ``""`` without one."""
        if self.svg is None:
            return ""
        data = base64.b64encode(self.svg.encode()).decode("ascii")
        return (
            f'<img class="sagatsr-formula" style="max-width: none" alt="{html.escape(self.text)}" '
            f'src="data:image/svg+xml;base64,{data}">'
        )

    def _repr_html_(self) -> str:
        text = f'<pre style="white-space: pre-wrap">{html.escape(self.text)}</pre>'
        return f"<div>{self.image_html()}{text}</div>"

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:  # a notebook's text/plain output: not the whole SVG
        return f"FormulaDisplay({self.text!r})"


def show_formula(
    expression: str | sympy.Expr, digits: int = FORMULA_DIGITS, *, fontsize: float = 13.0
) -> FormulaDisplay:
    """The formula rounded to ``digits`` significant digits, as text and as a rendered SVG.

    A long sum is rendered on several lines (:data:`LINE_WIDTH`).
    """
    lines = formula_latex_lines(expression, digits)
    return FormulaDisplay(
        formula_text(expression, digits),
        formula_latex(expression, digits),
        render_latex_svg(lines, fontsize=fontsize),
    )


def formula_table(
    frame: pd.DataFrame,
    *,
    digits: int = FORMULA_DIGITS,
    columns: Sequence[str] = ("expression",),
    rendered: bool = False,
) -> Styler:
    """A table for reading: formulas rounded and wrapped whole, numbers to 4 significant digits.

    ``frame`` itself is left as it is (keep it for result files).

    Args:
        frame: A table with formula text columns (``DistillResult.table()``,
            ``equations_``, :func:`sagatsr.sr.distill.pareto_frame`).
        digits: Significant digits of the formulas' constants.
        columns: The formula columns (those absent are skipped).
        rendered: Add a ``rendered`` column with each formula drawn (first
            formula column), readable without MathJax.

    Returns:
        A pandas Styler (shown as HTML in notebooks and report pages).
    """
    shown = frame.copy()
    formulas = [c for c in columns if c in shown.columns]
    for column in formulas:
        shown[column] = [formula_text(value, digits) for value in frame[column]]
    images: list[str] = []
    if rendered and formulas:
        images = [show_formula(value, digits).image_html() for value in frame[formulas[0]]]
        shown.insert(shown.columns.get_loc(formulas[0]) + 1, "rendered", images)
    numbers = [c for c in shown.columns if pd.api.types.is_float_dtype(shown[c])]
    styler = shown.style.hide(axis="index")
    styler = styler.format("{:.4g}", subset=numbers, na_rep="nan")
    text_columns = [c for c in shown.columns if c != "rendered" and c not in numbers]
    styler = styler.format(escape="html", subset=text_columns)
    if images:
        styler = styler.set_properties(subset=["rendered"], **{"text-align": "left"})
    return styler.set_properties(subset=formulas, **WRAP_CSS)


def expressions_table(results: Sequence[DistillResult], *, digits: int = FORMULA_DIGITS) -> Styler:
    """The paper's Table 3: each chosen expression, rounded and rendered, with test MAEs.

    Args:
        results: Distilled runs (:func:`sagatsr.sr.distill.distill_run`).
        digits: Significant digits of the constants.
    """
    rows = []
    for result in results:
        m = result.metadata
        for e in result.expressions:
            rows.append(
                {
                    "dataset / subset": f"{m['dataset']} / {m['subset']}",
                    "property": unit_label(result.data.target, result.data.unit),
                    "engine": e.engine,
                    "inputs": e.mode,
                    "test MAE": e.test.get("mae", float("nan")),
                    "GNN test MAE": result.gnn_test["mae"],
                    "expression": str(e.estimator.sympy()),
                }
            )
    return formula_table(pd.DataFrame(rows), digits=digits, rendered=True)


def format_saved_formulas(
    saved: Mapping[str, Any], *, run: str, digits: int = FORMULA_DIGITS
) -> str:
    """The ``sagatsr distill`` printout of a run's formulas (``formulas.json`` content).

    Args:
        saved: What :func:`sagatsr.sr.formulas.save_formulas` wrote.
        run: The run's name.
        digits: Significant digits of the shown constants (the file keeps them all).

    Returns:
        One line for the network's test MAE, one per formula.
    """
    unit = saved["unit"]
    network = format_quantity(saved["gnn_test_mae"], unit)
    lines = [f"{run}: {saved['target']}, network test MAE {network}"]
    for formula in saved["formulas"]:
        lines.append(
            f"  [{formula['engine']}, {formula['mode']}] test MAE "
            f"{format_quantity(formula['test_mae'], unit)}:"
            f"  {saved['target']} = {formula_text(formula['expression'], digits)}"
        )
    return "\n".join(lines)
