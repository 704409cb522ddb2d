"""The SA-GAT-SR network: encoder -> graph attention layers -> per-layer readouts -> head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from sagatsr.model.attention import GraphAttentionLayer
from sagatsr.model.config import ModelConfig
from sagatsr.model.embeddings import build_encoder
from sagatsr.model.normalization import FeatureScaler
from sagatsr.model.radial import GaussianRBF
from sagatsr.model.readout import AttentionReadout
from sagatsr.model.sae import SelfAdaptableEncoding

#: The oldest torch (major, minor) whose compiled training step this project has seen
#: match the eager one (tests/bench/test_throughput.py): under torch 2.11 (a GPU
#: machine's image) the compiled step's gradients differed from eager ones in 30 % of
#: the entries (README, "On a GPU"), so compiling needs the pinned torch or newer.
MIN_TORCH_FOR_COMPILE = (2, 13)

if TYPE_CHECKING:
    from torch_geometric.data import Data

    from sagatsr.graphs.tensor_batch import TensorBatch

ImportanceDict = dict[str, Tensor | None]


def unused_edge_weight_names(state: dict[str, Tensor], config: ModelConfig) -> list[str]:
    """Names in ``state`` of a last-layer edge MLP, which model version 1.0 had.

    Nothing read the edges that the last attention layer updated, so those weights
    never influenced a prediction; version 1.1 has no such MLP. Dropping them loads
    a 1.0 state unchanged in function.

    Args:
        state: A state dict of :class:`SAGAT` (keys may carry a prefix such as ``"model."``).
        config: The model's configuration (its ``layers``).

    Returns:
        The keys to drop (empty for a current state).
    """
    marker = f"layers.{config.layers - 1}.edge_"
    return [key for key in state if key.startswith(marker) or f".{marker}" in key]


class SAGAT(nn.Module):
    """Self-adaptable graph attention network.

    Pipeline for a batch of ``B`` structures with ``n`` atoms and ``E`` edges:

    1. raw features are scaled by the model's own :class:`FeatureScaler` s
       (fit them with :func:`~sagatsr.model.normalization.fit_scalers`);
    2. the encoder gives node vectors ``(n, H)`` and per-structure vectors
       ``g`` ``(B, H)`` (the SAE also gives importance coefficients);
    3. edge distances are expanded on a Gaussian basis and mapped to ``(E, D)``;
    4. after each of ``layers`` attention layers, an attention readout updates
       the per-structure query, starting from ``g`` and carried from layer to
       layer;
    5. ``g`` and the per-layer readouts are combined (concatenation and a
       linear map, or a sum) and an MLP head gives ``(B, n_targets)``.

    The network predicts standardised targets; standardisation is done by the
    training code, which stores the statistics with :meth:`set_target_stats`
    so that :meth:`predict` returns physical units.

    Args:
        config: Hyperparameters.
    """

    target_mean: Tensor
    target_std: Tensor

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        hidden = config.hidden
        self.node_scaler = FeatureScaler(config.n_node_features, config.input_clip)
        self.global_scaler = FeatureScaler(config.n_global_features, config.input_clip)
        self.encoder = build_encoder(config)
        self.rbf = GaussianRBF(config.n_rbf, config.cutoff)
        self.edge_embedding = nn.Linear(config.n_rbf, config.edge_dim)
        self.layers = nn.ModuleList(
            GraphAttentionLayer(
                hidden,
                config.edge_dim,
                config.heads,
                config.max_shells,
                config.dropout,
                update_edges=index < config.layers - 1,  # nothing reads the last edges
            )
            for index in range(config.layers)
        )
        self.readouts = nn.ModuleList(
            AttentionReadout(hidden, config.heads, config.readout_steps, config.dropout)
            for _ in range(config.layers)
        )
        n_summaries = config.layers + 1
        self.combine = (
            nn.Linear(n_summaries * hidden, hidden)
            if config.readout_combine == "concat"
            else nn.Identity()
        )
        self.head = nn.Sequential(
            nn.SiLU(),
            nn.Dropout(config.dropout),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, config.n_targets),
        )
        self.register_buffer("target_mean", torch.zeros(config.n_targets))
        self.register_buffer("target_std", torch.ones(config.n_targets))

    def forward(
        self, data: Data | TensorBatch, return_ic: bool = False
    ) -> Tensor | tuple[Tensor, ImportanceDict]:
        """Predict standardised targets.

        Args:
            data: A graph or batch with ``x`` ``(n, F_node)`` and ``u``
                ``(B, F_global)`` raw float features, ``z`` ``(n,)``,
                ``edge_index`` ``(2, E)``, ``edge_distance`` ``(E,)`` angstrom,
                ``edge_shell`` ``(E,)`` and, for batches, ``batch`` ``(n,)``.
            return_ic: Also return the importance coefficients.

        Returns:
            ``(B, n_targets)`` predictions; with ``return_ic``, a tuple of the
            predictions and ``{"node_ic": (n, F_node), "global_ic": (B,
            F_global)}`` (both ``None`` for the ``fcn`` and ``onehot`` encoders).
        """
        out, node_ic, global_ic = self.core(*self.core_inputs(data))
        if return_ic:
            return out, {"node_ic": node_ic, "global_ic": global_ic}
        return out

    def core_inputs(self, data: Data | TensorBatch) -> tuple[Any, ...]:
        """Check a graph or batch and unpack it into the arguments of :meth:`core`.

        Every data-dependent check (feature widths, fitted scalers, atomic
        numbers) happens here, so :meth:`core` is pure tensor arithmetic that
        ``torch.compile`` captures whole.

        Args:
            data: As for :meth:`forward`.

        Returns:
            ``(x, u, z, batch, num_graphs, edge_index, edge_distance, edge_shell)``.

        Raises:
            ValueError: For feature widths other than the model's, or atomic
                numbers the one-hot encoder has no vector for.
            RuntimeError: If the feature scalers were never fitted.
        """
        z = data.z
        batch = getattr(data, "batch", None)
        if batch is None:
            batch = torch.zeros_like(z)
        if self.encoder.uses_features:
            x, u = data.x, data.u
            self._check_widths(x.shape[-1], u.shape[-1])
            self.node_scaler.require_fitted()
            self.global_scaler.require_fitted()
        else:  # the one-hot ablation sees no physical features
            x = u = torch.empty(0, device=z.device)
            self.encoder.check_atomic_numbers(z)
        num_graphs = int(getattr(data, "num_graphs", 1))
        return x, u, z, batch, num_graphs, data.edge_index, data.edge_distance, data.edge_shell

    def compiled_core(self) -> Any:
        """:meth:`core` through ``torch.compile`` with symbolic sizes, as training runs it.

        Atoms and edges per batch change with every batch, so the sizes are
        symbolic (``dynamic=True``): one graph instead of a recompilation per
        shape. Compilation happens on the first call. The training step
        (``sagatsr train --compile``) and the throughput benchmark both call
        this, so the benchmark times exactly what training runs.

        Returns:
            A callable with :meth:`core`'s arguments and results.

        Raises:
            RuntimeError: Under a torch older than :data:`MIN_TORCH_FOR_COMPILE`.
        """
        version = tuple(int(part) for part in torch.__version__.split("+")[0].split(".")[:2])
        if version < MIN_TORCH_FOR_COMPILE:
            wanted = ".".join(map(str, MIN_TORCH_FOR_COMPILE))
            raise RuntimeError(
                f"compiled training needs torch >= {wanted} (this is {torch.__version__}): "
                "under torch 2.11 the compiled step's gradients differed from the eager "
                "step's; train without --compile or install the pinned torch"
            )
        SelfAdaptableEncoding.exclude_from_compilation()
        return torch.compile(self.core, dynamic=True)

    def core(
        self,
        x: Tensor,
        u: Tensor,
        z: Tensor,
        batch: Tensor,
        num_graphs: int,
        edge_index: Tensor,
        edge_distance: Tensor,
        edge_shell: Tensor,
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """The network on checked tensors (see :meth:`core_inputs`); no Python-side data checks.

        Args:
            x: ``(n, F_node)`` raw node features (NaN or inf where missing), or
                an empty tensor for the one-hot encoder.
            u: ``(B, F_global)`` raw global features, likewise.
            z: ``(n,)`` atomic numbers.
            batch: ``(n,)`` structure index of each atom.
            num_graphs: ``B``.
            edge_index: ``(2, E)`` neighbour (row 0) and centre (row 1) atoms.
            edge_distance: ``(E,)`` distances, angstrom.
            edge_shell: ``(E,)`` neighbour-shell index.

        Returns:
            ``(B, n_targets)`` standardised predictions, and the node and
            global importance coefficients (``None`` without an SAE).
        """
        node_valid = global_valid = None
        if self.encoder.uses_features:
            # Missing values get importance 0 in the SAE (a no-op where all are present).
            node_valid, global_valid = torch.isfinite(x), torch.isfinite(u)
            x, u = self.node_scaler(x), self.global_scaler(u)
        encoded = self.encoder(
            x,
            u,
            z=z,
            batch=batch,
            num_graphs=num_graphs,
            node_valid=node_valid,
            global_valid=global_valid,
        )
        h = encoded.node
        edge = self.edge_embedding(self.rbf(edge_distance))
        query = encoded.graph
        summaries = [query]
        for layer, readout in zip(self.layers, self.readouts, strict=True):
            h, edge = layer(h, edge, edge_index, edge_shell)
            query = readout(query, h, batch)
            summaries.append(query)
        if self.config.readout_combine == "concat":
            combined = self.combine(torch.cat(summaries, dim=-1))
        else:
            combined = torch.stack(summaries).sum(0)
        return self.head(combined), encoded.node_ic, encoded.global_ic

    def _check_widths(self, n_node: int, n_global: int) -> None:
        config = self.config
        if (n_node, n_global) != (config.n_node_features, config.n_global_features):
            raise ValueError(
                f"graphs have {n_node} node and {n_global} global features, the model expects "
                f"{config.n_node_features} and {config.n_global_features} (feature catalog "
                f"{config.catalog_version!r}); re-featurize the structures or retrain"
            )

    @torch.no_grad()
    def set_target_stats(
        self, mean: Sequence[float] | Tensor, std: Sequence[float] | Tensor
    ) -> None:
        """Store the target standardisation used in training.

        Args:
            mean: ``(n_targets,)`` mean of each target, physical units.
            std: ``(n_targets,)`` standard deviation of each target (positive).

        Raises:
            ValueError: If shapes are wrong or a standard deviation is not positive.
        """
        mean_t = torch.as_tensor(mean, dtype=self.target_mean.dtype).reshape(-1)
        std_t = torch.as_tensor(std, dtype=self.target_std.dtype).reshape(-1)
        n = self.config.n_targets
        if mean_t.shape != (n,) or std_t.shape != (n,):
            raise ValueError(f"mean and std must have {n} values each")
        if not bool((std_t > 0).all()):
            raise ValueError("target standard deviations must be positive")
        self.target_mean.copy_(mean_t)
        self.target_std.copy_(std_t)

    def predict_structures(
        self, structures: Sequence[Any], *, batch_size: int = 256, workers: int = 1
    ) -> Tensor:
        """Predict pymatgen structures, building their graphs with the model's own settings.

        The model knows the neighbour settings and featurizer it was trained
        with (:attr:`ModelConfig.neighbors`), so no caller repeats them.

        Args:
            structures: Ordered pymatgen ``Structure`` objects.
            batch_size: Graphs per forward pass.
            workers: Processes that build the graphs.

        Returns:
            ``(N, n_targets)`` predictions in physical units.

        Raises:
            ValueError: If the model was trained on another featurizer version.
        """
        from sagatsr.model.structures import predict_arrays_with_ic, structure_arrays

        graphs = structure_arrays(self, structures, workers=workers)
        values, _ = predict_arrays_with_ic(self, graphs, batch_size=batch_size)
        return torch.from_numpy(values)

    @torch.no_grad()
    def predict(self, data: Data | TensorBatch) -> Tensor:
        """Predict in physical units (eval mode, no gradients).

        The module's training flag is restored afterwards.

        Args:
            data: A graph or batch, as for :meth:`forward`.

        Returns:
            ``(B, n_targets)`` de-standardised predictions.
        """
        was_training = self.training
        self.eval()
        try:
            out = self.forward(data)
        finally:
            self.train(was_training)
        return out * self.target_std + self.target_mean
