"""Formulas for a reader: rounded constants, whole wrapped expressions, offline rendering."""

import base64

import pandas as pd
import pytest
import sympy

from sagatsr.sr.display import (
    FORMULA_DIGITS,
    format_saved_formulas,
    formula_latex,
    formula_table,
    formula_text,
    round_formula,
    show_formula,
)

SISSO = "0.884211886633782*Ep + 0.0181618449681339"
OPERON = "1.02354299264803216829*Ep - 0.00123456789*ratio_AB_atomic_radius"


def test_constants_are_rounded_to_significant_digits() -> None:
    assert FORMULA_DIGITS == 4
    assert formula_text(SISSO) == "0.8842*Ep + 0.01816"
    assert formula_text(OPERON) == "1.024*Ep - 0.001235*ratio_AB_atomic_radius"
    assert formula_text(SISSO, 3) == "0.884*Ep + 0.0182"
    # integers and rationals (exponents, square roots) are not turned into decimals
    assert formula_text("2.123456*x**2 + sqrt(y)") == "2.123*x**2 + sqrt(y)"
    with pytest.raises(ValueError, match="digits"):
        formula_text(SISSO, 0)


def test_rounding_changes_only_the_display_copy() -> None:
    expression = sympy.sympify(SISSO)
    rounded = round_formula(expression)
    assert str(expression) == "0.884211886633782*Ep + 0.0181618449681339"
    assert abs(float(rounded.subs("Ep", 1)) - float(expression.subs("Ep", 1))) < 1e-4


def test_feature_names_that_are_sympy_names_stay_symbols() -> None:
    # E, S and gamma are sympy objects; as feature names they are plain symbols
    rounded = round_formula("0.123456*E + exp(S) - gamma")
    assert {s.name for s in rounded.free_symbols} == {"E", "S", "gamma"}
    assert str(rounded) == "0.1235*E - gamma + exp(S)"
    with pytest.raises(ValueError, match="not a formula"):
        round_formula("Ep +* 2")


def test_latex_keeps_feature_names_readable() -> None:
    latex = formula_latex("0.5*ratio_AB_atomic_radius")
    assert r"\mathrm{ratio\_AB\_atomic\_radius}" in latex and "0.5" in latex


def test_show_formula_gives_the_plain_text_and_a_rendered_figure() -> None:
    shown = show_formula(SISSO)
    assert shown.text == str(shown) == "0.8842*Ep + 0.01816"
    assert shown.svg is not None and "<svg" in shown.svg and "<path" in shown.svg
    page = shown._repr_html_()
    assert "0.8842*Ep + 0.01816" in page
    encoded = page.split("data:image/svg+xml;base64,")[1].split('"')[0]
    assert base64.b64decode(encoded).decode() == shown.svg


def test_what_mathtext_cannot_typeset_is_shown_as_text() -> None:
    shown = show_formula("Piecewise((0.5*x, y > 0), (0, True))")  # \\begin{cases}
    assert shown.svg is None and shown.image_html() == ""
    assert "<img" not in shown._repr_html_() and "Piecewise" in shown._repr_html_()


def test_tables_show_whole_rounded_expressions_wrapped() -> None:
    long = " + ".join(f"0.123456789*feature_number_{i}" for i in range(12))
    frame = pd.DataFrame(
        {
            "engine": ["sisso<1>", "operon"],
            "expression": [SISSO, long],
            "test_mae": [0.0123456, 1.0],
        }
    )
    page = formula_table(frame, rendered=True).to_html()
    assert "0.8842*Ep + 0.01816" in page
    assert formula_text(long) in page and "..." not in page  # not cut
    assert "pre-wrap" in page and "sisso&lt;1&gt;" in page and "0.01235" in page
    assert page.count("data:image/svg+xml;base64,") == 2
    assert frame.loc[0, "expression"] == SISSO  # the caller's table keeps full precision


def test_distill_printout_rounds_and_leaves_out_a_pure_number_unit() -> None:
    saved = {
        "target": "tolerance",
        "unit": "1",
        "gnn_test_mae": 0.0123456,
        "formulas": [
            {"engine": "sisso", "mode": "Ep + top features", "test_mae": 0.02, "expression": SISSO}
        ],
    }
    text = format_saved_formulas(saved, run="runA")
    assert text.splitlines() == [
        "runA: tolerance, network test MAE 0.01235",
        "  [sisso, Ep + top features] test MAE 0.02:  tolerance = 0.8842*Ep + 0.01816",
    ]
    saved["unit"] = "eV"
    assert "test MAE 0.02 eV:" in format_saved_formulas(saved, run="runA", digits=2)
    assert "0.88*Ep + 0.018" in format_saved_formulas(saved, run="runA", digits=2)
