"""The Operon engine: genetic programming through pyoperon's scikit-learn estimator.

The search is multi-objective by default (``objectives=["r2", "length"]``, NSGA-II),
so its Pareto front of accuracy versus size becomes the equation table, simplest
first. The engine's own pick is Operon's: the front member minimising
``model_selection_criterion`` (minimum description length by default).
Operon evaluates in float32; :meth:`OperonEngine.sympy` parses Operon's infix
string printed with 20 decimals, so it agrees with :meth:`OperonEngine.predict`
to float32 precision (relative ``~1e-6``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import sympy
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

from sagatsr.sr.sisso.operators import ALIASES
from sagatsr.sr.units import Dimension

OPERON_SYMBOLS: dict[str, tuple[str, ...]] = {
    "+": ("add",),
    "-": ("sub",),
    "*": ("mul",),
    "/": ("div",),
    "^-1": ("div",),
    "^2": ("square",),
    "^3": ("mul",),
    "sqrt": ("sqrt",),
    "exp": ("exp",),
    "log": ("log",),
    "|-|": ("sub", "abs"),
}
"""Operon primitives standing in for each SISSO operator name."""


_SYMPY_FUNCTIONS: dict[str, Any] = {
    "sqrt": sympy.sqrt,
    "exp": sympy.exp,
    "log": sympy.log,
    "abs": sympy.Abs,
    "square": lambda a: a**2,
    "cbrt": lambda a: sympy.sign(a) * sympy.Abs(a) ** sympy.Rational(1, 3),
    "aq": lambda a, b: a / sympy.sqrt(1 + b**2),
    "logabs": lambda a: sympy.log(sympy.Abs(a)),
    "sqrtabs": lambda a: sympy.sqrt(sympy.Abs(a)),
    "powabs": lambda a, b: sympy.Abs(a) ** b,
    "log1p": lambda a: sympy.log(1 + a),
    "fmin": sympy.Min,
    "fmax": sympy.Max,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "tanh": sympy.tanh,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "asin": sympy.asin,
    "acos": sympy.acos,
    "atan": sympy.atan,
    "floor": sympy.floor,
    "ceil": sympy.ceiling,
    "pow": lambda a, b: a**b,
}


def operon_symbols(operators: Sequence[str] | None) -> str:
    """Operon's ``allowed_symbols`` for SISSO-style operator names.

    Args:
        operators: Operator names (``None``: ``+ - * /``).

    Returns:
        Comma-separated Operon primitives, always with ``constant`` and ``variable``.

    Raises:
        ValueError: On an unknown operator name.
    """
    names = ["+", "-", "*", "/"] if operators is None else list(operators)
    symbols: list[str] = []
    for name in names:
        key = ALIASES.get(name, name)
        if key not in OPERON_SYMBOLS:
            known = list(OPERON_SYMBOLS)
            raise ValueError(f"operator {name!r} has no Operon equivalent; known: {known}")
        symbols.extend(s for s in OPERON_SYMBOLS[key] if s not in symbols)
    return ",".join([*symbols, "constant", "variable"])


class OperonEngine:
    """Symbolic regression with Operon (``pyoperon.sklearn.SymbolicRegressor``).

    Args:
        operators: SISSO-style operator names mapped to Operon primitives
            (ignored when ``options`` sets ``allowed_symbols``).
        random_state: Seed; with ``n_threads=1`` (the default here) runs are
            reproducible.
        options: Keyword arguments for pyoperon's ``SymbolicRegressor``,
            overriding the defaults of this engine.
    """

    name = "operon"

    DEFAULTS: Mapping[str, Any] = {
        "objectives": ["r2", "length"],
        "population_size": 500,
        "generations": 200,
        "max_length": 30,
        "optimizer_iterations": 10,
        "n_threads": 1,
    }

    def __init__(
        self,
        *,
        operators: Sequence[str] | None = None,
        random_state: int | None = 0,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.options: dict[str, Any] = {
            **self.DEFAULTS,
            "allowed_symbols": operon_symbols(operators),
            "random_state": random_state,
            **(options or {}),
        }

    def fit(
        self, x: np.ndarray, y: np.ndarray, names: Sequence[str], dims: Sequence[Dimension]
    ) -> OperonEngine:
        """Run the search (units are not used by Operon).

        Args:
            x: ``(n, p)`` features.
            y: ``(n,)`` target.
            names: Feature names.
            dims: Feature dimensions (ignored).

        Returns:
            ``self`` with ``regressor_`` and ``front_`` (Pareto front, simplest first).
        """
        from pyoperon.sklearn import SymbolicRegressor as OperonRegressor

        del dims
        self.regressor_ = OperonRegressor(**self.options)
        self.regressor_.fit(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        self.placeholders_ = [f"v{i}" for i in range(len(names))]
        front = sorted(
            self.regressor_.pareto_front_, key=lambda s: (s["complexity"], s["mean_squared_error"])
        )
        self.front_ = front
        criterion = self.regressor_.model_selection_criterion
        self._default = min(range(len(front)), key=lambda k: front[k][criterion])
        with warnings.catch_warnings():
            # a constant model is a legitimate member of the Pareto front (its
            # simplest end); pyoperon warns when it formats one
            warnings.filterwarnings("ignore", message="Model contains no variables")
            self.model_strings_ = [
                self.regressor_.get_model_string(s["tree"], 20, names=self.placeholders_)
                for s in front
            ]
        return self

    def table(self) -> pd.DataFrame:
        """The equation table (the Pareto front, simplest first).

        Columns ``complexity`` (Operon's adjusted length), ``length`` (nodes),
        ``mdl``, ``bic``, ``aic`` and ``model_string`` (Operon's infix, variables
        ``v0, v1, ...`` in column order).
        """
        return pd.DataFrame(
            {
                "complexity": [int(s["complexity"]) for s in self.front_],
                "length": [int(s["length"]) for s in self.front_],
                "mdl": [float(s["minimum_description_length"]) for s in self.front_],
                "bic": [float(s["bayesian_information_criterion"]) for s in self.front_],
                "aic": [float(s["akaike_information_criterion"]) for s in self.front_],
                "model_string": self.model_strings_,
            }
        )

    @property
    def default_index(self) -> int:
        """Operon's own pick (lowest ``model_selection_criterion`` on the front)."""
        return self._default

    def sympy(self, index: int, symbols: Sequence[sympy.Symbol]) -> sympy.Expr:
        """Parse Operon's infix string of equation ``index`` into ``symbols``."""
        local = dict(_SYMPY_FUNCTIONS)
        local.update(dict(zip(self.placeholders_, symbols, strict=True)))
        return parse_expr(
            self.model_strings_[index],
            local_dict=local,
            transformations=(*standard_transformations, convert_xor),
            evaluate=True,
        )

    def predict(self, x: np.ndarray, index: int) -> np.ndarray:
        """Evaluate the tree of equation ``index`` with Operon (float32, returned as float64)."""
        tree = self.front_[index]["tree"]
        return np.asarray(
            self.regressor_.evaluate_model(tree, np.asarray(x, dtype=np.float64)), dtype=np.float64
        )
