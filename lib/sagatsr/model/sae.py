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

Variants (:data:`sagatsr.model.config.ENCODINGS`): ``normalizer="entmax15"``
maps the scores with 1.5-entmax (the ``entmax`` package) instead of the
softmax, so weakly scored features get exactly zero; ``vectors="normalized"``
uses ``h_i / rms(h_i)`` in the sum (the score still reads ``h_i``), so only
``a_i`` sets a feature's share of ``h_0``; ``score_init="zero"`` starts ``W_a``
at zero (uniform coefficients at initialisation); ``feature_dropout`` hides
each feature of each item with that probability in training (coefficient 0,
the others renormalise). The entropy penalty lives in the training loss
(:func:`ic_entropy`).

How it is computed (the maths above is unchanged; :meth:`SelfAdaptableEncoding.reference`
spells it out literally and the tests compare both):

* ``h_0`` is never built from the ``(N, F, H)`` stack of the ``h_i``: since each
  ``h_i`` is linear in the feature's basis ``b_i`` (``K + 1`` values and a
  constant 1 for the bias), ``h_0 = sum_i a_i b_i W_i`` is one matrix product
  of the ``(N, F (K + 2))`` weighted basis with the stacked ``(F (K + 2), H)``
  weights;
* the ``"linear"`` score contracts as well, ``W_a . h_i = b_i . (W_i W_a)``,
  so that encoder never forms an ``(N, F, H)`` tensor;
* the normalised variant needs each ``h_i`` and its norm; it is computed
  plainly from the ``(F, N, H)`` stack (slower, for the benchmark and anyone
  who chooses it);
* the ``"tanh"`` score needs each ``h_i``; since ``h_i`` depends on the value
  ``r_i`` alone, it is computed once per distinct value of each feature in the
  batch (:mod:`sagatsr.model.distinct`: an element property of the atoms takes
  one value per element, so the node features of a Castelli batch hold about
  7 % as many distinct values as entries, the global ones about 35 %), by a
  few batched products over blocks of those values, and each item reads its
  score back. The score with its gradient comes from :class:`_TanhScore`,
  which uses ``tanh(x) = 2 sigmoid(2x) - 1`` (ATen's sigmoid is several times
  faster than its tanh on CPU) and forms the weight gradient as one batched
  product, without an ``(N, F, H)`` gradient tensor. Inputs that need a
  gradient themselves (attribution) are scored item by item in the
  ``(F, N, H)`` layout, so that each item gets its own gradient.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from sagatsr.model.config import FeatureVectors, Normalizer, ScoreFunction, ScoreInit
from sagatsr.model.distinct import distinct_feature_values
from sagatsr.model.radial import gaussian_expand

#: Added to the mean square before the root in ``rms(h_i)`` (normalised vectors).
_RMS_EPS = 1e-6


def ic_entropy(ic: Tensor) -> Tensor:
    """Mean normalised entropy of importance-coefficient rows.

    Args:
        ic: ``(N, F)`` coefficients, rows non-negative and summing to 1 (zeros allowed).

    Returns:
        Scalar: the mean over rows of ``-sum_i a_i log a_i / log F``, in ``[0, 1]``
        (1: uniform, 0: one feature); 0 when ``F == 1`` or ``N == 0``.
    """
    if ic.shape[0] == 0 or ic.shape[1] < 2:
        return ic.new_zeros(())
    # log of the clamped value: finite gradient where a coefficient is exactly 0 (masked).
    entropy = -(ic * ic.clamp_min(1e-12).log()).sum(-1)
    return entropy.mean() / math.log(ic.shape[1])


class _TanhScore(torch.autograd.Function):
    """``score[f, n] = w_a . tanh(basis[f, n] @ weight[f])`` with a lean backward.

    Shapes: ``basis`` ``(F, N, B)``, ``weight`` ``(F, B, H)``, ``w_a`` ``(H,)``;
    the result is ``(F, N)``. Saved for backward: the ``(F, N, H)`` sigmoids.
    """

    @staticmethod
    def forward(ctx: Any, basis: Tensor, weight: Tensor, w_a: Tensor) -> Tensor:
        # sigmoid(2 h) with the 2 folded into the (F, B, H) weight, not the (F, N, H) product.
        sig = torch.bmm(basis, weight * 2.0).sigmoid_()
        ctx.save_for_backward(basis, weight, w_a, sig)
        return torch.matmul(sig, w_a).mul_(2.0).sub_(w_a.sum())

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        basis, weight, w_a, sig = ctx.saved_tensors
        grad_basis = grad_weight = grad_w_a = None
        if ctx.needs_input_grad[2]:
            flat = grad.reshape(1, -1)
            grad_w_a = (flat @ sig.reshape(flat.shape[1], -1)).reshape(-1).mul_(2.0) - grad.sum()
        # d tanh(h) / dh = 1 - tanh^2 = 4 s (1 - s), with s = sigmoid(2 h).
        slope = torch.addcmul(sig, sig, sig, value=-1.0)  # (F, N, H)
        if ctx.needs_input_grad[1]:
            weighted = (basis * grad.unsqueeze(-1)).transpose(1, 2)  # (F, B, N)
            grad_weight = torch.bmm(weighted, slope).mul_(4.0 * w_a)
        if ctx.needs_input_grad[0]:
            grad_h = slope.mul_(grad.unsqueeze(-1)).mul_(4.0 * w_a)
            grad_basis = torch.bmm(grad_h, weight.transpose(1, 2))
        return grad_basis, grad_weight, grad_w_a


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
        vectors: ``"free"`` (the paper) or ``"normalized"`` (each ``h_i`` at unit
            root-mean-square in the weighted sum).
        normalizer: ``"softmax"`` (the paper) or ``"entmax15"`` (sparse).
        score_init: ``"random"`` (the paper) or ``"zero"`` start for ``W_a``.
        feature_dropout: Probability of hiding a feature of an item in training.
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
        vectors: FeatureVectors = "free",
        normalizer: Normalizer = "softmax",
        score_init: ScoreInit = "random",
        feature_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.score = score
        self.vectors = vectors
        self.normalizer = normalizer
        self.feature_dropout = feature_dropout
        self.register_buffer("centers", torch.linspace(-clip, clip, n_basis))
        self.width = 2.0 * clip / (n_basis - 1)
        bound = 1.0 / math.sqrt(n_basis + 1)
        self.weight = nn.Parameter(
            torch.empty(n_features, n_basis + 1, hidden).uniform_(-bound, bound)
        )
        self.bias = nn.Parameter(torch.empty(n_features, hidden).uniform_(-bound, bound))
        start = torch.randn(hidden) / math.sqrt(hidden)
        self.attention = nn.Parameter(start if score_init == "random" else torch.zeros(hidden))

    def basis(self, r: Tensor, *, feature_major: bool = False) -> Tensor:
        """Each feature's value expanded on the Gaussians, plus the value and a constant.

        Args:
            r: ``(N, F)`` scaled features (dimensionless).
            feature_major: Lay the result out as ``(F, N, K + 2)`` (computed in
                that layout, cheaper than transposing the ``(N, F, K + 2)`` one).

        Returns:
            ``(N, F, K + 2)``, or ``(F, N, K + 2)`` with ``feature_major``: ``K``
            Gaussians (:func:`~sagatsr.model.radial.gaussian_expand`), the value
            itself, and 1 (for the bias).
        """
        values = r.t().contiguous() if feature_major else r
        gauss = gaussian_expand(values, self.centers, self.width)
        expanded = values.unsqueeze(-1)
        return torch.cat([gauss, expanded, torch.ones_like(expanded)], dim=-1)

    def stacked_weight(self) -> Tensor:
        """``(F, K + 2, H)``: the per-feature weights with the bias as the last row."""
        return torch.cat([self.weight, self.bias.unsqueeze(1)], dim=1)

    def project(self, r: Tensor) -> Tensor:
        """Per-feature hidden vectors (materialised; for analysis and tests).

        Args:
            r: ``(N, F)`` scaled features (dimensionless).

        Returns:
            ``(N, F, H)`` vectors ``h_i``.
        """
        return torch.einsum("nfk,fkh->nfh", self.basis(r), self.stacked_weight())

    def reference(self, r: Tensor, valid: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """The encoding computed literally from the ``(N, F, H)`` stack (slow; same result).

        Arguments and result as :meth:`forward`. Kept as the executable definition
        that the fast :meth:`forward` is tested against, and as the "before" of the
        throughput benchmark.
        """
        h = self.project(r)
        act = torch.tanh(h) if self.score == "tanh" else h
        ic = self._coefficients(act @ self.attention, valid)
        if self.vectors == "normalized":
            h = h / h.pow(2).mean(-1, keepdim=True).add(_RMS_EPS).sqrt()
        return torch.einsum("nf,nfh->nh", ic, h), ic

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
        if self.training and self.feature_dropout > 0:
            kept = torch.rand(r.shape, device=r.device) >= self.feature_dropout
            valid = kept if valid is None else valid & kept
        if self.vectors == "normalized":
            return self._normalized(r, valid)
        basis = self.basis(r)  # (N, F, B)
        weight = self.stacked_weight()  # (F, B, H)
        if self.score == "tanh":
            scores = self._tanh_scores(r, weight)
        else:  # W_a . h_i = b_i . (W_i W_a)
            scores = (basis * (weight @ self.attention)).sum(-1)
        ic = self._coefficients(scores, valid)
        weighted = (ic.unsqueeze(-1) * basis).reshape(basis.shape[0], -1)
        return weighted @ weight.reshape(-1, weight.shape[-1]), ic

    @classmethod
    def exclude_from_compilation(cls) -> None:
        """Keep :meth:`_tanh_scores` eager inside a compiled network (call before compiling).

        Never compiled: the slot layout depends on the batch's values (how many buckets,
        of which widths), so a compiled training step recompiled it for each new layout
        until dynamo's recompile limit (8) and then ran it eagerly anyway. Eager from the
        start, a step is as fast (its products are a few batched matmuls) and compiling
        the network takes about a third less time (measured with --compile on the medium
        model). Applied here, when a network is compiled, rather than as a decorator:
        ``torch.compiler.disable`` imports torch's compiler, which doubled the import
        time of the model for prediction (about 1 s of the 2). Outside compiled code the
        wrapped method runs exactly as before.
        """
        if not getattr(cls._tanh_scores, "_sagatsr_eager", False):
            eager = torch.compiler.disable(cls._tanh_scores)
            eager._sagatsr_eager = True  # type: ignore[attr-defined]
            cls._tanh_scores = eager  # type: ignore[method-assign]

    def _tanh_scores(self, r: Tensor, weight: Tensor) -> Tensor:
        """``(N, F)`` scores ``W_a . tanh(h_i)``, each feature's distinct values scored once.

        Args:
            r: ``(N, F)`` scaled features.
            weight: ``(F, K + 2, H)`` stacked weights (:meth:`stacked_weight`).

        Returns:
            ``(N, F)`` scores. When ``r`` needs a gradient (attribution with
            respect to the inputs), every item's values are scored in the
            ``(F, N, H)`` layout, so that each item gets its own gradient.
        """
        if r.requires_grad or r.shape[0] == 0:
            feature_major = self.basis(r, feature_major=True)  # (F, N, B)
            return _TanhScore.apply(feature_major, weight, self.attention).t()
        distinct = distinct_feature_values(r)
        basis = self.basis(distinct.values)  # (S, B)
        slot_scores = []
        for bucket in distinct.buckets:
            n_bucket = bucket.features.numel()
            block = basis[bucket.start : bucket.start + n_bucket * bucket.width]
            block = block.view(n_bucket, bucket.width, -1)  # (F_b, width, B)
            bucket_weight = weight.index_select(0, bucket.features)
            slot_scores.append(_TanhScore.apply(block, bucket_weight, self.attention).reshape(-1))
        scores = torch.cat(slot_scores).index_select(0, distinct.slot.reshape(-1))
        return scores.view(distinct.slot.shape).t()

    def _normalized(self, r: Tensor, valid: Tensor | None) -> tuple[Tensor, Tensor]:
        """:meth:`forward` for normalised vectors, from the ``(F, N, H)`` stack."""
        basis = self.basis(r, feature_major=True)  # (F, N, B)
        h = torch.bmm(basis, self.stacked_weight())  # (F, N, H)
        act = torch.tanh(h) if self.score == "tanh" else h
        ic = self._coefficients((act @ self.attention).t(), valid)  # (N, F)
        unit = h / h.pow(2).mean(-1, keepdim=True).add(_RMS_EPS).sqrt()
        return torch.einsum("nf,fnh->nh", ic, unit), ic

    def _coefficients(self, scores: Tensor, valid: Tensor | None) -> Tensor:
        """Coefficients from ``(N, F)`` scores; invalid features get 0, all-invalid rows 1/F."""
        if valid is not None:
            none_valid = ~valid.any(dim=-1, keepdim=True)
            scores = scores.masked_fill(~valid, float("-inf")).masked_fill(none_valid, 0.0)
        if self.normalizer == "entmax15":
            from entmax import entmax15

            return entmax15(scores, dim=-1)
        return torch.softmax(scores, dim=-1)
