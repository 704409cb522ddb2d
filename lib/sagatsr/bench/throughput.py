"""Training throughput: graphs per second of forward + loss + backward + optimizer step.

Several *step recipes* are measured in one run on the same graphs, so their
ratios are free of run-to-run drift: ``before`` is the training step as it was
before the speed work (the self-adaptable encoding computed literally from its
``(N, F, H)`` stack, PyTorch Geometric's generic collation, AdamW's per-tensor
loop, no flush of denormals, batch size 64); the others are the current step at
several batch sizes, with and without ``torch.compile``, and data-parallel on
the CPU: ``processes`` processes with one torch thread each, each stepping on its
share of every batch, gradients averaged by DDP over gloo with the options of
training (:func:`sagatsr.train.runner.ddp_options`; what ``sagatsr train --devices 2``
does through Lightning). Every call iterates the data loader, so
collation is part of the time.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
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
from sagatsr.runtime import retain_freed_memory
from sagatsr.train.data import labelled_graphs
from sagatsr.train.pipeline import model_config_for
from sagatsr.train.runner import ddp_options


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
        compile: Run the network through ``torch.compile`` (compiled in the warm-up call;
            in a data-parallel recipe each process compiles its own copy, as
            ``sagatsr train --devices 2 --compile`` does).
        processes: Data-parallel processes on the CPU (DDP over gloo), one torch
            thread each; ``batch_size`` is the global batch, split evenly.
    """

    name: str
    batch_size: int
    literal_encoding: bool = False
    pyg_collation: bool = False
    fused_optimizer: bool = True
    flush_denormal: bool = True
    compile: bool = False
    processes: int = 1

    def __post_init__(self) -> None:
        if self.processes < 1 or self.batch_size % self.processes:
            raise ValueError(
                f"recipe {self.name!r}: batch size {self.batch_size} must split evenly over "
                f"{self.processes} process(es)"
            )
        if self.processes > 1 and (self.literal_encoding or self.pyg_collation):
            raise ValueError(
                f"recipe {self.name!r}: data-parallel recipes use the current encoding "
                "and collation"
            )


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
    StepRecipe("batch256_2processes", 256, processes=2),
    StepRecipe("batch256_2processes_compiled", 256, compile=True, processes=2),
    StepRecipe("batch512_2processes_compiled", 512, compile=True, processes=2),
)


def _loader(graphs: list, recipe: StepRecipe) -> Iterable:
    if recipe.pyg_collation:
        return DataLoader(graphs, batch_size=recipe.batch_size)
    return packed_loader(graphs, recipe.batch_size)


def _model_and_optimizer(
    graphs: list, config: Any, recipe: StepRecipe, device: torch.device
) -> tuple[SAGAT, torch.optim.Optimizer]:
    """The seeded model (scalers fitted on ``graphs``) in training mode, and its AdamW."""
    torch.manual_seed(0)
    model = SAGAT(config)
    fit_scalers(model, graphs)
    model.to(device).train()
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=1e-4,
        fused=recipe.fused_optimizer,
        foreach=False if not recipe.fused_optimizer else None,
    )
    return model, optimizer


class _StepNetwork(torch.nn.Module):
    """The model's standardised predictions ``(B, n_targets)`` for a batch, compiled or not.

    What a step calls, and what DDP wraps: the compiled core
    (:meth:`sagatsr.model.SAGAT.compiled_core`, as training compiles it) is called
    from inside its forward, as in
    :meth:`sagatsr.train.module.SAGATModule._training_forward`.
    """

    def __init__(self, model: SAGAT, compile_core: bool) -> None:
        super().__init__()
        self.model = model
        self._core = model.compiled_core() if compile_core else model.core

    def forward(self, batch: Any) -> torch.Tensor:
        return self._core(*self.model.core_inputs(batch))[0]


def _measure_recipe(
    graphs: list,
    config: Any,
    recipe: StepRecipe,
    device: torch.device,
    repeats: int,
) -> dict[str, Any]:
    model, optimizer = _model_and_optimizer(graphs, config, recipe, device)
    if recipe.literal_encoding:
        for module in model.modules():
            if isinstance(module, SelfAdaptableEncoding):
                module.forward = module.reference  # type: ignore[method-assign]
    network = _StepNetwork(model, recipe.compile)
    loader = _loader(graphs, recipe)

    def one_pass() -> None:
        for batch in loader:
            batch = batch.to(device)
            optimizer.zero_grad(set_to_none=True)
            (network(batch) - batch.y).abs().mean().backward()
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


def _data_parallel_worker(
    rank: int,
    world: int,
    init_file: str,
    graph_bytes: bytes,
    config: Any,
    recipe: StepRecipe,
    repeats: int,
    result_path: str,
) -> None:
    """One process of a data-parallel recipe (the target of ``torch.multiprocessing.spawn``).

    Rank ``r`` steps on the ``r``-th contiguous share of the graphs, in batches of
    ``batch_size / world``; every timed pass ends at a barrier, so the median is
    the slowest process's. Rank 0 writes the timing to ``result_path``.
    ``graph_bytes`` is the pickled graph list (see :func:`_measure_data_parallel`).
    """
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    graphs = pickle.loads(graph_bytes)
    torch.set_num_threads(1)
    torch.set_flush_denormal(recipe.flush_denormal)
    retain_freed_memory()
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        model, optimizer = _model_and_optimizer(graphs, config, recipe, torch.device("cpu"))
        network = DistributedDataParallel(_StepNetwork(model, recipe.compile), **ddp_options())
        share = len(graphs) // world
        loader = packed_loader(
            graphs[rank * share : (rank + 1) * share], recipe.batch_size // world
        )

        def one_pass() -> None:
            for batch in loader:
                optimizer.zero_grad(set_to_none=True)
                (network(batch) - batch.y).abs().mean().backward()
                optimizer.step()

        timing = time_call(one_pass, warmup=1, repeats=repeats, synchronize=dist.barrier)
        if rank == 0:
            write_json(Path(result_path), timing.to_dict())
    finally:
        dist.destroy_process_group()


def _measure_data_parallel(
    graphs: list, config: Any, recipe: StepRecipe, repeats: int
) -> dict[str, Any]:
    world = recipe.processes
    with tempfile.TemporaryDirectory(prefix="sagatsr-ddp-") as folder:
        result_path = Path(folder) / "timing.json"
        torch.multiprocessing.spawn(
            _data_parallel_worker,
            args=(
                world,
                str(Path(folder) / "init"),
                # Plain pickle bytes: spawn's own pickler would share every tensor of
                # every graph through its own shared-memory file descriptor (eight per
                # graph), which exceeds common open-file limits for a few thousand graphs.
                pickle.dumps(graphs),
                config,
                recipe,
                repeats,
                str(result_path),
            ),
            nprocs=world,
            join=True,
        )
        timing = json.loads(result_path.read_text())
    return {
        "recipe": asdict(recipe),
        "graphs_per_second": (len(graphs) // world) * world / timing["median_s"],
        "timing": timing,
    }


def _measure(
    graphs: list, config: Any, recipe: StepRecipe, device: torch.device, repeats: int
) -> dict[str, Any]:
    if recipe.processes == 1:
        return _measure_recipe(graphs, config, recipe, device, repeats)
    if device.type != "cpu":
        return {"recipe": asdict(recipe), "skipped": "data-parallel recipes run on the CPU"}
    return _measure_data_parallel(graphs, config, recipe, repeats)


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
                recipe.name: _measure(graphs, config, recipe, device, repeats) for recipe in recipes
            }
            timed = {name: entry for name, entry in measured.items() if "skipped" not in entry}
            before = timed.get(BEFORE.name, {}).get("graphs_per_second")
            if before:
                for entry in timed.values():
                    entry["speedup_over_before"] = entry["graphs_per_second"] / before
                best = max(timed, key=lambda name: timed[name]["graphs_per_second"])
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
