"""Symbolic regression: one estimator interface over the SISSO, Operon and PySR engines.

``SymbolicRegressor(engine="sisso" | "operon" | "pysr")`` is the entry point; the
engines are imported only when one is fitted (PySR only when chosen).
"""

from sagatsr.sr.errors import EngineUnavailableError, NotFittedError
from sagatsr.sr.estimator import SymbolicRegressor
from sagatsr.sr.units import parse_unit, parse_units

__all__ = [
    "EngineUnavailableError",
    "NotFittedError",
    "SymbolicRegressor",
    "parse_unit",
    "parse_units",
]
