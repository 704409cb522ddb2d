"""Featurization benchmark: crystal graphs per second for a whole dataset."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sagatsr.features import FEATURIZER_VERSION
from sagatsr.graphs.batch_build import build_graphs
from sagatsr.graphs.neighbors import NeighborConfig
from sagatsr.io_utils import write_json
from sagatsr.prepare import read_records
from sagatsr.provenance import run_info

#: The issue's goal for all 18,928 Castelli structures on a 2-core CPU.
GOAL_SECONDS = 120.0


def benchmark_featurize(
    dataset: str,
    *,
    raw_root: str | os.PathLike[str] | None = None,
    neighbors: NeighborConfig | None = None,
    workers: int = 1,
    max_entries: int = 0,
    out_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Time graph construction (roles, neighbours, all features) for a dataset.

    CIF parsing and validation are timed separately; graphs are built without
    the cache, so every graph is computed.

    Args:
        dataset: Registered dataset name.
        raw_root: Mirror root (``None``: the configured mirror or the download).
        neighbors: Neighbour rules.
        workers: Processes for parsing and graph building.
        max_entries: Only the first entries (0 = all).
        out_path: Write the result JSON here.
        command: Command line recorded in the result.

    Returns:
        The result (also written to ``out_path``).
    """
    neighbors = neighbors or NeighborConfig()
    started = time.perf_counter()
    loaded = read_records(dataset, raw_root=raw_root, max_entries=max_entries, workers=workers)
    load_seconds = time.perf_counter() - started
    items = [(r.id, r.structure) for r in loaded.records]
    built = build_graphs(items, neighbors, cache=None, workers=workers, on_error="skip")
    n_atoms = sum(len(r.structure) for r in loaded.records)
    result = {
        "summary": (
            f"{len(built.graphs)} {dataset} graphs in {built.seconds:.1f} s "
            f"({len(built.graphs) / built.seconds:.0f} structures/s, {workers} workers)"
        ),
        "dataset": dataset,
        "n_structures": len(items),
        "n_atoms": n_atoms,
        "n_graphs": len(built.graphs),
        "n_failures": len(built.failures),
        "graph_seconds": round(built.seconds, 3),
        "structures_per_second": round(len(built.graphs) / built.seconds, 1),
        "read_and_validate_seconds": round(load_seconds, 3),
        "workers": workers,
        "neighbors": {"cutoff": neighbors.cutoff, "max_neighbors": neighbors.max_neighbors},
        "featurizer_version": FEATURIZER_VERSION,
        "goal_seconds": GOAL_SECONDS,
        "goal_met": bool(built.seconds < GOAL_SECONDS),
        **run_info(command),
    }
    if out_path:
        write_json(Path(out_path), result)
    return result
