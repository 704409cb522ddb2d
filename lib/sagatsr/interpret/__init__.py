"""Interpretation of trained SA-GAT models: importance coefficients, stability, permutation.

Public API::

    from sagatsr.interpret import (
        importance_coefficients, aggregate_global, aggregate_node, top_features,
        importance_matrix, rank_stability, stability_summary, seed_runs, fold_runs,
        permutation_importance, compare_with_ic,
    )

    tables = importance_coefficients(model, graphs)     # per structure / per atom ICs
    ranked = aggregate_global(tables.global_ic)         # mean/std/median IC, rank, label, unit
    moved = permutation_importance(model, graphs)       # MAE increase per shuffled feature
    compare_with_ic(ranked, moved, k=10)                # do ICs agree with what moves predictions?

Figures are in :mod:`sagatsr.plots.importance`. Submodules are imported on
first use, so importing this package does no work.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sagatsr.interpret.importance import (
        ImportanceTables,
        aggregate_global,
        aggregate_node,
        feature_names,
        importance_coefficients,
        importance_matrix,
        top_features,
    )
    from sagatsr.interpret.permutation import compare_with_ic, permutation_importance
    from sagatsr.interpret.stability import (
        fold_runs,
        load_run_model,
        rank_stability,
        ranking_agreement,
        seed_runs,
        stability_summary,
    )

_EXPORTS = {
    "ImportanceTables": "importance",
    "aggregate_global": "importance",
    "aggregate_node": "importance",
    "feature_names": "importance",
    "importance_coefficients": "importance",
    "importance_matrix": "importance",
    "top_features": "importance",
    "compare_with_ic": "permutation",
    "permutation_importance": "permutation",
    "fold_runs": "stability",
    "load_run_model": "stability",
    "rank_stability": "stability",
    "ranking_agreement": "stability",
    "seed_runs": "stability",
    "stability_summary": "stability",
}

__all__ = [
    "ImportanceTables",
    "aggregate_global",
    "aggregate_node",
    "compare_with_ic",
    "feature_names",
    "fold_runs",
    "importance_coefficients",
    "importance_matrix",
    "load_run_model",
    "permutation_importance",
    "rank_stability",
    "ranking_agreement",
    "seed_runs",
    "stability_summary",
    "top_features",
]


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first access."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
