"""The PySR engine: regularised evolution in Julia (SymbolicRegression.jl) through PySR.

PySR runs on a Julia runtime that ``juliacall`` finds or, by default, downloads
and installs on first import, which can take many minutes or hang without
network. This engine therefore imports PySR only inside :meth:`PySREngine.fit`
and, unless ``allow_julia_install=True``, first checks that a Julia executable
is already there (``PYTHON_JULIAPKG_EXE``, ``julia`` or ``juliaup`` on the
``PATH``, or a juliapkg-managed install); otherwise it raises
:class:`~sagatsr.sr.errors.EngineUnavailableError` at once.

The equation table is PySR's ``equations_`` (its hall of fame, one equation per
complexity); the engine's own pick is PySR's ``model_selection`` (``"best"``).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sympy

from sagatsr.sr.errors import EngineUnavailableError
from sagatsr.sr.sisso.operators import ALIASES
from sagatsr.sr.units import Dimension

OTHER_ENGINES = ("sisso", "operon")

PYSR_OPERATORS: dict[str, tuple[str, str]] = {
    "+": ("binary", "+"),
    "-": ("binary", "-"),
    "*": ("binary", "*"),
    "/": ("binary", "/"),
    "^-1": ("unary", "inv"),
    "^2": ("unary", "square"),
    "^3": ("unary", "cube"),
    "sqrt": ("unary", "sqrt"),
    "exp": ("unary", "exp"),
    "log": ("unary", "log"),
    "|-|": ("unary", "abs"),
}
"""PySR operator standing in for each SISSO operator name (``|-|`` adds ``abs``; ``-`` is
needed for the difference)."""


def pysr_operators(operators: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """PySR ``(binary_operators, unary_operators)`` for SISSO-style names.

    Args:
        operators: Operator names (``None``: ``+ - * /``).

    Returns:
        The two operator lists.

    Raises:
        ValueError: On an unknown operator name.
    """
    names = ["+", "-", "*", "/"] if operators is None else list(operators)
    binary: list[str] = []
    unary: list[str] = []
    for name in names:
        key = ALIASES.get(name, name)
        if key not in PYSR_OPERATORS:
            known = list(PYSR_OPERATORS)
            raise ValueError(f"operator {name!r} has no PySR equivalent; known: {known}")
        kind, op = PYSR_OPERATORS[key]
        target = binary if kind == "binary" else unary
        if op not in target:
            target.append(op)
        if key == "|-|" and "-" not in binary:
            binary.append("-")
    return binary, unary


def find_julia() -> str | None:
    """A Julia executable that juliacall would use without installing one, or ``None``."""
    configured = os.environ.get("PYTHON_JULIAPKG_EXE")
    if configured and Path(configured).exists():
        return configured
    for exe in ("julia", "juliaup"):
        found = shutil.which(exe)
        if found:
            return found
    projects = [Path(sys.prefix) / "julia_env", Path.home() / ".julia/environments/pyjuliapkg"]
    if os.environ.get("PYTHON_JULIAPKG_PROJECT"):
        projects.insert(0, Path(os.environ["PYTHON_JULIAPKG_PROJECT"]))
    for project in projects:
        exe = project / "pyjuliapkg" / "install" / "bin" / "julia"
        if exe.exists():
            return str(exe)
    return None


def _unavailable(reason: str) -> EngineUnavailableError:
    others = " or ".join(f'engine="{name}"' for name in OTHER_ENGINES)
    return EngineUnavailableError(
        f"PySR could not be started because its Julia runtime is unavailable: {reason}. "
        f"Use {others} instead, or install Julia (https://julialang.org/downloads) and "
        "make it findable (on PATH or via PYTHON_JULIAPKG_EXE)."
    )


class PySREngine:
    """Symbolic regression with PySR.

    Args:
        operators: SISSO-style operator names mapped to PySR operators.
        random_state: Seed; runs are made deterministic (``deterministic=True``,
            ``parallelism="serial"``) unless ``options`` says otherwise.
        options: Keyword arguments for ``pysr.PySRRegressor``, overriding the
            defaults of this engine.
        allow_julia_install: Let juliacall download and install Julia when none
            is found (slow, needs network) instead of failing fast.
    """

    name = "pysr"

    DEFAULTS: Mapping[str, Any] = {
        "niterations": 40,
        "maxsize": 25,
        "deterministic": True,
        "parallelism": "serial",
        "progress": False,
        "verbosity": 0,
        "temp_equation_file": True,
    }

    def __init__(
        self,
        *,
        operators: Sequence[str] | None = None,
        random_state: int | None = 0,
        options: Mapping[str, Any] | None = None,
        allow_julia_install: bool = False,
    ) -> None:
        binary, unary = pysr_operators(operators)
        self.options: dict[str, Any] = {
            **self.DEFAULTS,
            "binary_operators": binary,
            "unary_operators": unary,
            "random_state": random_state,
            **(options or {}),
        }
        self.allow_julia_install = allow_julia_install

    def _import_regressor(self) -> Any:
        """``pysr.PySRRegressor``, or :class:`EngineUnavailableError` with the reason."""
        if not self.allow_julia_install and find_julia() is None:
            raise _unavailable(
                "no Julia executable found (PYTHON_JULIAPKG_EXE unset, no julia or juliaup "
                "on PATH, no juliapkg-managed install) and allow_julia_install=False"
            )
        try:
            from pysr import PySRRegressor
        except Exception as err:  # juliacall raises many kinds of errors on start-up
            raise _unavailable(f"importing pysr failed with {type(err).__name__}: {err}") from err
        return PySRRegressor

    def check_available(self) -> None:
        """Raise :class:`EngineUnavailableError` with the reason when PySR cannot start."""
        self._import_regressor()

    def fit(
        self, x: np.ndarray, y: np.ndarray, names: Sequence[str], dims: Sequence[Dimension]
    ) -> PySREngine:
        """Run the search (units are not passed to PySR).

        Args:
            x: ``(n, p)`` features.
            y: ``(n,)`` target.
            names: Feature names.
            dims: Feature dimensions (ignored).

        Returns:
            ``self`` with ``regressor_``.

        Raises:
            EngineUnavailableError: When Julia/PySR cannot be started.
        """
        del dims
        regressor_cls = self._import_regressor()
        self.placeholders_ = [f"x{i}" for i in range(len(names))]
        self.regressor_ = regressor_cls(**self.options)
        self.regressor_.fit(
            np.asarray(x, dtype=np.float64),
            np.asarray(y, dtype=np.float64),
            variable_names=self.placeholders_,
        )
        from pysr.sr import idx_model_selection

        raw = self.regressor_.equations_
        label = idx_model_selection(raw, self.regressor_.model_selection)
        self._default = int(raw.index.get_loc(label))
        self.equations_ = raw.reset_index(drop=True)
        return self

    def table(self) -> pd.DataFrame:
        """The equation table (PySR's hall of fame).

        Columns ``complexity``, ``loss``, ``score`` and ``pysr_equation`` (PySR's
        own string over ``x0, x1, ...``).
        """
        eq = self.equations_
        return pd.DataFrame(
            {
                "complexity": eq["complexity"].astype(int).to_numpy(),
                "loss": eq["loss"].astype(float).to_numpy(),
                "score": (eq["score"].astype(float).to_numpy() if "score" in eq else np.nan),
                "pysr_equation": eq["equation"].astype(str).to_numpy(),
            }
        )

    @property
    def default_index(self) -> int:
        """PySR's own pick (``model_selection``)."""
        return self._default

    def sympy(self, index: int, symbols: Sequence[sympy.Symbol]) -> sympy.Expr:
        """PySR's sympy form of equation ``index`` with its variables replaced by ``symbols``."""
        expr = self.regressor_.sympy(index)
        mapping = {sympy.Symbol(p): s for p, s in zip(self.placeholders_, symbols, strict=True)}
        return expr.subs(mapping, simultaneous=True)

    def predict(self, x: np.ndarray, index: int) -> np.ndarray:
        """PySR's prediction of equation ``index``."""
        return np.asarray(
            self.regressor_.predict(np.asarray(x, dtype=np.float64), index=index), dtype=np.float64
        )
