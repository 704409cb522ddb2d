"""Training throughput: graphs per second for forward + backward + optimizer step."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch_geometric.loader import DataLoader

from sagatsr.bench.timing import time_call
from sagatsr.io_utils import write_json
from sagatsr.model import SAGAT, fit_scalers
from sagatsr.prepare import PreparedDataset
from sagatsr.provenance import run_info
from sagatsr.train.data import labelled_graphs
from sagatsr.train.pipeline import model_config_for


def measure_throughput(
    prepared_dir: str | os.PathLike[str],
    *,
    target: str,
    subset: str = "all",
    batch_size: int = 64,
    n_batches: int = 20,
    repeats: int = 3,
    devices: tuple[str, ...] = ("cpu",),
    model_settings: dict[str, Any] | None = None,
    out_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Graphs per second of a training step on each device.

    One measured call runs ``n_batches`` batches of ``batch_size`` graphs
    through forward, L1 loss, backward and an AdamW step; one warm-up call
    precedes the ``repeats`` measured calls, and the median is reported.

    Args:
        prepared_dir: A prepared dataset folder.
        target: Target used for the loss.
        subset: Subset whose first ``n_batches * batch_size`` graphs are used.
        batch_size: Graphs per batch.
        n_batches: Batches per measured call.
        repeats: Measured calls.
        devices: ``"cpu"`` and/or ``"cuda"`` (skipped when unavailable).
        model_settings: Model overrides (default: the paper's size).
        out_path: Write the result JSON here.
        command: Command recorded in the result.

    Returns:
        The result: per device graphs/s, atoms/s and the timing.
    """
    prepared = PreparedDataset.load(prepared_dir)
    ids = prepared.subset_ids(subset)[: batch_size * n_batches]
    graphs = labelled_graphs(prepared, ids, target)
    config = model_config_for(prepared, **(model_settings or {}))
    n_graphs = len(graphs.graphs)
    n_atoms = sum(int(g.num_nodes) for g in graphs.graphs)
    results: dict[str, Any] = {}
    for device_name in devices:
        if device_name.startswith("cuda") and not torch.cuda.is_available():
            results[device_name] = {"skipped": "no CUDA device"}
            continue
        device = torch.device(device_name)
        torch.manual_seed(0)
        model = SAGAT(config)
        fit_scalers(model, graphs.graphs)
        model.to(device).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        batches = [b.to(device) for b in DataLoader(graphs.graphs, batch_size=batch_size)]

        def step(model: SAGAT = model, optimizer: Any = optimizer, batches: list = batches) -> None:
            for batch in batches:
                optimizer.zero_grad(set_to_none=True)
                loss = (model(batch) - batch.y).abs().mean()
                loss.backward()
                optimizer.step()

        sync = torch.cuda.synchronize if device.type == "cuda" else None
        timing = time_call(step, warmup=1, repeats=repeats, synchronize=sync)
        results[device_name] = {
            "graphs_per_second": n_graphs / timing.median,
            "atoms_per_second": n_atoms / timing.median,
            "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "timing": timing.to_dict(),
        }
    cpu = results.get("cpu", {}).get("graphs_per_second")
    result = {
        "summary": f"training step: {cpu:.0f} graphs/s on CPU (batch {batch_size})"
        if cpu
        else "training step throughput",
        "dataset": prepared.name,
        "subset": subset,
        "batch_size": batch_size,
        "n_graphs_per_call": n_graphs,
        "n_atoms_per_call": n_atoms,
        "torch_threads": torch.get_num_threads(),
        "model_config": {
            k: v
            for k, v in config.to_dict().items()
            if k not in ("node_feature_names", "global_feature_names")
        },
        "devices": results,
        **run_info(command),
    }
    if out_path:
        write_json(Path(out_path), result)
    return result
