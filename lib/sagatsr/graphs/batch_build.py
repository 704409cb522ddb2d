"""Build the graphs of many structures: cache look-up, parallel workers, failure policy."""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pymatgen.core import Lattice, Structure
from tqdm.auto import tqdm

from sagatsr.graphs.arrays import (
    GraphArrays,
    build_graph_arrays,
    featurizer_key,
    structure_fingerprint,
)
from sagatsr.graphs.cache import GraphCache, cache_key
from sagatsr.graphs.neighbors import NeighborConfig

logger = logging.getLogger(__name__)

FailurePolicy = Literal["error", "skip"]

# A structure as plain arrays (cheap to send to a worker process):
# (lattice matrix (3, 3) angstrom, species symbols, fractional coordinates (n, 3)).
_PackedStructure = tuple[np.ndarray, list[str], np.ndarray]


class GraphBuildError(RuntimeError):
    """A structure could not be turned into a graph under the ``"error"`` policy."""


@dataclass
class GraphBuildResult:
    """Graphs of a batch of structures.

    Attributes:
        graphs: Graph arrays keyed by entry id, in input order.
        failures: ``(id, reason)`` of every structure that could not be built
            (only under the ``"skip"`` policy; ``"error"`` raises instead).
        n_from_cache: How many graphs were read from the cache.
        n_built: How many graphs were computed.
        seconds: Wall time of the whole call.
    """

    graphs: dict[str, GraphArrays]
    failures: list[tuple[str, str]] = field(default_factory=list)
    n_from_cache: int = 0
    n_built: int = 0
    seconds: float = 0.0


def _pack(structure: Structure) -> _PackedStructure:
    return (
        structure.lattice.matrix.copy(),
        [str(site.specie) for site in structure],
        structure.frac_coords.copy(),
    )


def _build_chunk(
    chunk: list[tuple[int, _PackedStructure]], config: NeighborConfig
) -> list[tuple[int, GraphArrays | None, str]]:
    results: list[tuple[int, GraphArrays | None, str]] = []
    for index, (matrix, species, frac) in chunk:
        try:
            structure = Structure(Lattice(matrix), species, frac)
            results.append((index, build_graph_arrays(structure, config), ""))
        except Exception as error:  # reported per structure, never swallowed
            results.append((index, None, f"{type(error).__name__}: {error}"))
    return results


def build_graphs(
    items: Sequence[tuple[str, Structure]],
    config: NeighborConfig,
    *,
    cache: GraphCache | None = None,
    workers: int = 1,
    on_error: FailurePolicy = "error",
    chunk_size: int = 256,
    progress: bool = False,
) -> GraphBuildResult:
    """Featurize structures into graphs, reusing cached graphs.

    Args:
        items: ``(id, structure)`` pairs; ids must be unique.
        config: Neighbour selection rules.
        cache: Graph cache to read from and write new graphs to.
        workers: Worker processes for the graphs not in the cache (1 = no pool).
        on_error: ``"error"`` raises :class:`GraphBuildError` naming the first
            failing id; ``"skip"`` lists failures in the result.
        chunk_size: Structures per task sent to a worker.
        progress: Show a progress bar.

    Returns:
        The graphs and the failures.

    Raises:
        GraphBuildError: Under ``"error"``, when a structure fails.
        ValueError: On duplicate ids or an unknown policy.
    """
    if on_error not in ("error", "skip"):
        raise ValueError(f"on_error must be 'error' or 'skip', got {on_error!r}")
    ids = [item_id for item_id, _ in items]
    if len(set(ids)) != len(ids):
        raise ValueError("build_graphs needs unique ids")
    started = time.perf_counter()
    featurizer = featurizer_key(config)
    keys = [cache_key(structure_fingerprint(structure), featurizer) for _, structure in items]
    cached = cache.get_many(keys) if cache is not None else {}
    todo = [(index, _pack(items[index][1])) for index, key in enumerate(keys) if key not in cached]

    built: dict[int, GraphArrays] = {}
    failures: dict[int, str] = {}
    chunks = [todo[start : start + chunk_size] for start in range(0, len(todo), chunk_size)]
    bar = tqdm(total=len(todo), desc="graphs", unit="struct", disable=not progress)
    if workers > 1 and len(chunks) > 1:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            outputs = pool.map(_build_chunk, chunks, [config] * len(chunks))
            for output in outputs:
                _collect(output, built, failures, bar)
    else:
        for chunk in chunks:
            _collect(_build_chunk(chunk, config), built, failures, bar)
    bar.close()

    if failures and on_error == "error":
        index = min(failures)
        raise GraphBuildError(f"cannot build the graph of {ids[index]!r}: {failures[index]}")
    if cache is not None and built:
        cache.put_many((keys[index], featurizer, arrays) for index, arrays in built.items())

    graphs: dict[str, GraphArrays] = {}
    for index, key in enumerate(keys):
        arrays = cached.get(key) or built.get(index)
        if arrays is not None:
            graphs[ids[index]] = arrays
    result = GraphBuildResult(
        graphs=graphs,
        failures=[(ids[index], reason) for index, reason in sorted(failures.items())],
        n_from_cache=len(items) - len(todo),
        n_built=len(built),
        seconds=time.perf_counter() - started,
    )
    for item_id, reason in result.failures:
        logger.warning("skipped %s: %s", item_id, reason)
    return result


def _collect(
    output: list[tuple[int, GraphArrays | None, str]],
    built: dict[int, GraphArrays],
    failures: dict[int, str],
    bar: tqdm,
) -> None:
    for index, arrays, reason in output:
        if arrays is None:
            failures[index] = reason
        else:
            built[index] = arrays
    bar.update(len(output))
