"""Self-adaptable encoding (SAE): one hidden vector per feature, softmax-weighted.

For an item (an atom or a structure) with scaled features ``r_1 .. r_F``:

* each feature gets its own smooth projection ``h_i = sigma_i(r_i)``: the value
  is expanded on ``K`` Gaussians spread over ``[-clip, clip]`` (plus the value
  itself, so the map stays informative outside the Gaussians), then mapped to
  ``hidden`` by a per-feature weight matrix and bias;
* a shared learnable vector ``W_a`` scores each ``h_i``;
* the importance coefficients are ``a_i = softmax_i(score_i)``; they are
  non-negative and sum to 1 over the features of one item;
* the encoding is ``h_0 = sum_i a_i h_i``.

All features are handled at once with ``einsum``; there is no loop over features.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from sagatsr.model.config import ScoreFunction


class SelfAdaptableEncoding(nn.Module):
    """SAE layer for ``F`` scalar features.

    Args:
        n_features: ``F``.
        hidden: Output width ``H``.
        n_basis: ``K``, Gaussians per feature.
        clip: Half-width of the interval covered by the Gaussians (the same
            bound the feature scaler clips to).
        score: ``"tanh"``: ``score_i = W_a . tanh(h_i)``, bounded, so no
            feature wins only because its vector has a large norm; ``"linear"``:
            ``score_i = W_a . h_i`` as written in the paper.
    """

    centers: Tensor

    def __init__(
        self,
        n_features: int,
        hidden: int,
        *,
        n_basis: int = 16,
        clip: float = 5.0,
        score: ScoreFunction = "tanh",
    ) -> None:
        super().__init__()
        self.score = score
        self.register_buffer("centers", torch.linspace(-clip, clip, n_basis))
        self.width = 2.0 * clip / (n_basis - 1)
        bound = 1.0 / math.sqrt(n_basis + 1)
        self.weight = nn.Parameter(
            torch.empty(n_features, n_basis + 1, hidden).uniform_(-bound, bound)
        )
        self.bias = nn.Parameter(torch.empty(n_features, hidden).uniform_(-bound, bound))
        self.attention = nn.Parameter(torch.randn(hidden) / math.sqrt(hidden))

    def project(self, r: Tensor) -> Tensor:
        """Per-feature hidden vectors.

        Args:
            r: ``(N, F)`` scaled features (dimensionless).

        Returns:
            ``(N, F, H)`` vectors ``h_i``.
        """
        gauss = torch.exp(-(((r.unsqueeze(-1) - self.centers) / self.width) ** 2))
        basis = torch.cat([gauss, r.unsqueeze(-1)], dim=-1)  # (N, F, K + 1)
        return torch.einsum("nfk,fkh->nfh", basis, self.weight) + self.bias

    def forward(self, r: Tensor, valid: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Encode and weight the features.

        Args:
            r: ``(N, F)`` scaled features.
            valid: Optional ``(N, F)`` bool mask; features marked ``False``
                (missing values) get importance 0. An item with no valid
                feature gets uniform weights.

        Returns:
            ``(h0, ic)``: ``(N, H)`` encodings and ``(N, F)`` importance
            coefficients (rows are non-negative and sum to 1).
        """
        h = self.project(r)
        act = torch.tanh(h) if self.score == "tanh" else h
        scores = act @ self.attention  # (N, F)
        if valid is not None:
            none_valid = ~valid.any(dim=-1, keepdim=True)
            scores = scores.masked_fill(~valid, float("-inf")).masked_fill(none_valid, 0.0)
        ic = torch.softmax(scores, dim=-1)
        return torch.einsum("nf,nfh->nh", ic, h), ic
