"""Distilled formulas kept with their run, and evaluated for new structures.

``sagatsr distill`` writes the chosen expression of every engine and input set
to the run folder (:attr:`sagatsr.train.run.Run.formulas_path`) as plain text
over the input names (``Ep`` is the network's prediction, the others are
catalog features), with their held-out errors; ``sagatsr predict`` evaluates
them next to the network.
"""

from __future__ import annotations

import os
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
    """
    import sympy  # imported on use: `sagatsr predict` of a run without formulas never needs it

    names = list(record["inputs"])
    symbols = {name: sympy.Symbol(name) for name in names}
    expression = sympy.parse_expr(record["expression"], local_dict=symbols)
    function = sympy.lambdify([symbols[name] for name in names], expression, "numpy")
    columns = [np.asarray(values[name], dtype=np.float64) for name in names]
    n = len(columns[0]) if columns else 1
    return np.broadcast_to(np.asarray(function(*columns), dtype=np.float64), (n,)).copy()


def best_formula(
    records: Sequence[Mapping[str, Any]], *, with_ep: bool = True
) -> Mapping[str, Any] | None:
    """The formula with the lowest test MAE (with ``Ep`` among its inputs, or without)."""
    candidates = [
        r for r in records if (EP in r["inputs"]) == with_ep and np.isfinite(r["test_mae"])
    ]
    return min(candidates, key=lambda r: r["test_mae"]) if candidates else None
