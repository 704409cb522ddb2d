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
"""

from sagatsr.model.config import ModelConfig
from sagatsr.model.network import SAGAT
from sagatsr.model.normalization import FeatureScaler, fit_scalers
from sagatsr.model.persistence import MODEL_VERSION, load_model, read_model_config, save_model
from sagatsr.model.sae import SelfAdaptableEncoding

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
