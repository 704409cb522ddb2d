"""Predict a property for CIF or POSCAR files with a saved model or ensemble, with top ICs.

The model is a saved model folder, a run folder (its best model) or an
ensemble folder (:mod:`sagatsr.train.ensemble`); an ensemble's prediction is
its members' mean, with the calibrated half-width of the 68 % interval as the
uncertainty, and its importance coefficients are the members' mean.

Inputs are files, folders (their CIF and POSCAR files) or glob patterns. Files are
parsed and their graphs built by a pool of worker processes
(:mod:`sagatsr.cif_files`, the graph builder of ``sagatsr prepare``), then the
network runs in batches. Each file is handled on its own: a file that cannot be
read, parsed or featurized gets an error entry naming the reason, and the others
are still predicted. ``sagatsr predict`` starts the reading before this module
(and torch) is imported: :meth:`Predictor.predict_pending`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sagatsr.cif_files import PendingFiles, input_name
from sagatsr.features import GLOBAL_FEATURES
from sagatsr.graphs.arrays import GraphArrays, featurizer_key
from sagatsr.graphs.domain import TrainingDomain
from sagatsr.model import load_model, read_model_config
from sagatsr.model.structures import predict_members_with_ic
from sagatsr.sr.display import FORMULA_DIGITS, formula_text
from sagatsr.sr.formulas import EP, best_formula, evaluate_formula
from sagatsr.sr.units import format_quantity, with_unit
from sagatsr.train.ensemble import LoadedEnsemble, is_ensemble, model_dir_of
from sagatsr.train.run import Run

_SPECS = {spec.name: spec for spec in GLOBAL_FEATURES}


@dataclass
class Prediction:
    """Outcome for one input file.

    Attributes:
        path: The input file.
        target: Predicted property name.
        record: The record's id in a file of many structures (``""`` for a file of one).
        unit: Its unit.
        value: The prediction (``None`` when ``error`` is set).
        uncertainty: With an ensemble, the half-width of the calibrated 68 %
            interval around ``value`` (same unit); else ``None``.
        formula: Reduced formula of the structure.
        top_features: The largest global importance coefficients:
            ``{"name", "label", "unit", "value", "importance"}`` each.
        sr_formula: The run's best distilled formula (``sagatsr distill``), or ``""``.
        sr_value: Its value for this structure (same unit), or ``None``.
        outside_training_domain: Why the structure lies outside the model's
            training domain (:class:`~sagatsr.graphs.domain.TrainingDomain`; empty
            when it lies inside), or ``None`` for a model saved without one.
        error: Why the file could not be predicted (``""`` on success).
    """

    path: str
    target: str
    unit: str
    record: str = ""
    value: float | None = None
    uncertainty: float | None = None
    formula: str = ""
    top_features: list[dict[str, Any]] = field(default_factory=list)
    sr_formula: str = ""
    sr_value: float | None = None
    outside_training_domain: list[str] | None = None
    error: str = ""


class Predictor:
    """The models behind a folder (one saved model, or an ensemble's members), loaded once.

    Args:
        folder: A model folder, a run folder or an ensemble folder.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        path = Path(folder)
        ensemble = is_ensemble(path)
        model_dir = model_dir_of(path)
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
        domain = metadata.get("training_domain")
        self.domain = None if domain is None else TrainingDomain.from_dict(domain)
        run = Run(model_dir.parent)
        self.sr_formula = None if ensemble else best_formula(run.formulas())

    def __call__(
        self, graphs: list[GraphArrays], batch_size: int
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Values ``(N,)``, uncertainties ``(N,)`` (ensembles) and mean global ICs ``(N, F)``."""
        outputs = predict_members_with_ic(self.models, graphs, batch_size=batch_size)
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
        pending = PendingFiles(paths, self.neighbors, workers=workers)
        return self.predict_pending(pending, top_k=top_k, batch_size=batch_size)

    def predict_pending(
        self, pending: PendingFiles, *, top_k: int = 5, batch_size: int = 256
    ) -> list[Prediction]:
        """Predict files whose reading was started (:meth:`PendingFiles.for_model`).

        Raises:
            ValueError: If the files were read with other graph settings than this model's.
        """
        if pending.neighbors != self.neighbors:
            raise ValueError(
                f"the files were read with graph settings {pending.neighbors}, "
                f"but the model uses {self.neighbors}"
            )
        results: list[Prediction] = []
        built: dict[int, GraphArrays] = {}
        for index, (item, entry) in enumerate(pending.read()):
            result = Prediction(item.path, self.target, self.unit, record=item.record)
            result.error = item.error
            if entry is not None:
                result.formula, result.error = entry.formula, entry.error
                if entry.graph is not None:
                    built[index] = entry.graph
            results.append(result)
        ready = list(built)
        values, uncertainty, ics = self([built[i] for i in ready], batch_size)
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
            if self.domain is not None:
                result.outside_training_domain = self.domain.outside(built[index], names)
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
        paths: CIF or POSCAR files, folders of them or glob patterns.
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
            lines.append(f"{input_name(r.path, r.record)}: ERROR {r.error}")
            continue
        spread = "" if r.uncertainty is None else f" +- {r.uncertainty:.2g}"
        value = with_unit(f"{r.value:.4g}{spread}", r.unit)
        lines.append(f"{input_name(r.path, r.record)}: {r.formula} {r.target} = {value}")
        for reason in r.outside_training_domain or []:
            lines.append(f"    WARNING outside the training domain: {reason}")
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


#: Columns of :func:`write_predictions_csv`.
CSV_COLUMNS = (
    "path",
    "record",
    "formula",
    "target",
    "unit",
    "value",
    "uncertainty",
    "sr_value",
    "outside_training_domain",
    "error",
)


def write_predictions_csv(results: Sequence[Prediction], path: str | os.PathLike[str]) -> None:
    """One row per structure: :data:`CSV_COLUMNS` (empty cells for what a row lacks).

    ``outside_training_domain`` joins the reasons with ``"; "``; the file is written
    whole or not at all.
    """
    import csv

    from sagatsr.io_utils import atomic_open

    with atomic_open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for r in results:
            row = asdict(r)
            row["outside_training_domain"] = "; ".join(r.outside_training_domain or [])
            writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])


def predictions_as_json(results: Sequence[Prediction]) -> list[dict[str, Any]]:
    """JSON-ready dicts."""
    return [asdict(r) for r in results]
