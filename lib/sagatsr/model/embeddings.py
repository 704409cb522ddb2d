"""Input encoders: SAE (the paper's model) and the two ablations of its Fig. 3.

Every encoder maps a batch to initial node vectors ``(n, H)`` and graph vectors
``(B, H)`` (the readout's initial query), plus importance coefficients where
the encoder has them.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from sagatsr.model.config import ModelConfig
from sagatsr.model.sae import SelfAdaptableEncoding


class EncoderOutput(NamedTuple):
    """What an encoder returns.

    Attributes:
        node: ``(n, H)`` initial node vectors.
        graph: ``(B, H)`` per-structure vectors.
        node_ic: ``(n, F_node)`` node-feature importance coefficients, or ``None``.
        global_ic: ``(B, F_global)`` global-feature importance coefficients, or ``None``.
    """

    node: Tensor
    graph: Tensor
    node_ic: Tensor | None
    global_ic: Tensor | None


class SAEEncoder(nn.Module):
    """One SAE over node features (per atom) and one over global features (per structure).

    Args:
        config: Model hyperparameters.
    """

    uses_features = True

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        kwargs = {
            "n_basis": config.sae_basis,
            "clip": config.input_clip,
            "score": config.sae_score,
            "vectors": config.sae_vectors,
            "normalizer": config.sae_normalizer,
            "score_init": config.sae_score_init,
            "feature_dropout": config.feature_dropout,
        }
        self.node_sae = SelfAdaptableEncoding(config.n_node_features, config.hidden, **kwargs)
        self.global_sae = SelfAdaptableEncoding(config.n_global_features, config.hidden, **kwargs)

    def forward(
        self,
        x: Tensor,
        u: Tensor,
        *,
        z: Tensor,
        batch: Tensor,
        num_graphs: int,
        node_valid: Tensor | None = None,
        global_valid: Tensor | None = None,
    ) -> EncoderOutput:
        """Encode scaled features.

        Args:
            x: ``(n, F_node)`` scaled node features.
            u: ``(B, F_global)`` scaled global features.
            z: ``(n,)`` atomic numbers (unused).
            batch: ``(n,)`` graph index of each atom (unused).
            num_graphs: ``B`` (unused).
            node_valid: Optional ``(n, F_node)`` mask of present values.
            global_valid: Optional ``(B, F_global)`` mask of present values.

        Returns:
            Encodings and both sets of importance coefficients.
        """
        node, node_ic = self.node_sae(x, node_valid)
        graph, global_ic = self.global_sae(u, global_valid)
        return EncoderOutput(node, graph, node_ic, global_ic)


class FCNEncoder(nn.Module):
    """Ablation: one linear layer over the scaled node and global features.

    Args:
        config: Model hyperparameters.
    """

    uses_features = True

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.node_linear = nn.Linear(config.n_node_features, config.hidden)
        self.global_linear = nn.Linear(config.n_global_features, config.hidden)

    def forward(
        self,
        x: Tensor,
        u: Tensor,
        *,
        z: Tensor,
        batch: Tensor,
        num_graphs: int,
        node_valid: Tensor | None = None,
        global_valid: Tensor | None = None,
    ) -> EncoderOutput:
        """Encode scaled features (arguments as :meth:`SAEEncoder.forward`).

        Returns:
            Encodings; no importance coefficients.
        """
        return EncoderOutput(self.node_linear(x), self.global_linear(u), None, None)


class OneHotEncoder(nn.Module):
    """Ablation (CGCNN-style): a learnable vector per element, no physical features.

    The graph vector is the mean of the node vectors of each structure.

    Args:
        config: Model hyperparameters.
    """

    uses_features = False

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.max_z = config.max_z
        self.element = nn.Embedding(config.max_z + 1, config.hidden)

    def check_atomic_numbers(self, z: Tensor) -> None:
        """Raise if an atomic number has no embedding.

        Args:
            z: ``(n,)`` atomic numbers.

        Raises:
            ValueError: If an atomic number is outside ``[1, max_z]``.
        """
        if z.numel() and (int(z.min()) < 1 or int(z.max()) > self.max_z):
            raise ValueError(f"atomic numbers must lie in [1, {self.max_z}] (config.max_z)")

    def forward(
        self,
        x: Tensor,
        u: Tensor,
        *,
        z: Tensor,
        batch: Tensor,
        num_graphs: int,
        node_valid: Tensor | None = None,
        global_valid: Tensor | None = None,
    ) -> EncoderOutput:
        """Embed elements (feature arguments are ignored; check ``z`` first).

        Returns:
            Encodings; no importance coefficients.
        """
        node = self.element(z)
        total = node.new_zeros(num_graphs, node.shape[1]).index_add_(0, batch, node)
        count = node.new_zeros(num_graphs).index_add_(
            0, batch, torch.ones_like(batch, dtype=node.dtype)
        )
        return EncoderOutput(node, total / count.clamp(min=1).unsqueeze(-1), None, None)


def build_encoder(config: ModelConfig) -> SAEEncoder | FCNEncoder | OneHotEncoder:
    """The encoder named by ``config.embedding``.

    Args:
        config: Model hyperparameters.

    Returns:
        The encoder module.
    """
    if config.embedding == "sae":
        return SAEEncoder(config)
    if config.embedding == "fcn":
        return FCNEncoder(config)
    return OneHotEncoder(config)
