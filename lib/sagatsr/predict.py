"""Predict a property for CIF files with a saved model or ensemble, with the top ICs.

The model is a saved model folder, a run folder (its best model) or an
ensemble folder (:mod:`sagatsr.train.ensemble`); an ensemble's prediction is
its members' mean, with the calibrated half-width of the 68 % interval as the
uncertainty, and its importance coefficients are the members' mean.

Inputs are files, folders (their ``*.cif`` files) or glob patterns. Files are
parsed and their graphs built by a pool of worker processes (the same graph
builder as ``sagatsr prepare``), then the network runs in batches. Each file is
handled on its own: a file that cannot be read, parsed or featurized gets an
error entry naming the reason, and the others are still predicted.
"""

from __future__ import annotations

import glob
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sagatsr.data.cif import read_cif
from sagatsr.data.records import reduced_formula
from sagatsr.data.user import FORMATS
from sagatsr.features import GLOBAL_FEATURES
from sagatsr.graphs.build import GraphArrays, build_graph_arrays, featurizer_key, to_data
from sagatsr.graphs.neighbors import NeighborConfig
from sagatsr.model import load_model, read_model_config
from sagatsr.model.structures import predict_graphs_with_ic
from sagatsr.sr.display import FORMULA_DIGITS, formula_text
from sagatsr.sr.formulas import EP, best_formula, evaluate_formula
from sagatsr.sr.units import format_quantity, with_unit
from sagatsr.train.ensemble import LoadedEnsemble, ensemble_members, is_ensemble
from sagatsr.train.run import Run

_SPECS = {spec.name: spec for spec in GLOBAL_FEATURES}
_GLOB_CHARACTERS = set("*?[")


@dataclass
class Prediction:
    """Outcome for one input file.

    Attributes:
        path: The input file.
        target: Predicted property name.
        unit: Its unit.
        value: The prediction (``None`` when ``error`` is set).
        uncertainty: With an ensemble, the half-width of the calibrated 68 %
            interval around ``value`` (same unit); else ``None``.
        formula: Reduced formula of the structure.
        top_features: The largest global importance coefficients:
            ``{"name", "label", "unit", "value", "importance"}`` each.
        sr_formula: The run's best distilled formula (``sagatsr distill``), or ``""``.
        sr_value: Its value for this structure (same unit), or ``None``.
        error: Why the file could not be predicted (``""`` on success).
    """

    path: str
    target: str
    unit: str
    value: float | None = None
    uncertainty: float | None = None
    formula: str = ""
    top_features: list[dict[str, Any]] = field(default_factory=list)
    sr_formula: str = ""
    sr_value: float | None = None
    error: str = ""


#: Files of many structures that `sagatsr prepare` reads (its user formats) and predict does not.
_DATASET_SUFFIXES = tuple(suffix for suffixes in FORMATS.values() for suffix in suffixes)
_TABLE_MESSAGE = (
    "is a {suffix} file of structures: predict reads CIF files (one structure each); "
    "prepare a table with `sagatsr prepare PATH --name NAME --target COLUMN`"
)


def expand_inputs(inputs: Sequence[str | os.PathLike[str]]) -> list[tuple[str, str]]:
    """Files to predict from files, folders and glob patterns, in order.

    Args:
        inputs: Paths of CIF files, folders (every ``*.cif`` inside, sorted) or
            glob patterns (every match, sorted).

    Returns:
        ``(path, error)`` pairs: ``error`` is ``""`` for a file to read, else why
        the input yields no file (a folder without CIF files, a pattern that
        matches nothing, a missing path).
    """
    out: list[tuple[str, str]] = []
    for raw in inputs:
        text = str(raw)
        path = Path(text)
        if path.is_dir():
            files = sorted(str(p) for p in path.glob("*.cif") if p.is_file())
            out.extend((f, "") for f in files)
            if not files:
                out.append((text, "is a folder with no .cif files"))
        elif path.exists() and path.name.lower().endswith(_DATASET_SUFFIXES):
            suffix = next(s for s in _DATASET_SUFFIXES if path.name.lower().endswith(s))
            out.append((text, _TABLE_MESSAGE.format(suffix=suffix)))
        elif path.exists():
            out.append((text, ""))
        elif _GLOB_CHARACTERS & set(text):
            matches = sorted(m for m in glob.glob(text) if Path(m).is_file())
            out.extend((m, "") for m in matches)
            if not matches:
                out.append((text, "the pattern matches no file"))
        else:
            out.append((text, "no such file"))
    return out


def _parse_cif(path: str) -> tuple[Any, str]:
    """``(structure, "")`` or ``(None, reason)`` for one CIF file."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        return None, f"cannot read the file ({error.strerror or error})"
    if not text.strip():
        return None, "empty file"
    try:
        structure = read_cif(text)
    except Exception as error:  # pymatgen raises anything from ValueError to ZeroDivisionError
        return None, f"truncated or unparsable CIF ({type(error).__name__}: {error})"
    if len(structure) == 0:
        return None, "the CIF holds no atoms"
    if not structure.is_ordered:
        return None, "disordered structure (partial occupancies) is not supported"
    return structure, ""


@dataclass
class FileGraph:
    """One CIF file read and turned into a graph.

    Attributes:
        formula: Reduced formula (``""`` when the file could not be parsed).
        graph: The graph arrays (``None`` when ``error`` is set).
        error: Why the file cannot be predicted (``""`` on success).
    """

    formula: str = ""
    graph: GraphArrays | None = None
    error: str = ""


def read_file(path: str, neighbors: NeighborConfig) -> FileGraph:
    """Parse one CIF file and build its graph (the builder of ``sagatsr prepare``)."""
    structure, error = _parse_cif(path)
    if error:
        return FileGraph(error=error)
    formula = reduced_formula(structure)
    try:
        graph = build_graph_arrays(structure, neighbors)
    except Exception as error:  # reported per file, never swallowed
        return FileGraph(formula, error=f"cannot build its graph ({type(error).__name__}: {error})")
    return FileGraph(formula, graph)


def _read_chunk(paths: list[str], neighbors: NeighborConfig) -> list[FileGraph]:
    return [read_file(path, neighbors) for path in paths]


def read_files(
    paths: Sequence[str], neighbors: NeighborConfig, *, workers: int = 1
) -> list[FileGraph]:
    """Parse CIF files and build their graphs, in worker processes when ``workers > 1``.

    Each worker parses and featurizes whole chunks of files and sends back only
    the graph arrays, so no structure object crosses a process boundary.

    Returns:
        One :class:`FileGraph` per path, in order.
    """
    if workers <= 1 or len(paths) < 64:
        return _read_chunk(list(paths), neighbors)
    size = max(16, len(paths) // (4 * workers))
    chunks = [list(paths[i : i + size]) for i in range(0, len(paths), size)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        outputs = pool.map(_read_chunk, chunks, [neighbors] * len(chunks))
        return [entry for chunk in outputs for entry in chunk]


class Predictor:
    """The models behind a folder (one saved model, or an ensemble's members), loaded once.

    Args:
        folder: A model folder, a run folder or an ensemble folder.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        path = Path(folder)
        ensemble = is_ensemble(path)
        if ensemble:
            model_dir = ensemble_members(path)[0].model_dir
        else:
            model_dir = Run(path).model_dir if Run(path).has_model() else path
        config, stored = read_model_config(model_dir)
        metadata = stored.get("metadata", {})
        self.neighbors = config.neighbors
        expected = featurizer_key(self.neighbors)
        self.ensemble = LoadedEnsemble.load(path, expected) if ensemble else None
        self.models = (
            self.ensemble.models
            if self.ensemble
            else [load_model(model_dir, expected_catalog_version=expected)]
        )
        self.target = str(metadata.get("target", "target"))
        self.unit = str(metadata.get("unit", ""))
        self.names = config.global_feature_names
        run = Run(model_dir.parent)
        self.sr_formula = None if ensemble else best_formula(run.formulas())

    def __call__(
        self, graphs: list[Any], batch_size: int
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Values ``(N,)``, uncertainties ``(N,)`` (ensembles) and mean global ICs ``(N, F)``."""
        outputs = [predict_graphs_with_ic(m, graphs, batch_size=batch_size) for m in self.models]
        values = np.stack([out[0][:, 0] for out in outputs])
        ics = None if outputs[0][1] is None else np.mean([out[1] for out in outputs], axis=0)
        if self.ensemble is None:
            return values[0], None, ics
        spread = values.std(axis=0, ddof=1)
        return values.mean(axis=0), self.ensemble.calibration.half_width(spread, 0.68), ics

    def predict_files(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        top_k: int = 5,
        workers: int = 1,
        batch_size: int = 256,
    ) -> list[Prediction]:
        """Predict files (see :func:`predict_files`)."""
        inputs = expand_inputs(paths)
        results = [Prediction(path, self.target, self.unit, error=e) for path, e in inputs]
        todo = [index for index, result in enumerate(results) if not result.error]
        read = read_files([results[i].path for i in todo], self.neighbors, workers=workers)
        built: dict[int, GraphArrays] = {}
        for index, entry in zip(todo, read, strict=True):
            results[index].formula = entry.formula
            results[index].error = entry.error
            if entry.graph is not None:
                built[index] = entry.graph
        ready = list(built)
        graphs = [to_data(built[i]) for i in ready]
        values, uncertainty, ics = self(graphs, batch_size)
        names = self.names
        formula_values = None
        if self.sr_formula is not None and ready:
            features = np.stack([built[i].global_features for i in ready])
            columns = {name: features[:, names.index(name)] for name in names}
            formula_values = evaluate_formula(self.sr_formula, {**columns, EP: values})
        for row, index in enumerate(ready):
            result = results[index]
            result.value = float(values[row])
            result.uncertainty = None if uncertainty is None else float(uncertainty[row])
            if formula_values is not None:
                result.sr_formula = self.sr_formula["expression"]
                result.sr_value = float(formula_values[row])
            if ics is None:
                continue
            features = built[index].global_features
            for feature in np.argsort(-ics[row])[:top_k]:
                spec = _SPECS.get(names[feature]) if names else None
                result.top_features.append(
                    {
                        "name": names[feature] if names else str(feature),
                        "label": spec.label if spec else "",
                        "unit": spec.unit if spec else "",
                        "value": float(features[feature]),
                        "importance": float(ics[row, feature]),
                    }
                )
        return results


def predict_files(
    model_dir: str | os.PathLike[str],
    paths: Sequence[str | os.PathLike[str]],
    *,
    top_k: int = 5,
    workers: int = 1,
    batch_size: int = 256,
) -> list[Prediction]:
    """Predict every file with the saved model or ensemble in ``model_dir``.

    Args:
        model_dir: A model folder (``<run>/model``), a run folder or an ensemble folder.
        paths: CIF files, folders of CIF files or glob patterns.
        top_k: Number of global features with the largest ICs to report.
        workers: Processes that parse the files and build their graphs.
        batch_size: Structures per forward pass.

    Returns:
        One :class:`Prediction` per file (and per input that yields none), in order.

    Raises:
        FileNotFoundError: If ``model_dir`` holds no saved model or ensemble.
        ValueError: If a model was trained on other features than this version builds.
    """
    return Predictor(model_dir).predict_files(
        paths, top_k=top_k, workers=workers, batch_size=batch_size
    )


def format_predictions(results: Sequence[Prediction], *, digits: int = FORMULA_DIGITS) -> str:
    """Human-readable lines: value with unit, then the distilled formula and the top features.

    Values are written with :func:`sagatsr.sr.units.format_quantity` (a pure number
    has no unit); the formula's constants are shown to ``digits`` significant digits
    (:func:`sagatsr.sr.display.formula_text`); ``results`` keep full precision.
    """
    lines = []
    for r in results:
        if r.error:
            lines.append(f"{r.path}: ERROR {r.error}")
            continue
        spread = "" if r.uncertainty is None else f" +- {r.uncertainty:.2g}"
        value = with_unit(f"{r.value:.4g}{spread}", r.unit)
        lines.append(f"{r.path}: {r.formula} {r.target} = {value}")
        if r.sr_value is not None:
            lines.append(
                f"    formula: {format_quantity(r.sr_value, r.unit)}"
                f"  ({r.target} = {formula_text(r.sr_formula, digits)})"
            )
        for f in r.top_features:
            lines.append(
                f"    IC {f['importance']:.3f}  {f['name']} = "
                f"{format_quantity(f['value'], f['unit'])}"
                f"  ({f['label']})"
            )
    return "\n".join(lines)


def predictions_as_json(results: Sequence[Prediction]) -> list[dict[str, Any]]:
    """JSON-ready dicts."""
    return [asdict(r) for r in results]
