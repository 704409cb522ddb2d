"""Fit a model on labelled graphs with Lightning: checkpoints, early stopping, resume.

The run folder's layout is :class:`sagatsr.train.run.Run`'s. A run killed at any
point restarts from its last checkpoint without losing the epochs it completed;
a run that early stopping ended is not trained further.
"""

from __future__ import annotations

import contextlib
import csv
import inspect
import json
import logging
import os
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint, WeightAveraging
from lightning.pytorch.strategies import DDPStrategy

from sagatsr.graphs.packed import packed_loader
from sagatsr.io_utils import write_json
from sagatsr.model import SAGAT, ModelConfig, fit_scalers, save_model
from sagatsr.model.network import unused_edge_weight_names
from sagatsr.runtime import configure_cpu
from sagatsr.train.averaging import ema_with_warmup
from sagatsr.train.config import TrainConfig
from sagatsr.train.data import LabelledGraphs
from sagatsr.train.module import SAGATModule
from sagatsr.train.run import Run

logger = logging.getLogger(__name__)

HISTORY_COLUMNS = ("epoch", "train_loss", "val_mae", "lr", "seconds", "cpu_seconds")
# Data-parallel fits started in this process (at most one works, see
# sagatsr.train.fit_process).
_data_parallel_fits = 0


class HistoryCallback(Callback):
    """Append one row per finished epoch to ``history.csv`` (kept across resumes).

    ``seconds`` is the wall time and ``cpu_seconds`` the processor time of this
    process (all its threads) since the call started.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.started = time.perf_counter()
        self.cpu_started = time.process_time()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Write the epoch's row."""
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        metrics = trainer.callback_metrics
        row = {
            "epoch": trainer.current_epoch,
            "train_loss": float(metrics.get("train_loss", float("nan"))),
            "val_mae": float(metrics.get("val_mae", float("nan"))),
            "lr": float(trainer.optimizers[0].param_groups[0]["lr"]),
            "seconds": round(time.perf_counter() - self.started, 3),
            "cpu_seconds": round(time.process_time() - self.cpu_started, 3),
        }
        new = not self.path.exists()
        with open(self.path, "a", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=HISTORY_COLUMNS)
            if new:
                writer.writeheader()
            writer.writerow(row)


def _run_clock(frame: pd.DataFrame, clock: str) -> np.ndarray:
    """``clock`` of each ``history.csv`` row counted over every call of the run.

    Each call restarts the clocks; a drop in the wall clock marks a resume, and
    each finished call's last value is added to the rows after it.

    Returns:
        ``(rows,)`` seconds (0 where the column is absent or empty).
    """
    wall = frame["seconds"].to_numpy(dtype=float)
    values = frame[clock].fillna(0.0).to_numpy(dtype=float) if clock in frame else 0.0 * wall
    call_ends = np.flatnonzero(np.diff(wall) < 0)
    carried = np.zeros_like(values)
    carried[call_ends + 1] = values[call_ends]
    return values + np.cumsum(carried)


def read_history(out_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """The learning curve of a run (last row per epoch when a resume repeated one).

    Besides the columns of ``history.csv`` (whose clocks restart with each call),
    ``run_seconds`` and ``run_cpu_seconds`` count the time since the run began,
    over every call that resumed it; ``run_cpu_seconds`` is nan on rows without a
    processor time (runs made before it was recorded).
    """
    path = Run(out_dir).history_path
    if not path.is_file():
        return pd.DataFrame(columns=[*HISTORY_COLUMNS, "run_seconds", "run_cpu_seconds"])
    frame = pd.read_csv(path)
    frame["run_seconds"] = _run_clock(frame, "seconds")
    known_cpu = frame["cpu_seconds"].notna() if "cpu_seconds" in frame else False
    frame["run_cpu_seconds"] = np.where(known_cpu, _run_clock(frame, "cpu_seconds"), np.nan)
    return frame.drop_duplicates("epoch", keep="last").reset_index(drop=True)


def training_seconds(out_dir: str | os.PathLike[str], clock: str = "seconds") -> float:
    """Time of a run's completed epochs, summed over every call that resumed it.

    Each call restarts the clocks of ``history.csv``; a drop in the wall clock
    marks a resume, so the total is the sum of each call's last value. Time
    spent in an epoch that a kill interrupted is not counted.

    Args:
        out_dir: The run folder.
        clock: ``"seconds"`` (wall time) or ``"cpu_seconds"`` (processor time
            of the training process, all threads; 0 for epochs of runs made
            before it was recorded).

    Returns:
        Seconds (0.0 when the run has no history).
    """
    path = Run(out_dir).history_path
    if not path.is_file():
        return 0.0
    frame = pd.read_csv(path)
    if frame.empty:
        return 0.0
    return float(_run_clock(frame, clock)[-1])


@dataclass
class FitResult:
    """Outcome of :func:`fit_model`.

    Attributes:
        model: The best model (lowest validation MAE), eval mode, on CPU.
        best_epoch: Its epoch (0-based).
        best_val_mae: Its validation MAE (target unit).
        epochs_run: Epochs completed in total (resumed runs included).
        seconds: Wall time of this call.
        total_seconds: Wall time of the completed epochs over every call
            (resumes included), from ``history.csv``.
        total_cpu_seconds: Processor time of the same epochs (all threads).
        device: What trained it, e.g. ``"cpu"`` or ``"cuda x1"``.
        threads: Torch threads of each training process.
    """

    model: SAGAT
    best_epoch: int
    best_val_mae: float
    epochs_run: int
    seconds: float
    total_seconds: float
    total_cpu_seconds: float
    device: str
    threads: int


#: Training settings a resumed run may change: they do not alter what is learned
#: per epoch (``epochs`` extends or shortens the run).
RESUMABLE_CHANGES = frozenset(
    {
        "epochs",
        "progress_bar",
        "max_time_minutes",
        "accelerator",
        "devices",
        "num_workers",
        "threads",
        "compile",
    }
)


def check_run_settings(
    folder: Path,
    model_config: ModelConfig,
    train_config: TrainConfig,
    *,
    resuming: bool,
    data: dict[str, str] | None = None,
) -> None:
    """Record a run's settings in ``run_settings.json``; refuse to resume with other ones.

    Args:
        folder: The run folder.
        model_config: The network's settings.
        train_config: The optimisation settings.
        resuming: Whether the run continues from a checkpoint of this folder.
        data: Fingerprints of the data (``{"train": ..., "val": ...}``, from
            :meth:`LabelledGraphs.fingerprint`); recorded, and compared on resume
            when the folder recorded them too (runs of earlier versions did not).

    Raises:
        ValueError: When resuming a run whose recorded settings or data differ
            (names the folder and what differs), which would mix two recipes, or
            two datasets, in one model.
    """
    train = {k: v for k, v in train_config.to_dict().items() if k not in RESUMABLE_CHANGES}
    settings = json.loads(json.dumps({"model": model_config.to_dict(), "train": train}))
    if data is not None:
        settings["data"] = dict(data)
    path = Run(folder).settings_path
    if resuming and path.is_file():
        saved = json.loads(path.read_text(encoding="utf-8"))
        other_data = [
            part
            for part in sorted(settings.get("data", {}))
            if part in saved.get("data", {}) and saved["data"][part] != settings["data"][part]
        ]
        if other_data:
            raise ValueError(
                f"{folder}: cannot resume this run on other data (its {' and '.join(other_data)}"
                " graphs differ: another dataset, split, target, sample or feature set); use a"
                " new run folder"
            )
        changed = [
            f"{group}.{key}"
            for group in ("model", "train")
            for key in sorted(set(settings[group]) | set(saved.get(group, {})))
            if settings[group].get(key) != saved.get(group, {}).get(key)
        ]
        if changed:
            raise ValueError(
                f"{folder}: cannot resume this run with different settings ({', '.join(changed)});"
                " use a new run folder, or the run's original settings"
            )
    write_json(path, settings)


def _stopped_early(checkpoint: Path) -> bool:
    """True when the early-stopping state saved in ``checkpoint`` says it ended the run."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    return any(
        key.startswith("EarlyStopping") and int(value.get("stopped_epoch", 0)) > 0
        for key, value in state.get("callbacks", {}).items()
    )


def _timer_elapsed(checkpoint: Path) -> float:
    """Training seconds that Lightning's ``Timer`` saved in ``checkpoint`` (0 without one)."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    return float(
        sum(
            value.get("time_elapsed", {}).get("train", 0.0)
            for key, value in state.get("callbacks", {}).items()
            if key.startswith("Timer")
        )
    )


def _check_checkpoint_layout(checkpoint: Path, model_config: ModelConfig) -> None:
    """Refuse to resume a checkpoint of model version 1.0 (a last-layer edge MLP).

    Its optimizer state holds moments for weights this version no longer has, so
    the run cannot continue; its saved ``model/`` still loads with ``load_model``.

    Raises:
        ValueError: Naming the checkpoint, when it has that layout.
    """
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    if unused_edge_weight_names(state.get("state_dict", {}), model_config):
        raise ValueError(
            f"{checkpoint} was written by model version 1.0 (an edge update in the last "
            "attention layer), which this version no longer has; the run cannot be resumed. "
            "Start it in a new run folder (its saved model/ still loads for prediction)."
        )


#: Lightning messages that say nothing about this run (tips, device banners,
#: "max_epochs reached", a deprecation inside Lightning itself).
_LIGHTNING_NOISE = (
    r".*LeafSpec.*",
    r".*does not have many workers.*",
    r".*litlogger.*",
    # A resumed run finds its own checkpoints folder (resuming is the point).
    r".*Checkpoint directory .* exists and is not empty.*",
)


@contextlib.contextmanager
def quiet_lightning() -> Iterator[None]:
    """Silence Lightning's banners, tips and info lines while a model trains.

    Its warnings about real problems still show; progress bars are unaffected.
    """
    names = ("lightning.pytorch", "lightning.fabric", "lightning")
    loggers = [logging.getLogger(name) for name in names]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            for pattern in _LIGHTNING_NOISE:
                warnings.filterwarnings("ignore", message=pattern)
            yield
    finally:
        for log, level in zip(loggers, levels, strict=True):
            log.setLevel(level)


def _mostly_at_minimum(targets: np.ndarray) -> bool:
    """True when more than half of ``targets`` (``(N,)``) equal their minimum (zero-inflated)."""
    return targets.size > 1 and float(np.mean(targets == targets.min())) > 0.5


def _accelerator(config: TrainConfig) -> str:
    if config.accelerator != "auto":
        return config.accelerator
    return "gpu" if torch.cuda.is_available() else "cpu"


def training_processes(config: TrainConfig) -> int:
    """Processes one fit with ``config`` runs in: Lightning's device count (DDP ranks).

    ``devices="auto"`` is one CPU process, or every visible GPU; a list counts its
    entries; ``-1`` is every GPU (on CPU one process).
    """
    devices = config.devices
    if isinstance(devices, str) and devices.lstrip("-").isdigit():
        devices = int(devices)
    if isinstance(devices, (list, tuple)):
        return max(1, len(devices))
    gpu = _accelerator(config) != "cpu"
    if devices == "auto" or devices == -1:
        return max(1, torch.cuda.device_count()) if gpu else 1
    return max(1, devices) if isinstance(devices, int) else 1


def ddp_options() -> dict[str, bool]:
    """DDP's options for data-parallel training (Lightning's strategy, the throughput recipes).

    Gradients are views into DDP's communication buckets instead of being copied into
    and out of them. Under a torch that has ``forward_sync_buffers`` (2.13 and newer),
    the buffers (feature scalers, target statistics, basis centres) are no longer
    broadcast before every forward pass, since training never changes them; they are
    still made equal to rank 0's once, at the start. (The older ``broadcast_buffers=False``
    would skip that first sync too, so an older torch keeps the default.) Together about
    4 % more graphs/s for two one-thread processes of batch 128 (the medium model,
    compiled, on a 2-core AMD EPYC; two runs each, noisy).

    Returns:
        Keyword arguments for :class:`torch.nn.parallel.DistributedDataParallel`.
    """
    options = {"gradient_as_bucket_view": True}
    parameters = inspect.signature(torch.nn.parallel.DistributedDataParallel).parameters
    if "forward_sync_buffers" in parameters:
        options["forward_sync_buffers"] = False
    return options


def training_strategy(config: TrainConfig) -> str | DDPStrategy:
    """Lightning's strategy for a fit: DDP with :func:`ddp_options` for several processes.

    Returns:
        ``"auto"`` for a one-process fit, else a :class:`DDPStrategy` with
        :func:`ddp_options`, launched as Lightning's own choice would be: a new
        process per peer, or forked peers in an interactive session (a notebook),
        which cannot start a script again.
    """
    if training_processes(config) <= 1:
        return "auto"
    start_method = "fork" if _lightning_takes_session_for_interactive() else "popen"
    return DDPStrategy(start_method=start_method, **ddp_options())


def _lightning_takes_session_for_interactive() -> bool:
    """Lightning's own verdict (taken when it was imported), which decides what it refuses."""
    from lightning.pytorch.trainer.connectors import accelerator_connector

    fallback = hasattr(sys, "ps1") or bool(sys.flags.interactive)
    return bool(getattr(accelerator_connector, "_IS_INTERACTIVE", fallback))


def _cpu_processes(config: TrainConfig, accelerator: str) -> int:
    """Training processes that share this machine's cores (DDP ranks on CPU)."""
    return training_processes(config) if accelerator == "cpu" else 1


def fit_model(
    train: LabelledGraphs,
    val: LabelledGraphs,
    model_config: ModelConfig,
    train_config: TrainConfig,
    out_dir: str | os.PathLike[str],
    *,
    resume: bool = True,
    extra_callbacks: Sequence[Callback] = (),
    check_recipe: bool = True,
    keep_last: bool = False,
) -> FitResult:
    """Train a model, keeping the best validation checkpoint (or the last epoch's).

    Args:
        train: Training graphs (scalers and target statistics are fitted on them).
        val: Validation graphs (early stopping and checkpoint selection).
        model_config: Network hyperparameters (``n_targets`` must be 1).
        train_config: Optimisation settings.
        out_dir: Run folder (see the module docstring).
        resume: Continue from ``checkpoints/last.ckpt`` when it exists.
        extra_callbacks: More Lightning callbacks (e.g. custom logging).
        check_recipe: Warn when the recipe does not suit the targets (an L1 loss
            on targets mostly at their minimum). Callers that repeat a run's
            recipe on parts of its data (out-of-fold models) turn it off: the
            run's own training warned once.
        keep_last: Return the last epoch's weights instead of the best
            validation epoch's (for a refit whose validation graphs were trained
            on: no epoch can be chosen by them).

    Returns:
        The best (or last) model and run facts.

    Raises:
        ValueError: If ``train`` or ``val`` is empty.
        SystemExit: With status 0, in the processes of rank > 0 that Lightning
            starts for data-parallel training (``devices`` > 1): once training is
            done, only rank 0 evaluates and writes the run folder.
        RuntimeError: On a second data-parallel fit in one process (Lightning
            cannot start its peers; :mod:`sagatsr.train.fit_process` runs each
            in its own process).
    """
    with quiet_lightning():
        return _fit(
            train,
            val,
            model_config,
            train_config,
            out_dir,
            resume=resume,
            extra_callbacks=extra_callbacks,
            check_recipe=check_recipe,
            keep_last=keep_last,
        )


def _fit(
    train: LabelledGraphs,
    val: LabelledGraphs,
    model_config: ModelConfig,
    train_config: TrainConfig,
    out_dir: str | os.PathLike[str],
    *,
    resume: bool = True,
    extra_callbacks: Sequence[Callback] = (),
    check_recipe: bool = True,
    keep_last: bool = False,
) -> FitResult:
    if not train.graphs or not val.graphs:
        raise ValueError(
            f"need training and validation graphs (got {len(train.graphs)} and {len(val.graphs)})"
        )
    global _data_parallel_fits
    if training_processes(train_config) > 1:
        if _data_parallel_fits:
            raise RuntimeError(
                "this process already ran a data-parallel fit, and Lightning cannot start "
                "the peer processes of a second one: train each run in its own process "
                "(train_on_split and the out-of-fold models do so with devices > 1)"
            )
        _data_parallel_fits += 1
    started = time.perf_counter()
    accelerator = _accelerator(train_config)
    cpu = configure_cpu(train_config.threads, processes=_cpu_processes(train_config, accelerator))
    run = Run(out_dir)
    folder = run.folder
    checkpoints = run.checkpoints
    checkpoints.mkdir(parents=True, exist_ok=True)
    pl.seed_everything(train_config.seed, workers=True, verbose=False)

    module = SAGATModule(model_config.to_dict(), train_config.to_dict())
    fit_scalers(module.model, train.graphs)
    targets = train.targets
    if check_recipe and train_config.loss == "l1" and _mostly_at_minimum(targets):
        logger.warning(
            "more than half of the training targets equal their minimum (%.4g): an L1 loss "
            "will learn to predict that value everywhere; consider loss='mse'",
            float(targets.min()),
        )
    std = float(targets.std()) if targets.size > 1 and targets.std() > 0 else 1.0
    module.model.set_target_stats([float(targets.mean())], [std])

    generator = torch.Generator().manual_seed(train_config.seed)
    train_loader = packed_loader(
        train.graphs,
        train_config.batch_size,
        shuffle=True,
        num_workers=train_config.num_workers,
        generator=generator,
    )
    val_loader = packed_loader(
        val.graphs, train_config.batch_size, num_workers=train_config.num_workers
    )
    # Both checkpoints are written after the epoch is complete (its validation
    # included), so a resume starts at the next epoch instead of repeating one.
    best = ModelCheckpoint(
        dirpath=checkpoints,
        filename=run.best_checkpoint.stem,
        monitor=train_config.monitor,
        mode="min",
        save_top_k=1,
        enable_version_counter=False,
        save_on_train_epoch_end=True,
    )
    last = ModelCheckpoint(
        dirpath=checkpoints,
        filename=run.last_checkpoint.stem,
        monitor=None,
        save_top_k=1,
        enable_version_counter=False,
        save_on_train_epoch_end=True,
    )
    callbacks: list[Callback] = [
        best,
        last,
        HistoryCallback(run.history_path),
        *extra_callbacks,
    ]
    if train_config.ema_decay:
        # Validation and every checkpoint's state_dict hold the averaged weights, so the
        # best epoch is chosen, and the model saved, with them; resume restores both.
        callbacks.append(WeightAveraging(multi_avg_fn=ema_with_warmup(train_config.ema_decay)))
    if train_config.patience:
        callbacks.append(
            EarlyStopping(monitor=train_config.monitor, mode="min", patience=train_config.patience)
        )
    deterministic: bool | str = train_config.deterministic
    if accelerator != "cpu" and deterministic:
        deterministic = "warn"  # some scatter kernels have no deterministic CUDA version
    last_path = run.last_checkpoint
    ckpt_path = str(last_path) if resume and last_path.is_file() else None
    check_run_settings(
        folder,
        model_config,
        train_config,
        resuming=ckpt_path is not None,
        data={"train": train.fingerprint(), "val": val.fingerprint()},
    )
    if ckpt_path:
        _check_checkpoint_layout(last_path, model_config)
    # The wall-time budget covers the whole run: a resumed run gets what is left of it.
    # Lightning's Timer restores the time it counted before (when the earlier call had
    # a budget too), so it is given that time back on top of what is left.
    budget = train_config.max_time_minutes
    remaining = timer_limit = None
    if budget:
        spent = training_seconds(folder) if ckpt_path else 0.0
        remaining = budget * 60.0 - spent
        timer_limit = remaining + (_timer_elapsed(last_path) if ckpt_path else 0.0)
    trainer = pl.Trainer(
        max_epochs=train_config.epochs,
        accelerator=accelerator,
        devices=train_config.devices,
        strategy=training_strategy(train_config),
        callbacks=callbacks,
        logger=False,
        enable_progress_bar=train_config.progress_bar,
        enable_model_summary=False,
        deterministic=deterministic,
        num_sanity_val_steps=0,
        max_time=timedelta(seconds=max(timer_limit, 1.0)) if timer_limit is not None else None,
        default_root_dir=str(folder),
    )
    if ckpt_path:
        logger.info("resuming from %s", ckpt_path)
    if remaining is not None and remaining <= 0 and ckpt_path:
        logger.info("wall-time budget of %s min used up; not training further", budget)
    elif ckpt_path and _stopped_early(last_path):
        # Lightning would train one more epoch before early stopping fired again.
        logger.info("early stopping ended this run before; not training further")
    else:
        trainer.fit(module, train_loader, val_loader, ckpt_path=ckpt_path)
    if not trainer.is_global_zero:
        # A data-parallel process that Lightning started to train (its subprocess
        # launcher reruns the command): rank 0 evaluates, prints and writes the run.
        raise SystemExit(0)

    best_path = (
        str(run.last_checkpoint) if keep_last else best.best_model_path or str(run.best_checkpoint)
    )
    best_module = SAGATModule.load_from_checkpoint(best_path, map_location="cpu")
    state = torch.load(best_path, map_location="cpu", weights_only=False)
    best_epoch = int(state.get("epoch", 0))
    history = read_history(folder)
    at_best = history.loc[history["epoch"] == best_epoch, "val_mae"]
    best_val = float(at_best.iloc[-1]) if len(at_best) else float("nan")
    devices = trainer.num_devices
    return FitResult(
        model=best_module.model.eval(),
        best_epoch=best_epoch,
        best_val_mae=best_val,
        epochs_run=int(history["epoch"].max()) + 1 if len(history) else trainer.current_epoch,
        seconds=time.perf_counter() - started,
        total_seconds=training_seconds(folder),
        total_cpu_seconds=training_seconds(folder, "cpu_seconds"),
        device="cpu" if accelerator == "cpu" else f"{accelerator} x{devices}",
        threads=cpu.threads,
    )


def best_model(out_dir: str | os.PathLike[str]) -> SAGAT:
    """The network of a fitted run folder's best validation checkpoint.

    For a fit that ran elsewhere (its own process, :mod:`sagatsr.train.fit_process`).

    Args:
        out_dir: The run folder.

    Returns:
        The model on the CPU, in evaluation mode.

    Raises:
        FileNotFoundError: If the folder has no best checkpoint.
    """
    path = Run(out_dir).best_checkpoint
    if not path.is_file():
        raise FileNotFoundError(f"{out_dir} has no best checkpoint ({path})")
    return SAGATModule.load_from_checkpoint(path, map_location="cpu").model.eval()


@torch.no_grad()
def predict_graphs(model: SAGAT, graphs: LabelledGraphs, batch_size: int = 256) -> np.ndarray:
    """Predictions in physical units, ``(N,)`` in the order of ``graphs``."""
    model.eval()
    if not graphs.graphs:
        return np.zeros(0)
    device = next(model.parameters()).device
    out = [
        model.predict(batch.to(device)).cpu() for batch in packed_loader(graphs.graphs, batch_size)
    ]
    return torch.cat(out).reshape(-1).numpy().astype(np.float64)


def save_best_model(
    result: FitResult, out_dir: str | os.PathLike[str], metadata: dict[str, Any]
) -> Path:
    """Save the best model into ``out_dir/model`` with prediction metadata."""
    return save_model(result.model, Run(out_dir).model_dir, metadata=metadata)
