"""O(n) scaling: inference time and peak memory for supercells of one perovskite.

For each supercell size the harness measures, with warm-up and repeats:

* ``graph``: structure -> crystal graph (roles, neighbour list, all features);
* ``inference``: the network's forward pass on the graph (no gradients);
* ``total``: both;

and the peak memory above the level before the call (resident memory on CPU,
allocated CUDA memory on GPU). Log-log slopes ``d log(time) / d log(n_atoms)``
are fitted over the sizes with at least ``fit_min_atoms`` atoms (below that,
fixed per-call overheads dominate) and over all sizes. The network is the
paper's size with untrained weights: the cost does not depend on the values.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pymatgen.core import Lattice, Structure

from sagatsr.bench.timing import PeakMemory, gpu_peak_memory, time_call
from sagatsr.graphs.arrays import build_graph_arrays, featurizer_key
from sagatsr.graphs.build import to_data
from sagatsr.graphs.neighbors import NeighborConfig
from sagatsr.io_utils import write_json
from sagatsr.model import SAGAT, ModelConfig, fit_scalers
from sagatsr.provenance import run_info
from sagatsr.runtime import retain_freed_memory

#: Key of the CPU measurement with glibc keeping freed memory.
RETAINED = "cpu_retained_memory"

#: Cubic supercell repetitions: 5 ... 20,480 atoms of SrTiO3.
DEFAULT_REPETITIONS = (1, 2, 3, 4, 6, 8, 11, 16)


def srtio3(a: float = 3.905) -> Structure:
    """Cubic SrTiO3, 5 atoms (B at the origin)."""
    return Structure(
        Lattice.cubic(a),
        ["Sr", "Ti", "O", "O", "O"],
        [[0.5, 0.5, 0.5], [0, 0, 0], [0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5]],
    )


def loglog_slope(n_atoms: Sequence[float], values: Sequence[float]) -> float:
    """Least-squares slope of ``log(values)`` against ``log(n_atoms)``.

    Raises:
        ValueError: With fewer than two points or non-positive values.
    """
    x = np.log(np.asarray(n_atoms, dtype=np.float64))
    y = np.asarray(values, dtype=np.float64)
    if x.size < 2 or (y <= 0).any():
        raise ValueError("need at least two sizes and positive values for a log-log slope")
    return float(np.polyfit(x, np.log(y), 1)[0])


def _model_for(graph_data: Any, settings: dict[str, Any], device: torch.device) -> SAGAT:
    config = ModelConfig(
        n_node_features=graph_data.x.shape[1],
        n_global_features=graph_data.u.shape[1],
        catalog_version=featurizer_key(NeighborConfig()),
        **settings,
    )
    torch.manual_seed(0)
    model = SAGAT(config)
    fit_scalers(model, [graph_data])
    return model.to(device).eval()


def _measure_sizes(
    device: torch.device,
    repetitions: Sequence[int],
    settings: dict[str, Any],
    neighbors: NeighborConfig,
    repeats: int,
) -> list[dict[str, Any]]:
    """Medians and peak memory of graph construction and inference for each size."""
    sync = torch.cuda.synchronize if device.type == "cuda" else None
    base = srtio3()
    device_rows = []
    for r in repetitions:
        structure = base * (r, r, r)
        graph_timing = time_call(
            lambda s=structure: build_graph_arrays(s, neighbors), warmup=1, repeats=repeats
        )
        with PeakMemory() as graph_memory:
            arrays = build_graph_arrays(structure, neighbors)
        data = to_data(arrays).to(device)
        model = _model_for(to_data(arrays), settings, device)

        def infer(model: SAGAT = model, data: Any = data) -> None:
            with torch.no_grad():
                model(data)

        inference_timing = time_call(infer, warmup=1, repeats=repeats, synchronize=sync)
        if device.type == "cuda":
            inference_peak = gpu_peak_memory(infer, device)
        else:
            with PeakMemory() as inference_memory:
                infer()
            inference_peak = inference_memory.peak_bytes
        n_atoms = len(structure)
        device_rows.append(
            {
                "repetition": r,
                "n_atoms": n_atoms,
                "n_edges": int(arrays.edge_distance.shape[0]),
                "graph_s": graph_timing.median,
                "inference_s": inference_timing.median,
                "total_s": graph_timing.median + inference_timing.median,
                "inference_us_per_atom": 1e6 * inference_timing.median / n_atoms,
                "graph_peak_bytes": graph_memory.peak_bytes,
                "inference_peak_bytes": inference_peak,
            }
        )
        del model, data
    return device_rows


def measure_scaling(
    *,
    repetitions: Sequence[int] = DEFAULT_REPETITIONS,
    devices: Sequence[str] = ("cpu", "cuda"),
    model_settings: dict[str, Any] | None = None,
    neighbors: NeighborConfig | None = None,
    repeats: int = 3,
    fit_min_atoms: int = 500,
    retained_memory_variant: bool = True,
    out_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Time graph construction and inference for ``r x r x r`` supercells of SrTiO3.

    Args:
        repetitions: Supercell repetitions ``r`` (``5 r^3`` atoms).
        devices: ``"cpu"`` and/or ``"cuda"`` (skipped when unavailable).
        model_settings: :class:`ModelConfig` overrides (default: the paper's size).
        neighbors: Graph rules.
        repeats: Measured calls per size (after one warm-up call).
        fit_min_atoms: Smallest size used for the large-n slope fit.
        retained_memory_variant: After the default measurement, measure the CPU
            again with glibc keeping freed memory
            (:func:`~sagatsr.runtime.retain_freed_memory`; reported under
            ``"cpu_retained_memory"``), which removes the page-fault cost of
            fresh large allocations from the timings.
        out_path: Write the result JSON here.
        command: Command recorded in the result.

    Returns:
        Per device and size the medians and peak memory, and fitted slopes.
    """
    neighbors = neighbors or NeighborConfig()
    settings = {"hidden": 128, "heads": 4, "layers": 4, "edge_dim": 48, **(model_settings or {})}
    rows: dict[str, list[dict[str, Any]]] = {}
    for device_name in devices:
        if device_name.startswith("cuda") and not torch.cuda.is_available():
            rows[device_name] = []
            continue
        rows[device_name] = _measure_sizes(
            torch.device(device_name), repetitions, settings, neighbors, repeats
        )
    if retained_memory_variant and "cpu" in devices and retain_freed_memory():
        rows[RETAINED] = _measure_sizes(
            torch.device("cpu"), repetitions, settings, neighbors, repeats
        )
    slopes = {device: _slopes(device_rows, fit_min_atoms) for device, device_rows in rows.items()}
    cpu = slopes.get("cpu", {}).get("large_n", {})
    retained = slopes.get(RETAINED, {}).get("large_n", {})
    nan = float("nan")
    summaries = []
    if "cpu" in devices:
        summaries.append(
            f"CPU log-log slopes (n >= {fit_min_atoms}): inference time "
            f"{cpu.get('inference_s', nan):.2f} (default allocator), "
            f"{retained.get('inference_s', nan):.2f} (freed memory retained); with graph "
            f"construction {cpu.get('total_s', nan):.2f} / {retained.get('total_s', nan):.2f}; "
            f"inference memory {cpu.get('inference_peak_bytes', nan):.2f}"
        )
    for device_name in devices:
        gpu = slopes.get(device_name, {}).get("large_n", {})
        if device_name.startswith("cuda") and rows[device_name]:
            largest = rows[device_name][-1]
            summaries.append(
                f"{device_name} log-log slopes (n >= {fit_min_atoms}): inference time "
                f"{gpu.get('inference_s', nan):.2f}, with graph construction on the CPU "
                f"{gpu.get('total_s', nan):.2f}, inference memory "
                f"{gpu.get('inference_peak_bytes', nan):.2f}; {largest['n_atoms']} atoms: "
                f"inference {largest['inference_s'] * 1e3:.1f} ms"
            )
    result = {
        "summary": "; ".join(summaries) or "no device measured",
        "structure": "SrTiO3 cubic, r x r x r supercells",
        "goal_slope": 1.1,
        "fit_min_atoms": fit_min_atoms,
        "repeats": repeats,
        "model_settings": settings,
        "neighbors": {"cutoff": neighbors.cutoff, "max_neighbors": neighbors.max_neighbors},
        "torch_threads": torch.get_num_threads(),
        "sizes": rows,
        "slopes": slopes,
        **run_info(command),
    }
    if out_path:
        write_json(Path(out_path), result)
    return result


def _slopes(rows: list[dict[str, Any]], fit_min_atoms: int) -> dict[str, dict[str, float]]:
    keys = ("graph_s", "inference_s", "total_s", "graph_peak_bytes", "inference_peak_bytes")
    out: dict[str, dict[str, float]] = {"all_sizes": {}, "large_n": {}}
    for label, selected in (
        ("all_sizes", rows),
        ("large_n", [row for row in rows if row["n_atoms"] >= fit_min_atoms]),
    ):
        for key in keys:
            points = [(row["n_atoms"], row[key]) for row in selected if row[key] > 0]
            try:
                out[label][key] = loglog_slope([p[0] for p in points], [p[1] for p in points])
            except ValueError:
                out[label][key] = float("nan")
    return out
