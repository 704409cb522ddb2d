"""The three input encoders: shapes, importance coefficients, and what each reads."""

import pytest
import torch

from sagatsr.model.config import ModelConfig
from sagatsr.model.embeddings import FCNEncoder, OneHotEncoder, SAEEncoder, build_encoder


def inputs():
    torch.manual_seed(0)
    batch = torch.tensor([0, 0, 1, 1, 1])
    return {
        "x": torch.randn(5, 4),
        "u": torch.randn(2, 6),
        "z": torch.tensor([8, 22, 38, 8, 8]),
        "batch": batch,
        "num_graphs": 2,
    }


def config(embedding: str) -> ModelConfig:
    return ModelConfig(n_node_features=4, n_global_features=6, hidden=8, embedding=embedding)


@pytest.mark.parametrize(
    ("embedding", "kind"), [("sae", SAEEncoder), ("fcn", FCNEncoder), ("onehot", OneHotEncoder)]
)
def test_every_encoder_gives_node_and_graph_vectors(embedding, kind) -> None:
    encoder = build_encoder(config(embedding))
    assert isinstance(encoder, kind)
    out = encoder(**{k: v for k, v in inputs().items()})
    assert out.node.shape == (5, 8) and out.graph.shape == (2, 8)
    has_ic = embedding == "sae"
    assert (out.node_ic is not None, out.global_ic is not None) == (has_ic, has_ic)
    if has_ic:
        torch.testing.assert_close(out.node_ic.sum(-1), torch.ones(5))
        torch.testing.assert_close(out.global_ic.sum(-1), torch.ones(2))


def test_invalid_features_get_zero_importance() -> None:
    encoder = build_encoder(config("sae"))
    valid = torch.ones(2, 6, dtype=torch.bool)
    valid[0, :3] = False
    out = encoder(**inputs(), global_valid=valid)
    assert torch.all(out.global_ic[0, :3] == 0) and torch.all(out.global_ic[1] > 0)


def test_the_one_hot_ablation_reads_elements_only_and_averages_them_per_structure() -> None:
    encoder = build_encoder(config("onehot"))
    data = inputs()
    out = encoder(**data)
    other = encoder(**{**data, "x": torch.randn(5, 4), "u": torch.randn(2, 6)})
    torch.testing.assert_close(other.node, out.node)
    torch.testing.assert_close(out.graph[1], out.node[2:].mean(0))
    with pytest.raises(ValueError, match=r"atomic numbers must lie in \[1, "):
        encoder.check_atomic_numbers(torch.tensor([0, 8]))
