"""Benchmark suites made of several training runs: subsets / targets and embedding ablation.

Each suite trains with :func:`sagatsr.train.pipeline.train_on_split` (resumable
run folders under ``runs_root``) and writes one JSON result after every run, so
an interrupted suite keeps the runs it finished.

A suite takes more CPU hours than a session may have, and a session's run
folders may not survive it. With a *parts* folder, each finished run's result
row is also written there (``<run name>.json``, with its recipe, commit, hardware
and date; small enough to commit), and a later suite with the same recipe reads
it instead of training the run again; a part made with another recipe is
refused, never mixed in.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sagatsr.bench.matbench_parts import PART_IGNORED, read_checked_part
from sagatsr.io_utils import write_json
from sagatsr.provenance import run_info
from sagatsr.sr.units import format_quantity
from sagatsr.train.config import TrainConfig
from sagatsr.train.pipeline import train_on_split


@dataclass(frozen=True)
class RunSpec:
    """One training run of a suite.

    Attributes:
        name: Run name (folder under the suite's runs root).
        dataset: Prepared dataset name (folder under the prepared root).
        subset: Subset name.
        split: Split name.
        target: Target name.
        embedding: ``"sae"``, ``"fcn"`` or ``"onehot"``.
        loss: Training loss (:attr:`TrainConfig.loss`) of this run.
    """

    name: str
    dataset: str
    subset: str
    split: str
    target: str
    embedding: str = "sae"
    loss: str = "l1"


#: Issue "subsets and targets": OQMD ABO3 / ABX3 formation energy and band gap,
#: Castelli band gap (its Matbench fold 0, whose validation slice is seeded).
#: Band gaps are zero for every metal (57 % of OQMD ABX3, 87 % of ABO3, 96 % of
#: Castelli training rows), so they train with an MSE loss: L1 regresses to the
#: median and predicts zero everywhere on Castelli.
SUBSET_RUNS: tuple[RunSpec, ...] = (
    RunSpec(
        "oqmd_abo3_formation_energy",
        "oqmd_perovskites",
        "ABO3",
        "random",
        "formation_energy_per_atom",
    ),
    RunSpec("oqmd_abo3_band_gap", "oqmd_perovskites", "ABO3", "random", "band_gap", loss="mse"),
    RunSpec(
        "oqmd_abx3_formation_energy",
        "oqmd_perovskites",
        "ABX3",
        "random",
        "formation_energy_per_atom",
    ),
    RunSpec("oqmd_abx3_band_gap", "oqmd_perovskites", "ABX3", "random", "band_gap", loss="mse"),
    RunSpec(
        "castelli_gap_gllbsc",
        "castelli_perovskites",
        "all",
        "matbench_fold0",
        "gap_gllbsc",
        loss="mse",
    ),
)


def ablation_runs(
    folds: Sequence[int] = (0,), embeddings: Sequence[str] = ("sae", "fcn", "onehot")
) -> tuple[RunSpec, ...]:
    """The paper's Fig. 3 question: each embedding on Matbench fold(s) and on AB(OX)3."""
    runs = []
    for embedding in embeddings:
        for fold in folds:
            runs.append(
                RunSpec(
                    f"{embedding}_all_fold{fold}",
                    "castelli_perovskites",
                    "all",
                    f"matbench_fold{fold}",
                    "e_form",
                    embedding,
                )
            )
            runs.append(
                RunSpec(
                    f"{embedding}_mixed_anion_fold{fold}",
                    "castelli_perovskites",
                    "AB(OX)3",
                    f"matbench_fold{fold}",
                    "e_form",
                    embedding,
                )
            )
    return tuple(runs)


def run_recipe(
    spec: RunSpec, model_settings: dict[str, Any] | None, train_config: TrainConfig
) -> dict[str, Any]:
    """What must agree for a run's part to stand for the run (JSON-ready).

    Args:
        spec: The run.
        model_settings: The suite's model overrides (the run's embedding wins).
        train_config: The suite's optimisation settings (the run's loss wins).
    """
    train = replace(train_config, loss=spec.loss).to_dict()
    return json.loads(
        json.dumps(
            {
                "run": asdict(spec),
                "model_settings": {**(model_settings or {}), "embedding": spec.embedding},
                "train_config": {k: v for k, v in train.items() if k not in PART_IGNORED},
            }
        )
    )


def run_part_path(parts_dir: str | os.PathLike[str], run_name: str) -> Path:
    """``parts_dir/<run name>.json``, the part of one finished run."""
    return Path(parts_dir) / f"{run_name}.json"


def run_suite(
    name: str,
    runs: Sequence[RunSpec],
    *,
    prepared_root: str | os.PathLike[str],
    runs_root: str | os.PathLike[str],
    model_settings: dict[str, Any] | None = None,
    train_config: TrainConfig | None = None,
    out_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
    parts_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Train every run of a suite with the same budget and collect test metrics.

    Args:
        name: Suite name (``"subsets"``, ``"embedding_ablation"``).
        runs: The runs.
        prepared_root: Folder holding one prepared dataset folder per dataset.
        runs_root: Run folders go to ``runs_root/<run name>``.
        model_settings: Model overrides shared by every run (the run's
            ``embedding`` wins).
        train_config: Optimisation settings shared by every run.
        out_path: Result JSON, rewritten after every run.
        command: Command recorded in the result.
        parts_dir: Parts folder (see the module docstring); ``None``: none.

    Returns:
        ``{"runs": [{spec, unit, test metrics, epochs, seconds}], ...}``; a row
        read from a part also names it (``part``) and its commit (``part_commit``).

    Raises:
        ValueError: If a part of one of the runs was made with another recipe.
    """
    train_config = train_config or TrainConfig()
    provenance = run_info(command)  # the code that runs: taken before the first run
    recipes = {spec.name: run_recipe(spec, model_settings, train_config) for spec in runs}
    rows: list[dict[str, Any]] = []
    result: dict[str, Any] = {}
    for spec in runs:
        path = None if parts_dir is None else run_part_path(parts_dir, spec.name)
        part = (
            None
            if path is None
            else read_checked_part(path, f"run {spec.name}", recipes[spec.name])
        )
        if part is not None:
            rows.append({**part["row"], "part": str(path), "part_commit": part["commit"]})
            continue
        metrics = train_on_split(
            Path(prepared_root) / spec.dataset,
            subset=spec.subset,
            split=spec.split,
            target=spec.target,
            out_dir=Path(runs_root) / spec.name,
            model_settings={**(model_settings or {}), "embedding": spec.embedding},
            train_config=replace(train_config, loss=spec.loss),
            command=command,
        )
        test = metrics["metrics"]["test"]
        rows.append(
            {
                **asdict(spec),
                "unit": metrics["unit"],
                "test_mae": test["mae"],
                "test_rmse": test["rmse"],
                "test_r2": test["r2"],
                "n_train": metrics["metrics"]["train"]["n"],
                "n_test": test["n"],
                "epochs_run": metrics["epochs_run"],
                "best_epoch": metrics["best_epoch"],
                "train_seconds": metrics["train_seconds"],
                "device": metrics["device"],
            }
        )
        if path is not None:
            write_json(path, {"recipe": recipes[spec.name], "row": rows[-1], **run_info(command)})
        headline = "; ".join(
            f"{r['name']} MAE {format_quantity(r['test_mae'], r['unit'])}" for r in rows
        )
        result = {
            "summary": f"{name}: {headline}",
            "suite": name,
            "complete": len(rows) == len(runs),
            "runs": rows,
            "model_settings": model_settings or {},
            "train_config": train_config.to_dict(),  # each run's loss: its row
            **provenance,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if out_path:
            write_json(out_path, result)
    return result
