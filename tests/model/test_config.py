import json

import pytest

from sagatsr.model import ModelConfig


def test_defaults_follow_the_paper_reference() -> None:
    config = ModelConfig(n_node_features=30, n_global_features=200)
    assert (config.layers, config.heads, config.hidden, config.edge_dim) == (4, 4, 128, 48)
    assert config.dropout == pytest.approx(0.3)
    assert config.embedding == "sae"
    assert config.n_targets == 1


def test_json_roundtrip_keeps_tuples() -> None:
    config = ModelConfig(
        n_node_features=2,
        n_global_features=1,
        node_feature_names=("a", "b"),
        global_feature_names=("t",),
        catalog_version="v3",
    )
    restored = ModelConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert restored == config
    assert isinstance(restored.node_feature_names, tuple)


@pytest.mark.parametrize(
    "overrides",
    [
        {"embedding": "mlp"},
        {"hidden": 30, "heads": 4},
        {"dropout": 1.0},
        {"node_feature_names": ("only_one",)},
        {"n_node_features": 0},
        {"n_rbf": 1},
        {"sae_score": "relu"},
        {"readout_combine": "max"},
        {"sae_vectors": "unit"},
        {"sae_score_init": "ones"},
        {"sae_entropy_penalty": -0.1},
        {"feature_dropout": 1.0},
    ],
)
def test_invalid_values_are_rejected(overrides: dict) -> None:
    values = {"n_node_features": 3, "n_global_features": 4, **overrides}
    with pytest.raises(ValueError):
        ModelConfig(**values)


def test_onehot_needs_no_features() -> None:
    ModelConfig(n_node_features=0, n_global_features=0, embedding="onehot")


def test_unknown_field_is_an_error() -> None:
    values = ModelConfig(n_node_features=1, n_global_features=1).to_dict()
    values["bogus"] = 1
    with pytest.raises(ValueError, match="bogus"):
        ModelConfig.from_dict(values)
