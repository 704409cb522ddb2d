"""The README's "your own data" worked example as one result file.

After ``sagatsr prepare PATH``, ``sagatsr train`` and ``sagatsr distill`` on a
user dataset, :func:`collect_worked_example` gathers what each step measured
(entries read and skipped, graphs, the network's test error, the formulas and
their held-out errors) from the prepared folder and the run folder into
``reports/metrics/<name>.json``, with the provenance of the collecting command
and the commands of the steps, as recorded by each step.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sagatsr.io_utils import write_json
from sagatsr.prepare import PreparedDataset
from sagatsr.provenance import run_info
from sagatsr.train.run import Run


def collect_worked_example(
    run_dir: str | os.PathLike[str],
    prepared_root: str | os.PathLike[str],
    *,
    out_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Gather the prepare, train and distill results of one run.

    Args:
        run_dir: A finished run folder with ``formulas.json`` (``sagatsr distill``).
        prepared_root: Folder of the prepared dataset the run was trained on.
        out_path: Result file to write.
        command: Command recorded in the result.

    Returns:
        ``prepare`` (entries, valid records, skipped, graphs, failures, subsets,
        seconds), ``train`` (the run's metrics, epochs, CPU seconds, command),
        ``distill`` (formulas with their test MAE and the network's), a
        ``summary`` line and the provenance.

    Raises:
        FileNotFoundError: When the run has not finished or was never distilled.
    """
    run = Run(run_dir)
    metrics = run.metrics()
    if not run.formulas_path.is_file():
        raise FileNotFoundError(f"{run.folder} has no formulas.json: run `sagatsr distill` first")
    distilled = json.loads(run.formulas_path.read_text(encoding="utf-8"))
    manifest = PreparedDataset.load(Path(prepared_root) / metrics["dataset"]).manifest
    prepare = {
        key: manifest[key]
        for key in ("n_entries", "n_records", "n_skipped", "n_graphs", "n_graph_failures")
    }
    prepare.update(subset_counts=manifest["subset_counts"], seconds=manifest["seconds"])
    train = {
        key: metrics.get(key)
        for key in ("dataset", "subset", "split", "target", "unit", "metrics", "epochs_run")
    }
    train.update(
        cpu_seconds=metrics.get("train_cpu_seconds"),
        command=metrics.get("command"),
        commit=metrics.get("commit"),
    )
    formulas = [
        {key: f.get(key) for key in ("engine", "mode", "expression", "complexity", "test_mae")}
        for f in distilled["formulas"]
    ]
    best = min(formulas, key=lambda f: f["test_mae"]) if formulas else None
    unit = metrics.get("unit", "")
    summary = (
        f"{metrics['dataset']}: {prepare['n_records']:,} of {prepare['n_entries']:,} entries "
        f"valid; network test MAE {metrics['metrics']['test']['mae']:.4g} {unit}"
    )
    if best is not None:
        summary += f"; best formula test MAE {best['test_mae']:.4g} {unit} ({best['mode']})"
    result = {
        "summary": summary,
        "prepare": prepare,
        "train": train,
        "distill": {
            "command": distilled.get("command"),
            "gnn_test_mae": distilled.get("gnn_test_mae"),
            "formulas": formulas,
        },
        **run_info(command),
    }
    if out_path is not None:
        write_json(Path(out_path), result)
    return result
