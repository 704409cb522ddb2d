"""Stored formulas: evaluated for new structures, and never run as code."""

import io
import json
import math
import tokenize
from pathlib import Path

import numpy as np
import pytest
import sympy

from sagatsr.features import GLOBAL_FEATURES
from sagatsr.sr.formulas import (
    EP,
    FORMULA_FUNCTIONS,
    best_formula,
    check_expression,
    evaluate_formula,
)
from sagatsr.sr.sisso.operators import BINARY, UNARY

ROOT = Path(__file__).resolve().parents[2]


def test_formulas_of_every_sisso_operator_pass_the_check_and_evaluate() -> None:
    a, b = sympy.symbols("tolerance_factor Ep")
    values = {"tolerance_factor": np.array([0.9, 1.1]), EP: np.array([2.0, 3.0])}
    expressions = [op.to_sympy(a) for op in UNARY.values()]
    expressions += [op.to_sympy(a, b) for op in BINARY.values()]
    expressions.append(1.5e-3 * sympy.exp(-a) / sympy.sqrt(b) + sympy.pi)
    for expression in expressions:
        record = {"inputs": ["tolerance_factor", EP], "expression": str(expression)}
        got = evaluate_formula(record, values)
        want = sympy.lambdify([a, b], expression, "numpy")(*values.values())
        assert np.allclose(got, np.broadcast_to(want, (2,))), str(expression)


def test_the_committed_distilled_formulas_pass_the_check() -> None:
    # distill.json records each expression without its input list: its names must be
    # catalog features, Ep or allowed functions, and the whole text must pass
    catalog = {spec.name for spec in GLOBAL_FEATURES} | {EP}
    records = json.loads((ROOT / "reports" / "metrics" / "distill.json").read_text())
    expressions = [r["expression"] for r in records["expressions"]]
    assert len(expressions) >= 10
    for text in expressions:
        tokens = tokenize.generate_tokens(io.StringIO(text).readline)
        names = {t.string for t in tokens if t.type == tokenize.NAME} - FORMULA_FUNCTIONS
        assert names <= catalog, text
        check_expression(text, sorted(names))


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('touch pwned')",
        "Ep.__class__",
        "Ep[0]",
        "(lambda: 1)()",
        "Ep; 1",
        "'text'",
        "open",
        "Ep if Ep else 1",
        "[Ep]",
    ],
)
def test_an_expression_that_is_not_arithmetic_is_refused_before_it_is_parsed(text) -> None:
    with pytest.raises(ValueError, match=r"formula .* (holds|is not an expression)"):
        evaluate_formula({"inputs": [EP], "expression": text}, {EP: [1.0]})


def test_inputs_come_from_the_caller_not_from_the_file() -> None:
    # a file naming __import__ as an input must not let the name into the expression
    record = {"inputs": ["__import__"], "expression": "__import__('os')"}
    with pytest.raises(KeyError):
        evaluate_formula(record, {EP: [1.0]})


def test_the_best_formula_is_the_lowest_finite_test_mae_of_its_kind() -> None:
    records = [
        {"inputs": [EP], "test_mae": 0.03},
        {"inputs": [EP, "x"], "test_mae": 0.02},
        {"inputs": ["x"], "test_mae": math.nan},
        {"inputs": ["x"], "test_mae": 0.05},
    ]
    assert best_formula(records)["test_mae"] == 0.02
    assert best_formula(records, with_ep=False)["test_mae"] == 0.05
    assert best_formula([]) is None
