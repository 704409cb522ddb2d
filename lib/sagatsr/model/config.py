"""Hyperparameters of the SA-GAT-SR network, as one JSON-serialisable dataclass."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from sagatsr.graphs.config import NeighborConfig

Embedding = Literal["sae", "fcn", "onehot"]
ScoreFunction = Literal["tanh", "linear"]
ReadoutCombine = Literal["concat", "sum"]
FeatureVectors = Literal["free", "normalized"]
ScoreInit = Literal["random", "zero"]
Normalizer = Literal["softmax", "entmax15"]

#: Named model sizes (overrides of the defaults, which are the paper's size). ``medium``
#: is the size trained on this project's 2-core CPU for Matbench (no dropout: with
#: weight decay 0.05 it generalised better on fold 0's validation slice).
MODEL_SIZES: dict[str, dict[str, Any]] = {
    "paper": {},
    "medium": {"hidden": 64, "layers": 3, "heads": 4, "edge_dim": 32, "dropout": 0.0},
}

#: The paper's self-adaptable encoding, spelled out field by field (with the bounded
#: tanh score of :attr:`ModelConfig.sae_score`); what models saved before these fields
#: existed (model version < 1.3) were trained with.
PAPER_ENCODING: dict[str, Any] = {
    "sae_vectors": "free",
    "sae_normalizer": "softmax",
    "sae_score_init": "random",
    "sae_entropy_penalty": 0.0,
    "sae_score_lr_scale": 1.0,
    "feature_dropout": 0.0,
}

#: Named variants of the self-adaptable encoding, each the paper's with one change,
#: so the importance-faithfulness benchmark can tell which change sharpens the
#: importance coefficients (README, "Importance coefficients").
ENCODINGS: dict[str, dict[str, Any]] = {
    "paper": PAPER_ENCODING,
    "zero_init": {**PAPER_ENCODING, "sae_score_init": "zero"},
    "normalized": {**PAPER_ENCODING, "sae_vectors": "normalized"},
    "entropy": {**PAPER_ENCODING, "sae_entropy_penalty": 0.05},
    "feature_dropout": {**PAPER_ENCODING, "feature_dropout": 0.1},
    "entmax": {**PAPER_ENCODING, "sae_normalizer": "entmax15"},
    "score_lr": {**PAPER_ENCODING, "sae_score_lr_scale": 10.0},
}

_EMBEDDINGS = ("sae", "fcn", "onehot")
_VECTORS = ("free", "normalized")
_SCORE_INITS = ("random", "zero")
_NORMALIZERS = ("softmax", "entmax15")
_SCORES = ("tanh", "linear")
_COMBINES = ("concat", "sum")


@dataclass(frozen=True)
class ModelConfig:
    """Every hyperparameter needed to rebuild a :class:`~sagatsr.model.network.SAGAT`.

    Defaults follow the paper's reference model (4 layers x 4 heads, hidden
    128, edge dimension 48, dropout 0.3).

    Attributes:
        n_node_features: ``F_node``, number of raw per-site features.
        n_global_features: ``F_global``, number of raw per-structure features.
        node_feature_names: Names of the node features in catalog order
            (empty, or exactly ``n_node_features`` names).
        global_feature_names: Names of the global features (empty, or exactly
            ``n_global_features`` names).
        embedding: Input encoding: ``"sae"`` (self-adaptable encoding, the
            paper's model), ``"fcn"`` (one linear layer over the scaled
            features) or ``"onehot"`` (learnable element embedding, no
            physical features).
        hidden: Width of node and graph vectors.
        heads: Attention heads per layer; must divide ``hidden``.
        layers: Number of graph attention layers.
        edge_dim: Width of edge vectors.
        n_rbf: Number of Gaussians in the radial basis of edge distances,
            centred evenly on ``[0, cutoff]`` angstrom.
        cutoff: Neighbour search radius of the graphs (angstrom), also the
            largest distance covered by the radial basis.
        max_neighbors: Neighbours kept per site (plus ties) in the graphs.
        tie_tolerance: Distance (angstrom) within which neighbours are tied.
        max_shells: Number of neighbour-shell biases; larger shell indices are
            clamped to ``max_shells - 1``. With ``cutoff``, ``max_neighbors``
            and ``tie_tolerance`` these are the graph settings the model was
            trained with (:attr:`neighbors`; defaults: :class:`NeighborConfig`'s),
            so a saved model builds its own graphs.
        dropout: Dropout probability on every residual branch and in the head.
        n_targets: Number of predicted properties.
        sae_basis: Gaussians per feature in the SAE projection.
        sae_score: Importance score of a feature vector ``h_i``:
            ``"tanh"`` gives ``W_a . tanh(h_i)``, ``"linear"`` gives ``W_a . h_i``.
        sae_vectors: ``"free"``: ``h_0 = sum_i a_i h_i`` with each ``h_i`` as
            projected (the paper); ``"normalized"``: each ``h_i`` is divided by
            its root-mean-square over the hidden units first, so a feature's
            share of ``h_0`` is set by its coefficient ``a_i`` alone and cannot
            be bought back by large per-feature weights.
        sae_normalizer: Map from scores to coefficients: ``"softmax"`` (the
            paper; every feature keeps a positive share) or ``"entmax15"``
            (1.5-entmax, Peters et al. 2019: a softmax-like map that gives
            exactly zero to features scored far enough below the best).
        sae_score_init: ``"random"``: the score vector ``W_a`` starts random
            (the paper), so the coefficients start with a random ranking;
            ``"zero"``: it starts at zero, so every coefficient starts at
            ``1/F`` and any ranking is learned.
        sae_entropy_penalty: Weight of the mean normalised entropy of the
            coefficients (0 to 1 per item) added to the training loss; 0 for
            none. Larger values push each item's coefficients to fewer features.
        sae_score_lr_scale: Learning rate of the SAE score vectors ``W_a``
            relative to the rest of the network (read by the training module);
            above 1 the coefficients can move further from where they start.
        feature_dropout: Probability that a feature of an item is hidden from
            the encoding during training (its coefficient is 0 and the others
            renormalise), so no single feature can be relied on blindly.
        input_clip: Scaled features are clipped to ``[-input_clip, input_clip]``;
            the SAE Gaussians span the same interval.
        readout_steps: Query-update iterations of each per-layer attention readout.
        readout_combine: How the global encoding and the per-layer readouts are
            combined before the head: ``"concat"`` (then a linear map) or ``"sum"``.
        max_z: Largest atomic number of the one-hot element embedding.
        catalog_version: Featurizer version of the features the model was
            trained on; :func:`~sagatsr.model.persistence.load_model` checks it.
    """

    n_node_features: int
    n_global_features: int
    node_feature_names: tuple[str, ...] = ()
    global_feature_names: tuple[str, ...] = ()
    embedding: Embedding = "sae"
    hidden: int = 128
    heads: int = 4
    layers: int = 4
    edge_dim: int = 48
    n_rbf: int = 32
    cutoff: float = NeighborConfig.cutoff
    max_neighbors: int = NeighborConfig.max_neighbors
    tie_tolerance: float = NeighborConfig.tie_tolerance
    max_shells: int = NeighborConfig.max_shells
    dropout: float = 0.3
    n_targets: int = 1
    sae_basis: int = 16
    sae_score: ScoreFunction = "tanh"
    sae_vectors: FeatureVectors = "free"
    sae_normalizer: Normalizer = "softmax"
    sae_score_init: ScoreInit = "random"
    sae_entropy_penalty: float = 0.0
    sae_score_lr_scale: float = 1.0
    feature_dropout: float = 0.0
    input_clip: float = 5.0
    readout_steps: int = 1
    readout_combine: ReadoutCombine = "concat"
    max_z: int = 100
    catalog_version: str = ""

    def __post_init__(self) -> None:
        # JSON gives lists; store tuples so the config stays hashable and frozen.
        object.__setattr__(self, "node_feature_names", tuple(self.node_feature_names))
        object.__setattr__(self, "global_feature_names", tuple(self.global_feature_names))
        self._validate()

    def _validate(self) -> None:
        if self.embedding not in _EMBEDDINGS:
            raise ValueError(f"embedding must be one of {_EMBEDDINGS}, got {self.embedding!r}")
        if self.sae_score not in _SCORES:
            raise ValueError(f"sae_score must be one of {_SCORES}, got {self.sae_score!r}")
        if self.sae_vectors not in _VECTORS:
            raise ValueError(f"sae_vectors must be one of {_VECTORS}, got {self.sae_vectors!r}")
        if self.sae_normalizer not in _NORMALIZERS:
            raise ValueError(
                f"sae_normalizer must be one of {_NORMALIZERS}, got {self.sae_normalizer!r}"
            )
        if self.sae_score_init not in _SCORE_INITS:
            raise ValueError(
                f"sae_score_init must be one of {_SCORE_INITS}, got {self.sae_score_init!r}"
            )
        if self.sae_entropy_penalty < 0:
            raise ValueError(f"sae_entropy_penalty must be >= 0, got {self.sae_entropy_penalty}")
        if self.sae_score_lr_scale <= 0:
            raise ValueError(f"sae_score_lr_scale must be > 0, got {self.sae_score_lr_scale}")
        if not 0.0 <= self.feature_dropout < 1.0:
            raise ValueError(f"feature_dropout must be in [0, 1), got {self.feature_dropout}")
        if self.readout_combine not in _COMBINES:
            raise ValueError(
                f"readout_combine must be one of {_COMBINES}, got {self.readout_combine!r}"
            )
        minimum = 0 if self.embedding == "onehot" else 1
        for name in ("n_node_features", "n_global_features"):
            if getattr(self, name) < minimum:
                raise ValueError(f"{name} must be >= {minimum}, got {getattr(self, name)}")
        for names, count, label in (
            (self.node_feature_names, self.n_node_features, "node"),
            (self.global_feature_names, self.n_global_features, "global"),
        ):
            if names and len(names) != count:
                raise ValueError(f"{len(names)} {label} feature names for {count} {label} features")
        for name in (
            "hidden",
            "heads",
            "layers",
            "edge_dim",
            "n_rbf",
            "max_shells",
            "n_targets",
            "sae_basis",
            "readout_steps",
            "max_z",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.hidden % self.heads:
            raise ValueError(f"heads ({self.heads}) must divide hidden ({self.hidden})")
        if self.sae_basis < 2 or self.n_rbf < 2:
            raise ValueError("sae_basis and n_rbf must be >= 2")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.cutoff <= 0 or self.input_clip <= 0:
            raise ValueError("cutoff and input_clip must be positive")

    @property
    def neighbors(self) -> NeighborConfig:
        """The graph settings the model was trained with."""
        return NeighborConfig(
            cutoff=self.cutoff,
            max_neighbors=self.max_neighbors,
            tie_tolerance=self.tie_tolerance,
            max_shells=self.max_shells,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (tuples become lists)."""
        out = asdict(self)
        out["node_feature_names"] = list(self.node_feature_names)
        out["global_feature_names"] = list(self.global_feature_names)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ModelConfig:
        """Rebuild a config from :meth:`to_dict` output.

        Args:
            values: Field values; unknown keys are an error.

        Returns:
            The config.

        Raises:
            ValueError: If ``values`` has keys that are not config fields.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown ModelConfig fields: {unknown}")
        return cls(**values)
