"""Distilled formulas kept with their run, and evaluated for new structures.

``sagatsr distill`` writes the chosen expression of every engine and input set
to the run folder (:attr:`sagatsr.train.run.Run.formulas_path`) as plain text
over the input names (``Ep`` is the network's prediction, the others are
catalog features), with their held-out errors; ``sagatsr predict`` evaluates
them next to the network.
"""

from __future__ import annotations

import io
import os
import tokenize
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sagatsr.io_utils import write_json
from sagatsr.provenance import run_info
from sagatsr.train.run import Run

if TYPE_CHECKING:
    from sagatsr.sr.distill import DistillResult

#: Input name of the network's prediction in distilled formulas.
EP = "Ep"

#: Names a stored expression may use besides its inputs: what the SR engines write
#: (sympy's printing of their operators) and sympy's printed constants.
FORMULA_FUNCTIONS = frozenset(
    {
        "exp", "log", "sqrt", "cbrt", "Abs", "sign", "Max", "Min",
        "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan",
        "asinh", "acosh", "atanh", "erf", "floor", "ceiling",
        "pi", "E", "oo", "zoo", "nan",
    }
)  # fmt: skip
#: Operator tokens of an arithmetic expression (no attribute access, indexing or assignment).
_FORMULA_OPERATORS = frozenset({"+", "-", "*", "/", "**", "(", ")", ","})


def formula_records(result: DistillResult) -> list[dict[str, Any]]:
    """One record per chosen expression: engine, inputs, expression text, errors."""
    records = []
    for expression, row in zip(result.expressions, result.table().to_dict("records"), strict=True):
        records.append(
            {
                "engine": expression.engine,
                "mode": expression.mode,
                "inputs": list(expression.inputs),
                "expression": str(expression.estimator.sympy()),
                "latex": expression.latex(),
                "complexity": row["complexity"],
                "test_mae": row["test_mae"],
                "test_rmse": row["test_rmse"],
                "gnn_test_mae": row["gnn_test_mae"],
            }
        )
    return records


def save_formulas(
    result: DistillResult, run_dir: str | os.PathLike[str], command: str | None = None
) -> dict[str, Any]:
    """Write the run's formulas (``formulas.json``) and return what was written."""
    content = {
        "target": result.data.target,
        "unit": result.data.unit,
        "gnn_test_mae": result.gnn_test["mae"],
        "formulas": formula_records(result),
        **run_info(command),
    }
    write_json(Run(run_dir).formulas_path, content)
    return content


def evaluate_formula(
    record: Mapping[str, Any], values: Mapping[str, Sequence[float]]
) -> np.ndarray:
    """Evaluate a stored formula.

    Args:
        record: One entry of ``formulas.json``.
        values: ``{input name: (N,) values}`` for every input (``Ep``: the
            network's predictions).

    Returns:
        ``(N,)`` values in the target's unit (``nan`` where an input is missing).

    Raises:
        KeyError: If an input is not given.
        ValueError: If the expression is not plain arithmetic over its inputs
            (:func:`check_expression`).
    """
    import sympy  # imported on use: `sagatsr predict` of a run without formulas never needs it

    names = list(record["inputs"])
    # The inputs must be among the caller's names before the text is parsed: an input
    # list from the file alone could admit any name into the expression.
    columns = [np.asarray(values[name], dtype=np.float64) for name in names]
    check_expression(record["expression"], names)
    symbols = {name: sympy.Symbol(name) for name in names}
    expression = sympy.parse_expr(record["expression"], local_dict=symbols)
    function = sympy.lambdify([symbols[name] for name in names], expression, "numpy")
    n = len(columns[0]) if columns else 1
    return np.broadcast_to(np.asarray(function(*columns), dtype=np.float64), (n,)).copy()


def check_expression(text: str, inputs: Sequence[str]) -> None:
    """Refuse an expression that is not plain arithmetic over ``inputs``.

    sympy's parser evaluates the text as Python, so a ``formulas.json`` in a run
    folder from elsewhere could run code when ``sagatsr predict`` evaluates it.
    Only numbers, the inputs, :data:`FORMULA_FUNCTIONS` and arithmetic operators
    pass: no attribute access, strings, indexing or other names.

    Raises:
        ValueError: Naming the first token that is not allowed.
    """
    allowed = FORMULA_FUNCTIONS | set(inputs)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as error:
        raise ValueError(f"formula {text!r} is not an expression ({error})") from None
    for token in tokens:
        kind, value = token.type, token.string
        if kind in (tokenize.NUMBER, tokenize.NEWLINE, tokenize.ENDMARKER):
            continue
        if kind == tokenize.NAME and value in allowed:
            continue
        if kind == tokenize.OP and value in _FORMULA_OPERATORS:
            continue
        raise ValueError(
            f"formula {text!r} holds {value!r}, which is not one of its inputs "
            f"({', '.join(inputs)}), a known function or an arithmetic operator"
        )


def best_formula(
    records: Sequence[Mapping[str, Any]], *, with_ep: bool = True
) -> Mapping[str, Any] | None:
    """The formula with the lowest test MAE (with ``Ep`` among its inputs, or without)."""
    candidates = [
        r for r in records if (EP in r["inputs"]) == with_ep and np.isfinite(r["test_mae"])
    ]
    return min(candidates, key=lambda r: r["test_mae"]) if candidates else None
