"""Symbolic regression: one estimator interface over the SISSO, Operon and PySR engines.

``SymbolicRegressor(engine="sisso" | "operon" | "pysr")`` is the entry point; the
engines are imported only when one is fitted (PySR only when chosen). The names
below are imported on first use, so ``sagatsr.sr.units`` loads on its own.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sagatsr.sr.errors import EngineUnavailableError, NotFittedError
    from sagatsr.sr.estimator import SymbolicRegressor
    from sagatsr.sr.units import parse_unit, parse_units

_EXPORTS = {
    "EngineUnavailableError": "sagatsr.sr.errors",
    "NotFittedError": "sagatsr.sr.errors",
    "SymbolicRegressor": "sagatsr.sr.estimator",
    "parse_unit": "sagatsr.sr.units",
    "parse_units": "sagatsr.sr.units",
}

__all__ = [
    "EngineUnavailableError",
    "NotFittedError",
    "SymbolicRegressor",
    "parse_unit",
    "parse_units",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sagatsr.sr' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
