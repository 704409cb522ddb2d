"""Predict a property for CIF files with a saved model, with the top importance coefficients.

Each file is handled on its own: a file that cannot be read, parsed or
featurized gets an error entry and the others are still predicted.
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

_SPECS = {spec.name: spec for spec in GLOBAL_FEATURES}


@dataclass
class Prediction:
    """Outcome for one input file.

    Attributes:
        path: The input file.
        target: Predicted property name.
        unit: Its unit.
        value: The prediction (``None`` when ``error`` is set).
        formula: Reduced formula of the structure.
        top_features: The largest global importance coefficients:
            ``{"name", "label", "unit", "value", "importance"}`` each.
        error: Why the file could not be predicted (``""`` on success).
    """

    path: str
    target: str
    unit: str
    value: float | None = None
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


def predict_files(
    model_dir: str | os.PathLike[str], paths: Sequence[str | os.PathLike[str]], *, top_k: int = 5
) -> list[Prediction]:
    """Predict every file with the saved model in ``model_dir``.

    Args:
        model_dir: A model folder (``<run>/model``) written by training.
        paths: CIF files.
        top_k: Number of global features with the largest ICs to report.

    Returns:
        One :class:`Prediction` per path, in order.

    Raises:
        FileNotFoundError: If ``model_dir`` is not a saved model.
    """
    config, stored = read_model_config(model_dir)
    metadata = stored.get("metadata", {})
    neighbors = NeighborConfig(**metadata.get("neighbors", {}))
    expected = featurizer_key(neighbors)
    model = load_model(model_dir, expected_catalog_version=expected)
    target = str(metadata.get("target", "target"))
    unit = str(metadata.get("unit", ""))
    names = config.global_feature_names
    results = []
    for raw_path in paths:
        path = Path(raw_path)
        result = Prediction(str(path), target, unit)
        try:
            structure = _load_structure(path)
            arrays = build_graph_arrays(structure, neighbors)
            with torch.no_grad():
                data = to_data(arrays, graph_id=path.stem)
                value = model.predict(data)
                _, ic = model(data, return_ic=True)
            result.value = float(value.reshape(-1)[0])
            result.formula = structure.composition.reduced_formula
            if ic["global_ic"] is not None:
                coefficients = ic["global_ic"].reshape(-1).numpy()
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
        lines.append(f"{r.path}: {r.formula} {r.target} = {r.value:.4g} {r.unit}")
        for f in r.top_features:
            lines.append(
                f"    IC {f['importance']:.3f}  {f['name']} = {f['value']:.4g} {f['unit']}"
                f"  ({f['label']})"
            )
    return "\n".join(lines)


def predictions_as_json(results: Sequence[Prediction]) -> list[dict[str, Any]]:
    """JSON-ready dicts."""
    return [asdict(r) for r in results]
