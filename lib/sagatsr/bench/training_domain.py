"""Does the training-domain check separate new structures of the same kind from others?

The domain (:class:`sagatsr.graphs.domain.TrainingDomain`) of one split's training
part is checked against that split's test part (structures of the same kind, which
should lie inside) and against whole other datasets (other chemistries or
calculations, which a model of the first should not be trusted on). For each, the
share of structures outside, per rule, and the share that a plain range (no
margin) would flag.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sagatsr.data.splits import load_split
from sagatsr.graphs.arrays import GraphArrays
from sagatsr.graphs.domain import RANGE_MARGIN, RULES, TrainingDomain
from sagatsr.graphs.store import GraphStore
from sagatsr.io_utils import write_json
from sagatsr.prepare import PreparedDataset
from sagatsr.provenance import run_info


def _graphs(store: GraphStore, ids: Sequence[str]) -> list[GraphArrays]:
    return store.graphs_of([graph_id for graph_id in ids if graph_id in store])


def _evaluate(
    name: str, dataset: str, domain: TrainingDomain, graphs: list[GraphArrays], names: list[str]
) -> dict[str, Any]:
    broken = [domain.broken_rules(graph, names) for graph in graphs]
    plain = [bool((domain.feature_excess(g.global_features, 0.0) > 0).any()) for g in graphs]
    return {
        "name": name,
        "dataset": dataset,
        "n": len(graphs),
        "share_outside": float(np.mean([bool(b) for b in broken])),
        "share_by_rule": {rule: float(np.mean([rule in b for b in broken])) for rule in RULES},
        "share_feature_outside_plain_range": float(np.mean(plain)),
    }


def measure_training_domain(
    prepared_root: str | os.PathLike[str],
    *,
    dataset: str = "castelli_perovskites",
    subset: str = "all",
    split: str = "matbench_fold0",
    others: Sequence[str] = ("oqmd_perovskites", "mp20_subset"),
    out_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Check a split's test part and other datasets against its training part's domain.

    Args:
        prepared_root: Folder of prepared datasets.
        dataset: The dataset whose split gives the domain.
        subset: Its subset.
        split: The split (its training part makes the domain).
        others: Prepared datasets checked whole against that domain.
        out_path: Write the result JSON here.
        command: Command recorded in the result.

    Returns:
        ``{"summary", "reference", "margin", "evaluated": [...]}`` plus provenance;
        each evaluated set has ``n``, ``share_outside``, ``share_by_rule`` and
        ``share_feature_outside_plain_range``.

    Raises:
        FileNotFoundError: If a prepared dataset or the split is missing.
    """
    root = Path(prepared_root)
    reference = PreparedDataset.load(root / dataset)
    store = reference.graphs()
    parts = load_split(reference.out_dir / "splits" / subset / split)
    training = _graphs(store, parts.train)
    domain = TrainingDomain.of_graphs(training)
    names = reference.manifest["global_features"]
    test = _graphs(store, parts.test)
    evaluated = [_evaluate(f"{dataset} {split} test part", dataset, domain, test, names)]
    for other in others:
        other_store = PreparedDataset.load(root / other).graphs()
        graphs = other_store.graphs_of(other_store.ids)
        evaluated.append(_evaluate(f"{other} (all)", other, domain, graphs, names))
    summary = "; ".join(
        f"{entry['name']}: {100 * entry['share_outside']:.1f} % of {entry['n']:,} outside"
        for entry in evaluated
    )
    result = {
        "summary": f"domain of the {dataset} {split} training part ({len(training):,} "
        f"structures): {summary}",
        "reference": {
            "dataset": dataset,
            "subset": subset,
            "split": split,
            "n_train": len(training),
            "elements": len(domain.elements),
            "sites": [domain.min_sites, domain.max_sites],
            "perovskite_share": domain.perovskite_share,
        },
        "margin": RANGE_MARGIN,
        "evaluated": evaluated,
        **run_info(command),
    }
    if out_path:
        write_json(Path(out_path), result)
    return result
