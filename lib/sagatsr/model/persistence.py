"""Save and load a model as a folder: ``config.json`` (init args + versions) and ``state.pt``.

Reading a folder's configuration (:func:`read_model_config`) imports neither torch nor
the network, so a command can learn a model's graph settings before those libraries load.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sagatsr import __version__ as SAGATSR_VERSION  # noqa: N812
from sagatsr.io_utils import atomic_open, write_json
from sagatsr.model.config import PAPER_ENCODING, ModelConfig

if TYPE_CHECKING:
    import torch

    from sagatsr.model.network import SAGAT

#: Version of the network layout (module structure, parameter names, meaning
#: of buffers). Bump the major number when a saved ``state.pt`` of the old
#: layout can no longer be loaded into the new code. 1.1: the last attention
#: layer has no edge MLP (1.0 states load without those unused weights). 1.2: the
#: configuration holds every graph setting (max_neighbors, tie_tolerance), so a model
#: builds its own graphs; older configurations take them from their stored metadata. 1.3:
#: the configuration names its encoding variant (sae_vectors, sae_normalizer,
#: sae_score_init, sae_entropy_penalty, sae_score_lr_scale, feature_dropout); older
#: configurations get the paper's encoding (PAPER_ENCODING).
MODEL_VERSION = "1.3"

CONFIG_FILE = "config.json"
STATE_FILE = "state.pt"


def _major(version: str) -> str:
    return str(version).split(".", 1)[0]


def save_model(
    model: SAGAT, folder: str | os.PathLike[str], *, metadata: dict[str, Any] | None = None
) -> Path:
    """Write a model to ``folder`` (created if needed), each file atomically.

    Args:
        model: The network (its scalers fitted and target statistics set).
        folder: Destination folder.
        metadata: JSON-serialisable facts needed to use the model (targets and
            units, neighbour settings of the graphs, training data), stored in
            ``config.json`` under ``"metadata"``.

    Returns:
        The folder path.
    """
    import torch

    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    with atomic_open(path / STATE_FILE, "wb") as handle:
        torch.save(state, handle)
    write_json(
        path / CONFIG_FILE,
        {
            "model_version": MODEL_VERSION,
            "torch_version": torch.__version__,
            "sagatsr_version": SAGATSR_VERSION,
            "config": model.config.to_dict(),
            "metadata": metadata or {},
        },
    )
    return path


def read_model_config(folder: str | os.PathLike[str]) -> tuple[ModelConfig, dict[str, Any]]:
    """Read a saved model's config without loading its weights.

    Args:
        folder: A folder written by :func:`save_model`.

    Returns:
        ``(config, metadata)``; metadata holds the version strings and, under
        ``"metadata"``, what :func:`save_model` was given.

    Raises:
        FileNotFoundError: If the folder or one of its files is missing.
        ValueError: If the stored model version is incompatible with this code, or
            the config file is damaged (not JSON, no config, unknown settings).
    """
    path = Path(folder)
    missing = [name for name in (CONFIG_FILE, STATE_FILE) if not (path / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{path} is not a saved SA-GAT model folder: missing {', '.join(missing)}"
        )
    damaged = f"{path / CONFIG_FILE} is damaged (save the model again or retrain it)"
    try:
        with open(path / CONFIG_FILE, encoding="utf-8") as handle:
            stored = json.load(handle)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{damaged}: {error}") from error
    if not isinstance(stored, dict) or not isinstance(stored.get("config"), dict):
        raise ValueError(f'{damaged}: no "config" object')
    version = str(stored.get("model_version", "?"))
    if _major(version) != _major(MODEL_VERSION):
        raise ValueError(
            f"model in {path} has model version {version}, incompatible with this code's "
            f"MODEL_VERSION {MODEL_VERSION}; retrain the model with this version of sagatsr"
        )
    metadata = {k: v for k, v in stored.items() if k != "config"}
    values = dict(stored["config"])
    if "max_neighbors" not in values:  # before 1.2: graph settings in the metadata
        values.update(stored.get("metadata", {}).get("neighbors", {}))
    for name, value in PAPER_ENCODING.items():  # before 1.3: always the paper's encoding
        values.setdefault(name, value)
    try:
        return ModelConfig.from_dict(values), metadata
    except (TypeError, ValueError) as error:
        raise ValueError(f"{damaged}: {error}") from error


def load_model(
    folder: str | os.PathLike[str],
    *,
    expected_catalog_version: str | None = None,
    map_location: str | torch.device = "cpu",
) -> SAGAT:
    """Rebuild a saved model, in eval mode.

    Args:
        folder: A folder written by :func:`save_model`.
        expected_catalog_version: Featurizer version of the graphs the model
            will be given; the load is refused when it differs from the version
            the model was trained with. ``None`` skips the check.
        map_location: Device for the weights.

    Returns:
        The model.

    Raises:
        FileNotFoundError: If the folder or one of its files is missing.
        ValueError: If the model version is incompatible, the catalog
            versions differ, or the weights file cannot be read.
    """
    path = Path(folder)
    config, _ = read_model_config(path)
    if expected_catalog_version is not None and config.catalog_version != expected_catalog_version:
        raise ValueError(
            f"model in {path} was trained on feature catalog version "
            f"{config.catalog_version!r}, but the features given are version "
            f"{expected_catalog_version!r}; retrain the model or re-featurize the structures "
            f"with catalog version {config.catalog_version!r}"
        )
    import pickle

    import torch

    from sagatsr.model.network import SAGAT, unused_edge_weight_names

    model = SAGAT(config)
    try:
        state = torch.load(path / STATE_FILE, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, EOFError, RuntimeError) as error:
        raise ValueError(
            f"{path / STATE_FILE} is not a readable model state (truncated, corrupt, or not "
            f"written by sagatsr; {type(error).__name__})"
        ) from error
    for key in unused_edge_weight_names(state, config):  # a version 1.0 model
        del state[key]
    model.load_state_dict(state)
    model.to(map_location)
    return model.eval()
