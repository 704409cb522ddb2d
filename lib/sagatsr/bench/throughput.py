"""Training throughput: graphs per second of forward + loss + backward + optimizer step.

Several *step recipes* are measured in one run on the same graphs, so their
ratios are free of run-to-run drift: ``before`` is the training step as it was
before the speed work (the self-adaptable encoding computed literally from its
``(N, F, H)`` stack, PyTorch Geometric's generic collation, AdamW's per-tensor
loop, no flush of denormals, batch size 64); the others are the current step at
several batch sizes, with and without ``torch.compile``. Every call iterates the
data loader, so collation is part of the time.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch_geometric.loader import DataLoader

from sagatsr.bench.timing import time_call
from sagatsr.graphs.packed import packed_loader
from sagatsr.io_utils import write_json
from sagatsr.model import SAGAT, SelfAdaptableEncoding, fit_scalers
from sagatsr.model.config import MODEL_SIZES
from sagatsr.prepare import PreparedDataset
from sagatsr.provenance import run_info
from sagatsr.train.data import labelled_graphs
from sagatsr.train.pipeline import model_config_for


@dataclass(frozen=True)
class StepRecipe:
    """How one training step is computed.

    Attributes:
        name: Label in the result.
        batch_size: Graphs per step.
        literal_encoding: Compute the SAE from its materialised ``(N, F, H)``
            stack (:meth:`SelfAdaptableEncoding.reference`) instead of the fast path.
        pyg_collation: Batch with ``torch_geometric.loader.DataLoader`` instead
            of :class:`~sagatsr.graphs.packed.PackedGraphs`.
        fused_optimizer: AdamW's fused kernel instead of its per-tensor loop.
        flush_denormal: Flush denormal floats to zero.
        compile: Run the network through ``torch.compile`` (compiled in the warm-up call).
    """

    name: str
    batch_size: int
    literal_encoding: bool = False
    pyg_collation: bool = False
    fused_optimizer: bool = True
    flush_denormal: bool = True
    compile: bool = False


BEFORE = StepRecipe(
    "before",
    64,
    literal_encoding=True,
    pyg_collation=True,
    fused_optimizer=False,
    flush_denormal=False,
)

#: The recipes of a default run: the step before the speed work, then the current one.
DEFAULT_RECIPES: tuple[StepRecipe, ...] = (
    BEFORE,
    StepRecipe("batch64", 64),
    StepRecipe("batch256", 256),
    StepRecipe("batch256_compiled", 256, compile=True),
    StepRecipe("batch512", 512),
    StepRecipe("batch512_compiled", 512, compile=True),
)


def _loader(graphs: list, recipe: StepRecipe) -> Iterable:
    if recipe.pyg_collation:
        return DataLoader(graphs, batch_size=recipe.batch_size)
    return packed_loader(graphs, recipe.batch_size)


def _measure_recipe(
    graphs: list,
    config: Any,
    recipe: StepRecipe,
    device: torch.device,
    repeats: int,
) -> dict[str, Any]:
    torch.manual_seed(0)
    model = SAGAT(config)
    fit_scalers(model, graphs)
    model.to(device).train()
    if recipe.literal_encoding:
        for module in model.modules():
            if isinstance(module, SelfAdaptableEncoding):
                module.forward = module.reference  # type: ignore[method-assign]
    network = torch.compile(model.core, dynamic=True) if recipe.compile else model.core
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=1e-4,
        fused=recipe.fused_optimizer,
        foreach=False if not recipe.fused_optimizer else None,
    )
    loader = _loader(graphs, recipe)

    def one_pass() -> None:
        for batch in loader:
            batch = batch.to(device)
            optimizer.zero_grad(set_to_none=True)
            prediction = network(*model.core_inputs(batch))[0]
            (prediction - batch.y).abs().mean().backward()
            optimizer.step()

    sync = torch.cuda.synchronize if device.type == "cuda" else None
    previous = torch.set_flush_denormal(recipe.flush_denormal)
    try:
        timing = time_call(one_pass, warmup=1, repeats=repeats, synchronize=sync)
    finally:
        torch.set_flush_denormal(previous)
    return {
        "recipe": asdict(recipe),
        "graphs_per_second": len(graphs) / timing.median,
        "timing": timing.to_dict(),
    }


def measure_throughput(
    prepared_dir: str | os.PathLike[str],
    *,
    target: str,
    subset: str = "all",
    n_graphs: int = 2048,
    repeats: int = 5,
    sizes: Sequence[str] | Mapping[str, Mapping[str, Any]] = ("medium", "paper"),
    recipes: Sequence[StepRecipe] = DEFAULT_RECIPES,
    devices: Sequence[str] = ("cpu",),
    out_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Graphs per second of a training step, per model size, device and step recipe.

    Each measured call is one pass over the first ``n_graphs`` graphs of the
    subset, after one unmeasured warm-up pass (which also compiles); the
    median of ``repeats`` calls is reported, and each recipe's speed-up over
    ``before`` when that recipe is measured.

    Args:
        prepared_dir: A prepared dataset folder.
        target: Target used for the (L1) loss.
        subset: Subset whose first ``n_graphs`` graphs are used.
        n_graphs: Graphs per measured call.
        repeats: Measured calls per recipe.
        sizes: Model sizes: names of :data:`sagatsr.model.config.MODEL_SIZES`, or
            a mapping of labels to :class:`~sagatsr.model.ModelConfig` overrides.
        recipes: Step recipes.
        devices: ``"cpu"`` and/or ``"cuda"`` (skipped when unavailable).
        out_path: Write the result JSON here.
        command: Command recorded in the result.

    Returns:
        The result: per size, device and recipe the graphs/s and timing.

    Raises:
        KeyError: For an unknown model size.
    """
    if not isinstance(sizes, Mapping):
        unknown = [size for size in sizes if size not in MODEL_SIZES]
        if unknown:
            raise KeyError(f"unknown model size(s) {unknown}; known: {sorted(MODEL_SIZES)}")
        sizes = {size: MODEL_SIZES[size] for size in sizes}
    prepared = PreparedDataset.load(prepared_dir)
    ids = prepared.subset_ids(subset)[:n_graphs]
    graphs = labelled_graphs(prepared, ids, target).graphs
    results: dict[str, Any] = {}
    summary: list[str] = []
    for size, overrides in sizes.items():
        config = model_config_for(prepared, **overrides)
        per_device: dict[str, Any] = {}
        for device_name in devices:
            if device_name.startswith("cuda") and not torch.cuda.is_available():
                per_device[device_name] = {"skipped": "no CUDA device"}
                continue
            device = torch.device(device_name)
            measured = {
                recipe.name: _measure_recipe(graphs, config, recipe, device, repeats)
                for recipe in recipes
            }
            before = measured.get(BEFORE.name, {}).get("graphs_per_second")
            if before:
                for entry in measured.values():
                    entry["speedup_over_before"] = entry["graphs_per_second"] / before
                best = max(measured, key=lambda name: measured[name]["graphs_per_second"])
                summary.append(
                    f"{size} model on {device_name}: {before:.0f} graphs/s before, "
                    f"{measured[best]['graphs_per_second']:.0f} with {best} "
                    f"({measured[best]['speedup_over_before']:.1f}x)"
                )
            per_device[device_name] = {
                "device_name": torch.cuda.get_device_name(device)
                if device.type == "cuda"
                else "cpu",
                "recipes": measured,
            }
        results[size] = {
            "model_config": {
                k: v
                for k, v in config.to_dict().items()
                if k not in ("node_feature_names", "global_feature_names")
            },
            "parameters": sum(p.numel() for p in SAGAT(config).parameters()),
            "devices": per_device,
        }
    result = {
        "summary": "; ".join(summary) or "training step throughput",
        "dataset": prepared.name,
        "subset": subset,
        "n_graphs_per_call": len(graphs),
        "n_atoms_per_call": sum(int(g.num_nodes) for g in graphs),
        "torch_threads": torch.get_num_threads(),
        "sizes": results,
        **run_info(command),
    }
    if out_path:
        write_json(Path(out_path), result)
    return result
