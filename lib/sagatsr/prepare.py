"""Prepare one dataset end to end: validate, assign roles, select subsets, build graphs, split.

Output folder layout (written to a temporary folder and moved into place only
when complete, so a failed run never leaves a half-prepared dataset)::

    <out_dir>/
      manifest.json            dataset, targets with units, counts, featurizer, timings
      records.csv              id, targets, metadata, perovskite flag, subset columns
      validation.csv           every problem found (id, origin, kind, action, detail)
      validation_summary.json  counts per kind and action, skipped ids
      subsets.json             ids of every subset
      subset_exclusions.csv    why each excluded id is not in a subset
      graph_failures.csv       ids whose graph could not be built, with the reason
      graphs.npz               the crystal graphs (sagatsr.graphs.store)
      splits/<subset>/<split>/{train,val,test}.txt
"""

from __future__ import annotations

import csv
import itertools
import json
import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sagatsr.config import mirror_root
from sagatsr.data.records import TargetSpec, reduced_formula
from sagatsr.data.registry import DATASETS, DatasetSpec, get_dataset, open_source, user_dataset
from sagatsr.data.roles import SiteRoles
from sagatsr.data.splits import Split, matbench_splits, random_split, save_split
from sagatsr.data.subsets import SUBSET_RULES, select_subset
from sagatsr.data.validation import LoadResult, load_records
from sagatsr.features import GLOBAL_FEATURES, unsupported_elements
from sagatsr.graphs.arrays import GraphArrays, featurizer_key
from sagatsr.graphs.batch_build import build_graphs
from sagatsr.graphs.cache import GraphCache
from sagatsr.graphs.neighbors import NeighborConfig
from sagatsr.graphs.store import GraphStore, read_store_ids, save_graph_store
from sagatsr.io_utils import atomic_open, write_json
from sagatsr.provenance import run_info
from sagatsr.sr.units import parse_unit

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
GRAPH_STORE_FILE = "graphs.npz"


@dataclass
class PreparedDataset:
    """A prepared dataset folder and its manifest.

    Attributes:
        out_dir: The folder.
        manifest: Parsed ``manifest.json``.
    """

    out_dir: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    _graph_store: GraphStore | None = field(default=None, init=False, repr=False, compare=False)
    _records: pd.DataFrame | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def load(cls, out_dir: str | os.PathLike[str]) -> PreparedDataset:
        """Open a prepared folder.

        Raises:
            FileNotFoundError: If the folder has no manifest (not prepared).
        """
        folder = Path(out_dir)
        path = folder / MANIFEST
        if not path.is_file():
            raise FileNotFoundError(f"{folder} is not a prepared dataset (no {MANIFEST})")
        return cls(folder, json.loads(path.read_text(encoding="utf-8")))

    @property
    def name(self) -> str:
        """Dataset name."""
        return str(self.manifest["dataset"])

    @property
    def neighbors(self) -> NeighborConfig:
        """The neighbour settings the graphs were built with."""
        return NeighborConfig(**self.manifest.get("neighbors", {}))

    def records(self) -> pd.DataFrame:
        """``records.csv`` as a DataFrame indexed by id (a copy; the file is read once)."""
        if self._records is None:
            self._records = pd.read_csv(self.out_dir / "records.csv", index_col="id")
        return self._records.copy()

    @property
    def graph_store_path(self) -> Path:
        """``graphs.npz``."""
        return self.out_dir / GRAPH_STORE_FILE

    def graphs(self) -> GraphStore:
        """The graph store, read on the first call and kept for the next ones."""
        if self._graph_store is None:
            self._graph_store = GraphStore(self.graph_store_path)
        return self._graph_store

    def graph_ids(self) -> list[str]:
        """The ids that have a graph, without reading the graphs."""
        return read_store_ids(self.graph_store_path)

    def subset_ids(self, subset: str) -> list[str]:
        """Ids of ``subset`` that have a graph.

        Raises:
            KeyError: If the dataset has no such subset; the message lists them.
        """
        subsets = json.loads((self.out_dir / "subsets.json").read_text(encoding="utf-8"))
        if subset not in subsets:
            raise KeyError(f"{self.name} has no subset {subset!r} (has: {', '.join(subsets)})")
        return list(subsets[subset])

    def validation_table(self) -> pd.DataFrame:
        """Number of problems per kind and action."""
        issues = self.validation_issues()
        if issues.empty:
            return pd.DataFrame(columns=["kind", "action", "count"])
        return issues.groupby(["kind", "action"]).size().rename("count").reset_index()

    def validation_issues(self) -> pd.DataFrame:
        """Every problem validation found (one row each)."""
        return pd.read_csv(self.out_dir / "validation.csv", dtype={"id": str})

    def subset_table(self) -> pd.DataFrame:
        """Size of every subset."""
        counts = self.manifest["subset_counts"]
        return pd.DataFrame({"subset": list(counts), "structures": list(counts.values())})

    def split_table(self) -> pd.DataFrame:
        """Train / validation / test sizes of every saved split."""
        rows = []
        for subset, splits in self.manifest["splits"].items():
            for name, sizes in splits.items():
                rows.append({"subset": subset, "split": name, **sizes})
        return pd.DataFrame(rows)

    def global_feature_frame(self, subset: str = "all") -> pd.DataFrame:
        """Raw global features of a subset, one row per structure, named columns."""
        store = self.graphs()
        ids = [i for i in self.subset_ids(subset) if i in store]
        matrix = store.global_features[store.index_of(ids)]
        return pd.DataFrame(
            matrix, index=pd.Index(ids, name="id"), columns=self.manifest["global_features"]
        )

    def describe(self) -> str:
        """A few lines for logs and notebooks."""
        m = self.manifest
        subsets = ", ".join(f"{k}: {v}" for k, v in m["subset_counts"].items())
        return (
            f"{m['dataset']}: {m['n_entries']} entries read, {m['n_records']} valid records, "
            f"{m['n_skipped']} skipped by validation, {m['n_graphs']} graphs "
            f"({m['n_graph_failures']} failed)\n"
            f"subsets: {subsets}\n"
            f"graphs: {m['graph_seconds']:.1f} s ({m['n_graphs_from_cache']} from cache); "
            f"total {m['seconds']:.1f} s" + self._problems_line()
        )

    def _problems_line(self) -> str:
        """What validation and graph building flagged (each case's file), and empty split parts."""
        table = self.validation_table()
        lines = ""
        if not table.empty:
            counts = ", ".join(
                f"{row.count} {row.kind} ({row.action})" for row in table.itertuples(index=False)
            )
            lines += f"\nvalidation: {counts}; each in {self.out_dir / 'validation.csv'}"
        for split, parts in self.manifest.get("splits", {}).get("all", {}).items():
            names = ("train", "val", "test")
            empty = [part for part in names if not parts.get(part)]
            if empty:
                sizes = ", ".join(f"{part} {parts.get(part, 0)}" for part in names)
                lines += (
                    f"\nsplit all/{split} has no {' or '.join(empty)} structures ({sizes}): "
                    "training needs train and validation structures; add structures or give "
                    "the parts with --split-column"
                )
        if self.manifest["n_graph_failures"]:
            lines += (
                f"\ngraph failures: {self.manifest['n_graph_failures']}; each in "
                f"{self.out_dir / 'graph_failures.csv'}"
            )
        return lines


def _spec(dataset: str | DatasetSpec) -> DatasetSpec:
    return dataset if isinstance(dataset, DatasetSpec) else get_dataset(dataset)


def target_specs(options: Sequence[str]) -> list[TargetSpec]:
    """Targets of a user's dataset from ``COLUMN[:UNIT]`` options.

    The unit is checked by the project's unit parser (:func:`sagatsr.sr.units.parse_unit`);
    a target given without one is dimensionless, with a warning.

    Args:
        options: E.g. ``["band_gap:eV", "formation_energy_per_atom:eV/atom"]``.

    Returns:
        One spec per option (no plausible-range check: the unit says nothing about it).

    Raises:
        ValueError: For an empty column name, a repeated target or an unknown unit.
    """
    specs: list[TargetSpec] = []
    for option in options:
        column, _, unit = option.partition(":")
        column, unit = column.strip(), unit.strip()
        if not column:
            raise ValueError(f"target {option!r} has no column name (COLUMN[:UNIT])")
        if column in {t.name for t in specs}:
            raise ValueError(f"target {column!r} is given twice")
        if unit:
            try:
                parse_unit(unit)
            except ValueError as error:
                raise ValueError(
                    f"target {column!r}: unit {unit!r} is not understood ({error})"
                ) from None
        else:
            logger.warning("target %s has no unit (COLUMN:UNIT); treated as dimensionless", column)
            unit = "1"
        specs.append(TargetSpec(column, unit, f"user target {column}"))
    return specs


def dataset_spec(
    dataset: str,
    *,
    name: str = "",
    targets: Sequence[str] | str = (),
    id_column: str = "id",
    cif_column: str = "cif",
    labels: str = "",
    split_column: str = "",
    structure_file: str = "",
) -> str | DatasetSpec:
    """A registered dataset's name, or the spec of a user's data, from flat options.

    What ``sagatsr prepare`` and notebook 01 both call.

    Args:
        dataset: A registered dataset name, or the path of a user's data.
        name: The user dataset's name.
        targets: ``COLUMN[:UNIT]`` options (a list, or one comma-separated string).
        id_column: Id column.
        cif_column: Column of CIF text (CSV, JSON).
        labels: Labels CSV of a folder or zip of CIF files.
        split_column: Column of train/val/test values (empty: random split).
        structure_file: The structure file's name inside each calculation folder of
            a folder or zip (``CONTCAR``; empty: files named by id).

    Returns:
        ``dataset`` itself when it is registered, else a user dataset spec.

    Raises:
        ValueError: For a user's path without a name or a target, or an
            unknown name that is not a path either.
    """
    if dataset in DATASETS:
        return dataset
    options = [t for t in (targets.split(",") if isinstance(targets, str) else targets) if t]
    if not Path(dataset).exists() and not options:
        raise ValueError(
            f"unknown dataset {dataset!r}; known datasets: {', '.join(DATASETS)} "
            "(or give the path of your own data)"
        )
    if not name or not options:
        raise ValueError(
            f"{dataset} is not a registered dataset: to prepare your own data give a name and "
            "at least one target COLUMN[:UNIT]"
        )
    return user_dataset(
        dataset,
        name=name,
        targets=target_specs(options),
        id_column=id_column,
        cif_column=cif_column,
        labels=labels or None,
        split_column=split_column,
        structure_file=structure_file,
    )


def read_records(
    dataset: str | DatasetSpec,
    *,
    raw_root: str | os.PathLike[str] | None,
    max_entries: int = 0,
    workers: int = 1,
) -> LoadResult:
    """Read and validate a dataset (the first step of :func:`prepare_dataset`).

    Args:
        dataset: A registered dataset name, or the spec of a user's dataset
            (:func:`sagatsr.data.registry.user_dataset`).
        raw_root: Mirror-layout folder; ``None`` uses ``$SAGATSR_DATA_MIRROR`` or,
            when that is unset too, the public download (registered datasets only).
        max_entries: Read only the first entries (0 = all).
        workers: Processes used to parse CIF text.

    Returns:
        The valid records and the validation report.
    """
    spec = _spec(dataset)
    name = spec.name
    if name in DATASETS:
        source = open_source(name, mirror_root(raw_root))
    else:
        source = spec.open_mirror(Path())
    entries = source.iter_entries()
    if max_entries > 0:
        entries = itertools.islice(entries, max_entries)
    return load_records(
        entries,
        spec.targets,
        dataset=name,
        unsupported=unsupported_elements,
        metadata_types=spec.metadata_types,
        workers=workers,
    )


def check_replaceable(out_dir: str | os.PathLike[str]) -> None:
    """Refuse an output folder that preparing would destroy.

    ``prepare_dataset`` replaces its output folder when it completes. That is safe
    for a folder it wrote before (it holds a manifest) or an empty one; any other
    existing path may be the user's data (``--out data``), so it is refused before
    anything is read.

    Raises:
        FileExistsError: If ``out_dir`` is a file, or a non-empty folder that is
            not a prepared dataset.
    """
    folder = Path(out_dir)
    if folder.is_dir():
        if (folder / MANIFEST).is_file() or not any(folder.iterdir()):
            return
        raise FileExistsError(
            f"{folder} exists and is not a prepared dataset (no {MANIFEST}); preparing "
            "replaces its output folder, so give a new or empty folder, or remove this one"
        )
    if folder.exists() or folder.is_symlink():
        raise FileExistsError(f"{folder} is a file, not a folder: give a folder for the output")


def prepare_dataset(
    dataset: str | DatasetSpec,
    *,
    raw_root: str | os.PathLike[str] | None,
    out_dir: str | os.PathLike[str],
    cache_path: str | os.PathLike[str] | None = None,
    neighbors: NeighborConfig | None = None,
    seed: int = 0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    workers: int = 1,
    max_entries: int = 0,
    metrics_path: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> PreparedDataset:
    """Prepare dataset ``name`` into ``out_dir``.

    Args:
        dataset: A registered dataset name (see
            :func:`sagatsr.data.registry.list_datasets`) or the spec of a user's
            dataset (:func:`sagatsr.data.registry.user_dataset`).
        raw_root: Mirror-layout folder; ``None`` uses ``$SAGATSR_DATA_MIRROR`` or,
            when that is unset too, the public download.
        out_dir: Output folder (replaced when the run completes): new, empty, or
            a dataset prepared before (see :func:`check_replaceable`).
        cache_path: SQLite graph cache shared between runs; ``None`` = no cache.
        neighbors: Graph neighbour rules.
        seed: Seed of the random splits and validation slices.
        val_fraction: Validation share (of the training part for Matbench folds).
        test_fraction: Test share of random splits.
        workers: Processes used to build graphs.
        max_entries: Read only the first ``max_entries`` entries (0 = all); for
            smoke tests and the quick profile.
        metrics_path: Also write the headline counts to this JSON file.
        progress: Show progress bars.

    Returns:
        The prepared dataset.

    Raises:
        FileExistsError: If ``out_dir`` holds something else (before any reading).
    """
    started = time.perf_counter()
    check_replaceable(out_dir)
    neighbors = neighbors or NeighborConfig()
    spec = _spec(dataset)
    name = spec.name
    loaded = read_records(spec, raw_root=raw_root, max_entries=max_entries, workers=workers)
    records = loaded.records
    summary = loaded.report.summary()
    if summary["n_entries"] == 0:
        raise ValueError(f"{name}: the source holds no entries")
    if not records:
        issues = loaded.report.issues
        first = f"; the first: {issues[0].origin}: {issues[0].kind}, {issues[0].detail}"
        raise ValueError(
            f"{name}: none of the {summary['n_entries']} entries is valid "
            f"(issues: {summary['issues']}{first if issues else ''}); nothing to prepare"
        )

    _check_split_column(spec, records)
    cache = GraphCache(cache_path) if cache_path else None
    try:
        built = build_graphs(
            [(r.id, r.structure) for r in records],
            neighbors,
            cache=cache,
            workers=workers,
            on_error="skip",
            progress=progress,
        )
    finally:
        if cache is not None:
            cache.close()

    subset_ids, exclusions = _select_subsets(spec, records, built.graphs)
    splits = _make_splits(spec, records, subset_ids, seed, val_fraction, test_fraction)

    final = Path(out_dir)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        loaded.report.write(staging)
        _write_records(staging / "records.csv", records, spec.targets, built.graphs, subset_ids)
        write_json(staging / "subsets.json", subset_ids)
        _write_rows(staging / "subset_exclusions.csv", ["subset", "id", "reason"], exclusions)
        _write_rows(staging / "graph_failures.csv", ["id", "reason"], built.failures)
        save_graph_store(
            staging / GRAPH_STORE_FILE, built.graphs, featurizer=featurizer_key(neighbors)
        )
        split_sizes: dict[str, dict[str, dict[str, int]]] = {}
        for subset, subset_splits in splits.items():
            for split in subset_splits:
                save_split(split, staging / "splits" / subset / split.name)
                split_sizes.setdefault(subset, {})[split.name] = {
                    "train": len(split.train),
                    "val": len(split.val),
                    "test": len(split.test),
                }
        manifest = {
            "dataset": name,
            "description": spec.description,
            "targets": [
                {"name": t.name, "unit": t.unit, "description": t.description} for t in spec.targets
            ],
            "source": str(raw_root or mirror_root(None) or "public download"),
            "n_entries": summary["n_entries"],
            "n_records": len(records),
            "n_skipped": summary["n_entries"] - len(records),
            "n_graphs": len(built.graphs),
            "n_graph_failures": len(built.failures),
            "n_graphs_from_cache": built.n_from_cache,
            "graph_seconds": round(built.seconds, 3),
            "featurizer": featurizer_key(neighbors),
            "neighbors": asdict(neighbors),
            "global_features": [f.name for f in GLOBAL_FEATURES],
            "subset_counts": {k: len(v) for k, v in subset_ids.items()},
            "splits": split_sizes,
            "seed": seed,
            "max_entries": max_entries,
            "seconds": round(time.perf_counter() - started, 3),
        }
        write_json(staging / MANIFEST, manifest)
        check_replaceable(final)  # nothing else appeared there while preparing
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if metrics_path:
        keys = (
            "n_entries",
            "n_records",
            "n_skipped",
            "n_graphs",
            "n_graph_failures",
            "subset_counts",
            "graph_seconds",
            "seconds",
        )
        summary_line = (
            f"{manifest['n_records']} of {manifest['n_entries']} entries valid, "
            f"{manifest['n_graphs']} graphs in {manifest['graph_seconds']:.1f} s"
        )
        write_json(
            metrics_path,
            {
                "summary": summary_line,
                "dataset": name,
                **{k: manifest[k] for k in keys},
                **run_info(f"sagatsr.prepare.prepare_dataset({name!r})"),
            },
        )
    return PreparedDataset(final, manifest)


def _roles_from_graph(arrays: GraphArrays) -> SiteRoles:
    n = arrays.roles.shape[0]
    return SiteRoles(
        roles=arrays.roles,
        oxidation_states=np.full(n, math.nan),
        coordination=np.zeros(n, dtype=np.int64),
        method="perovskite" if arrays.is_perovskite else "generic",
    )


def _select_subsets(
    spec: DatasetSpec, records: list, graphs: dict[str, GraphArrays]
) -> tuple[dict[str, list[str]], list[tuple[str, str, str]]]:
    with_graph = [r for r in records if r.id in graphs]
    items = [(r.id, r.structure, _roles_from_graph(graphs[r.id]), r.metadata) for r in with_graph]
    subset_ids: dict[str, list[str]] = {}
    exclusions: list[tuple[str, str, str]] = []
    for subset in SUBSET_RULES[spec.subset_rule]:
        selection = select_subset(spec.name, subset, items, rule=spec.subset_rule)
        subset_ids[subset] = list(selection.ids)
        exclusions.extend((subset, i, reason) for i, reason in selection.excluded.items())
    return subset_ids, exclusions


def _matbench_folds(
    spec: DatasetSpec, ids: list[str], records: dict, seed: int, val: float, test: float
) -> list[Split]:
    folds = [int(records[i].metadata["matbench_test_fold"]) for i in ids]
    return matbench_splits(ids, folds, val_fraction=val, seed=seed)


def _random(
    spec: DatasetSpec, ids: list[str], records: dict, seed: int, val: float, test: float
) -> list[Split]:
    return [random_split(ids, fractions=(1.0 - val - test, val, test), seed=seed)]


def _check_split_column(spec: DatasetSpec, records: Sequence[Any]) -> None:
    """Raise before any graph is built when the split column is in no entry.

    Raises:
        ValueError: Naming the column and the columns the entries have.
    """
    if spec.split_rule != "column" or any(spec.split_column in r.metadata for r in records):
        return
    columns = sorted({name for r in records for name in r.metadata})
    raise ValueError(
        f"{spec.name}: no entry has the split column {spec.split_column!r} "
        f"(their other columns: {', '.join(columns) or 'none'})"
    )


def _from_column(
    spec: DatasetSpec, ids: list[str], records: dict, seed: int, val: float, test: float
) -> list[Split]:
    parts: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for entry_id in ids:
        value = str(records[entry_id].metadata.get(spec.split_column, "")).strip().lower()
        if value not in parts:
            raise ValueError(
                f"{spec.name}: entry {entry_id!r} has {spec.split_column}={value!r}; the split "
                "column must hold train, val or test"
            )
        parts[value].append(entry_id)
    return [
        Split(spec.split_column, tuple(parts["train"]), tuple(parts["val"]), tuple(parts["test"]))
    ]


#: How each split rule of :class:`~sagatsr.data.registry.DatasetSpec` makes its splits.
_SPLIT_MAKERS = {"matbench_folds": _matbench_folds, "random": _random, "column": _from_column}


def _make_splits(
    spec: DatasetSpec,
    records: list,
    subset_ids: dict[str, list[str]],
    seed: int,
    val_fraction: float,
    test_fraction: float,
) -> dict[str, list[Split]]:
    by_id = {r.id: r for r in records}
    make = _SPLIT_MAKERS[spec.split_rule]
    return {
        subset: make(spec, ids, by_id, seed, val_fraction, test_fraction)
        for subset, ids in subset_ids.items()
        if ids
    }


def _write_records(
    path: Path,
    records: list,
    targets: tuple,
    graphs: dict[str, GraphArrays],
    subsets: dict[str, list[str]],
) -> None:
    membership = {subset: set(ids) for subset, ids in subsets.items()}
    rows = []
    for record in records:
        row: dict[str, Any] = {
            "id": record.id,
            "formula": reduced_formula(record.structure),
        }
        row.update({t.name: record.targets.get(t.name, math.nan) for t in targets})
        row.update({f"meta_{k}": v for k, v in record.metadata.items() if k != "formula"})
        row["has_graph"] = record.id in graphs
        row["is_perovskite"] = (
            bool(graphs[record.id].is_perovskite) if record.id in graphs else False
        )
        row.update({f"in_{s}": record.id in ids for s, ids in membership.items()})
        rows.append(row)
    with atomic_open(path, "w", newline="") as handle:
        pd.DataFrame(rows).to_csv(handle, index=False)


def _write_rows(path: Path, header: list[str], rows: list) -> None:
    with atomic_open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
