"""Predict a property for CIF files with a saved model or ensemble, with the top ICs.

The model is a saved model folder, a run folder (its best model) or an
ensemble folder (:mod:`sagatsr.train.ensemble`); an ensemble's prediction is
its members' mean, with the calibrated half-width of the 68 % interval as the
uncertainty, and its importance coefficients are the members' mean. Each file
is handled on its own: a file that cannot be read, parsed or featurized gets an
error entry and the others are still predicted.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sagatsr.features import GLOBAL_FEATURES
from sagatsr.graphs.build import build_graph_arrays, featurizer_key, to_data
from sagatsr.graphs.neighbors import NeighborConfig
from sagatsr.model import load_model, read_model_config
from sagatsr.train.ensemble import LoadedEnsemble, ensemble_members, is_ensemble
from sagatsr.train.run import Run

_SPECS = {spec.name: spec for spec in GLOBAL_FEATURES}


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
        error: Why the file could not be predicted (``""`` on success).
    """

    path: str
    target: str
    unit: str
    value: float | None = None
    uncertainty: float | None = None
    formula: str = ""
    top_features: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""


def _load_structure(path: Path) -> Any:
    from pymatgen.core import Structure

    if not path.is_file():
        raise FileNotFoundError("no such file")
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        raise ValueError("empty file")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        structure = Structure.from_str(text, fmt="cif")
    if not structure.is_ordered:
        raise ValueError("disordered structure (partial occupancies) is not supported")
    return structure


class _Predictor:
    """The models behind a folder: one saved model, or an ensemble's members."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        path = Path(folder)
        ensemble = is_ensemble(path)
        model_dir = Run(path).model_dir if Run(path).has_model() else path
        if ensemble:
            metadata = ensemble_members(path)[0].metadata()
        else:
            metadata = read_model_config(model_dir)[1].get("metadata", {})
        self.neighbors = NeighborConfig(**metadata.get("neighbors", {}))
        expected = featurizer_key(self.neighbors)
        self.ensemble = LoadedEnsemble.load(path, expected) if ensemble else None
        self.models = (
            self.ensemble.models
            if self.ensemble
            else [load_model(model_dir, expected_catalog_version=expected)]
        )
        self.target = str(metadata.get("target", "target"))
        self.unit = str(metadata.get("unit", ""))
        self.names = self.models[0].config.global_feature_names

    @torch.no_grad()
    def __call__(self, data: Any) -> tuple[float, float | None, np.ndarray | None]:
        """Value, uncertainty (ensembles) and mean global ICs ``(F,)`` of one graph."""
        if self.ensemble is not None:
            mean, _, half_width = self.ensemble.predict(data)
            value, uncertainty = float(mean[0]), float(half_width[0])
        else:
            value, uncertainty = float(self.models[0].predict(data).reshape(-1)[0]), None
        ics = [model(data, return_ic=True)[1]["global_ic"] for model in self.models]
        if any(ic is None for ic in ics):
            return value, uncertainty, None
        return value, uncertainty, torch.stack(ics).mean(0).reshape(-1).numpy()


def predict_files(
    model_dir: str | os.PathLike[str], paths: Sequence[str | os.PathLike[str]], *, top_k: int = 5
) -> list[Prediction]:
    """Predict every file with the saved model or ensemble in ``model_dir``.

    Args:
        model_dir: A model folder (``<run>/model``), a run folder or an ensemble folder.
        paths: CIF files.
        top_k: Number of global features with the largest ICs to report.

    Returns:
        One :class:`Prediction` per path, in order.

    Raises:
        FileNotFoundError: If ``model_dir`` holds no saved model or ensemble.
        ValueError: If a model was trained on other features than this version builds.
    """
    predictor = _Predictor(model_dir)
    names = predictor.names
    results = []
    for raw_path in paths:
        path = Path(raw_path)
        result = Prediction(str(path), predictor.target, predictor.unit)
        try:
            structure = _load_structure(path)
            arrays = build_graph_arrays(structure, predictor.neighbors)
            value, uncertainty, coefficients = predictor(to_data(arrays, graph_id=path.stem))
            result.value, result.uncertainty = value, uncertainty
            result.formula = structure.composition.reduced_formula
            if coefficients is not None:
                for index in np.argsort(-coefficients)[:top_k]:
                    spec = _SPECS.get(names[index]) if names else None
                    result.top_features.append(
                        {
                            "name": names[index] if names else str(index),
                            "label": spec.label if spec else "",
                            "unit": spec.unit if spec else "",
                            "value": float(arrays.global_features[index]),
                            "importance": float(coefficients[index]),
                        }
                    )
        except Exception as error:  # one bad file must not stop the others
            result.error = f"{type(error).__name__}: {error}"
        results.append(result)
    return results


def format_predictions(results: Sequence[Prediction]) -> str:
    """Human-readable lines: value with unit, then the top features."""
    lines = []
    for r in results:
        if r.error:
            lines.append(f"{r.path}: ERROR {r.error}")
            continue
        spread = "" if r.uncertainty is None else f" +- {r.uncertainty:.2g}"
        lines.append(f"{r.path}: {r.formula} {r.target} = {r.value:.4g}{spread} {r.unit}")
        for f in r.top_features:
            lines.append(
                f"    IC {f['importance']:.3f}  {f['name']} = {f['value']:.4g} {f['unit']}"
                f"  ({f['label']})"
            )
    return "\n".join(lines)


def predictions_as_json(results: Sequence[Prediction]) -> list[dict[str, Any]]:
    """JSON-ready dicts."""
    return [asdict(r) for r in results]
