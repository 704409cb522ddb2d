"""SA-GAT network: self-adaptable encoding, graph attention, readout, save/load.

Public API::

    from sagatsr.model import ModelConfig, SAGAT, fit_scalers, save_model, load_model

    model = SAGAT(ModelConfig(n_node_features=30, n_global_features=200,
                              catalog_version="..."))
    fit_scalers(model, train_loader)             # raw features in, scaled inside
    pred, ic = model(batch, return_ic=True)      # (B, T), {"node_ic", "global_ic"}
    model.set_target_stats(mean, std)            # so predict() is in physical units
    save_model(model, "models/run1")
    model = load_model("models/run1", expected_catalog_version="...")

The names are imported on first use, so that ``sagatsr.model.config`` (plain
dataclasses) loads without torch, e.g. for the command line's help.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sagatsr.model.config import ModelConfig
    from sagatsr.model.network import SAGAT
    from sagatsr.model.normalization import FeatureScaler, fit_scalers
    from sagatsr.model.persistence import MODEL_VERSION, load_model, read_model_config, save_model
    from sagatsr.model.sae import SelfAdaptableEncoding

_EXPORTS = {
    "MODEL_VERSION": "sagatsr.model.persistence",
    "SAGAT": "sagatsr.model.network",
    "FeatureScaler": "sagatsr.model.normalization",
    "ModelConfig": "sagatsr.model.config",
    "SelfAdaptableEncoding": "sagatsr.model.sae",
    "fit_scalers": "sagatsr.model.normalization",
    "load_model": "sagatsr.model.persistence",
    "read_model_config": "sagatsr.model.persistence",
    "save_model": "sagatsr.model.persistence",
}

__all__ = [
    "MODEL_VERSION",
    "SAGAT",
    "FeatureScaler",
    "ModelConfig",
    "SelfAdaptableEncoding",
    "fit_scalers",
    "load_model",
    "read_model_config",
    "save_model",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sagatsr.model' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
