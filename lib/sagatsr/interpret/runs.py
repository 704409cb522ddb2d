"""Importance coefficients of finished training runs (what notebook 03 analyses).

A run folder (``sagatsr.train.pipeline.train_on_split``) stores, in its saved
model's metadata, the dataset, subset, split and target it was trained on; the
functions here read that, load the matching part of the prepared dataset and
compute the ICs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sagatsr.interpret.importance import (
    ImportanceTables,
    aggregate_global,
    aggregate_node,
    importance_coefficients,
    top_features,
)
from sagatsr.interpret.stability import load_run_model
from sagatsr.model import SAGAT
from sagatsr.train.data import LabelledGraphs, load_split_parts
from sagatsr.train.run import Run


@dataclass
class RunImportance:
    """ICs of one run on one part of its split.

    Attributes:
        name: Run name (the run folder's name).
        metadata: Dataset, subset, split, target and unit of the run.
        model: The run's best model.
        graphs: The structures analysed.
        tables: Per-structure and per-atom ICs.
        global_ranking: :func:`aggregate_global` of the tables.
        node_ranking: :func:`aggregate_node` (per role) of the tables.
    """

    name: str
    metadata: dict[str, Any]
    model: SAGAT
    graphs: LabelledGraphs
    tables: ImportanceTables
    global_ranking: pd.DataFrame
    node_ranking: pd.DataFrame

    @property
    def label(self) -> str:
        """``"<dataset>/<subset> <target>"`` for tables and heatmaps."""
        m = self.metadata
        return f"{m['dataset']}/{m['subset']} {m['target']}"


def run_metadata(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Dataset, subset, split, target and unit stored with a run's model.

    Raises:
        FileNotFoundError: If ``run_dir`` holds no saved model.
        ValueError: If the model was saved without run metadata.
    """
    metadata = Run(run_dir).metadata()
    missing = [k for k in ("dataset", "subset", "split", "target") if k not in metadata]
    if missing:
        raise ValueError(f"model in {run_dir} has no {', '.join(missing)} in its metadata")
    return metadata


def analyze_run(
    run_dir: str | os.PathLike[str],
    prepared_root: str | os.PathLike[str] | None = None,
    *,
    part: str = "test",
    batch_size: int = 256,
) -> RunImportance:
    """ICs of a finished run on one part (``train``, ``val`` or ``test``) of its split.

    Args:
        run_dir: A run folder.
        prepared_root: Folder holding the prepared datasets (one folder each);
            ``None``: where the run recorded it (:meth:`Run.prepared_dataset`).
        part: Which part of the run's split to analyse.
        batch_size: Graphs per forward pass.

    Returns:
        The run's ICs and rankings.
    """
    metadata = run_metadata(run_dir)
    prepared = Run(run_dir).prepared_dataset(prepared_root)
    _, parts = load_split_parts(prepared, metadata["subset"], metadata["split"], metadata["target"])
    graphs = parts[part]
    model = load_run_model(run_dir)
    tables = importance_coefficients(model, graphs, batch_size=batch_size)
    return RunImportance(
        name=Path(run_dir).name,
        metadata=metadata,
        model=model,
        graphs=graphs,
        tables=tables,
        global_ranking=aggregate_global(tables.global_ic),
        node_ranking=aggregate_node(tables.node_ic, by_role=True),
    )


def top_feature_table(runs: list[RunImportance], k: int = 10) -> pd.DataFrame:
    """Top-``k`` global features of every run side by side (rank x run, "name (IC)")."""
    columns = {}
    for run in runs:
        ranking = run.global_ranking.set_index("feature")
        names = top_features(run.global_ranking, k)
        columns[run.label] = [f"{name} ({ranking.loc[name, 'mean_ic']:.3f})" for name in names]
    return pd.DataFrame(columns, index=pd.RangeIndex(1, k + 1, name="rank"))


def discover_runs(models_root: str | os.PathLike[str]) -> list[Path]:
    """Run folders directly under ``models_root`` (those holding ``model/config.json``), sorted."""
    root = Path(models_root)
    if not root.is_dir():
        raise FileNotFoundError(f"models folder {root} does not exist")
    return sorted(p for p in root.iterdir() if Run(p).has_model())


def run_labels(run_dirs: Sequence[str | os.PathLike[str]]) -> list[str]:
    """Names of run folders: the fewest trailing path parts that tell them apart.

    ``models/fold0/e_form`` and ``models/fold1/e_form`` are ``fold0/e_form`` and
    ``fold1/e_form``; folders with distinct names keep just their names.

    Raises:
        ValueError: If a folder is given twice.
    """
    paths = [Path(d).resolve() for d in run_dirs]
    repeated = sorted({str(p) for p in paths if paths.count(p) > 1})
    if repeated:
        raise ValueError(f"run folder(s) given more than once: {', '.join(repeated)}")
    depth = 1
    while len({p.parts[-depth:] for p in paths}) < len(paths):
        depth += 1
    return ["/".join(p.parts[-depth:]) for p in paths]


def run_stability(
    run_dirs: list[str | os.PathLike[str]],
    prepared_root: str | os.PathLike[str],
    *,
    part: str = "test",
    k: int = 10,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Stability of the global IC ranking across finished runs (e.g. the Matbench folds).

    Args:
        run_dirs: Run folders trained on the same features (other folds or seeds).
        prepared_root: Folder of the prepared datasets.
        part: Part of each run's own split whose structures are averaged.
        k: Size of the top lists compared.

    Returns:
        ``(pairs, summary)`` from :func:`~sagatsr.interpret.stability.rank_stability`
        and :func:`~sagatsr.interpret.stability.stability_summary`.

    Raises:
        ValueError: With fewer than two runs.
    """
    from sagatsr.interpret.importance import mean_ic_series
    from sagatsr.interpret.stability import rank_stability, stability_summary

    if len(run_dirs) < 2:
        raise ValueError("stability needs at least two runs")
    rankings = {
        label: mean_ic_series(analyze_run(d, prepared_root, part=part).global_ranking)
        for label, d in zip(run_labels(run_dirs), run_dirs, strict=True)
    }
    pairs = rank_stability(rankings, k=k)
    return pairs, stability_summary(pairs)
