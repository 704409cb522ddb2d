"""One function from flat parameters to the model and training configurations.

The command line, the notebooks and ``params.yaml`` all describe a training
*recipe* as flat ``name: value`` pairs; :func:`build_configs` is the only place
that turns them into :class:`~sagatsr.model.ModelConfig` overrides and a
:class:`~sagatsr.train.config.TrainConfig`, so every option reaches all three.

Precedence: the dataclass defaults (the paper's values) < a named model ``size``
(:data:`sagatsr.model.config.MODEL_SIZES`) < a named ``encoding``
(:data:`sagatsr.model.config.ENCODINGS`) < explicit values. ``None`` means
"not given". :data:`CPU_RECIPE` is the best recipe measured on this project's
2-core CPU (chosen on Matbench fold 0's validation slice); it is what the
command line uses by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from sagatsr.model.config import ENCODINGS, MODEL_SIZES, ModelConfig
from sagatsr.train.config import TrainConfig

#: Model settings a recipe may set (the rest come from the dataset: feature widths,
#: names, cutoff, catalog version).
MODEL_OPTIONS: tuple[str, ...] = (
    "embedding",
    "hidden",
    "heads",
    "layers",
    "edge_dim",
    "n_rbf",
    "max_shells",
    "dropout",
    "sae_basis",
    "sae_score",
    "sae_vectors",
    "sae_normalizer",
    "sae_score_init",
    "sae_entropy_penalty",
    "sae_score_lr_scale",
    "feature_dropout",
    "input_clip",
    "readout_steps",
    "readout_combine",
)
#: Training settings a recipe may set (every TrainConfig field).
TRAIN_OPTIONS: tuple[str, ...] = tuple(f.name for f in fields(TrainConfig))
#: Every flat recipe parameter.
RECIPE_OPTIONS: tuple[str, ...] = ("size", "encoding", *MODEL_OPTIONS, *TRAIN_OPTIONS)

#: The medium model's best recipe on a 2-core CPU (README, "Recipe trials"): batch
#: 256, 150 epochs, weight decay 0.05, weights averaged (about 28 min of training).
MEDIUM_RECIPE: dict[str, Any] = {
    "size": "medium",
    "epochs": 150,
    "batch_size": 256,
    "lr": 2e-3,
    "weight_decay": 0.05,
    "ema_decay": 0.999,
    "patience": 0,
}
#: The best recipe measured on a 2-core CPU, the command line's default: the medium
#: recipe with hidden width 128 (Matbench fold 0 validation MAE 0.0306 against
#: 0.0330 eV/cell, seed 0; about 70 min of training with two threads).
CPU_RECIPE: dict[str, Any] = {**MEDIUM_RECIPE, "hidden": 128}


def _model_field_types() -> dict[str, Any]:
    defaults = ModelConfig(n_node_features=1, n_global_features=1)
    return {name: type(getattr(defaults, name)) for name in MODEL_OPTIONS}


def build_configs(**params: Any) -> tuple[dict[str, Any], TrainConfig]:
    """Model overrides and training configuration from flat recipe parameters.

    Args:
        **params: Any of :data:`RECIPE_OPTIONS`; ``None`` values are ignored.

    Returns:
        ``(model_settings, train_config)``: overrides for
        :func:`sagatsr.train.pipeline.model_config_for` and the training settings.

    Raises:
        ValueError: For unknown names, an unknown size or encoding (a TrainConfig value
            out of range raises from TrainConfig itself).
    """
    given = {name: value for name, value in params.items() if value is not None}
    unknown = sorted(set(given) - set(RECIPE_OPTIONS))
    if unknown:
        raise ValueError(f"unknown recipe parameter(s) {unknown}; known: {list(RECIPE_OPTIONS)}")
    size = given.pop("size", None)
    if size is not None and size not in MODEL_SIZES:
        raise ValueError(f"unknown model size {size!r}; known: {sorted(MODEL_SIZES)}")
    encoding = given.pop("encoding", None)
    if encoding is not None and encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}; known: {sorted(ENCODINGS)}")
    model = dict(MODEL_SIZES[size]) if size else {}
    model.update(ENCODINGS[encoding] if encoding else {})
    model.update({name: given[name] for name in MODEL_OPTIONS if name in given})
    train = TrainConfig(**{name: given[name] for name in TRAIN_OPTIONS if name in given})
    return model, train


def recipe_parameters(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The recipe parameters defined in a namespace (a notebook's ``globals()``).

    Lets a notebook pass its parameters cell to :func:`build_configs` without
    listing the names a second time.
    """
    return {name: namespace[name] for name in RECIPE_OPTIONS if name in namespace}


def option_types() -> dict[str, Any]:
    """The Python type of each recipe parameter (for command-line parsing)."""
    train_defaults = TrainConfig()
    types: dict[str, Any] = {"size": str, "encoding": str, **_model_field_types()}
    types.update({name: type(getattr(train_defaults, name)) for name in TRAIN_OPTIONS})
    types["devices"] = str
    return types
