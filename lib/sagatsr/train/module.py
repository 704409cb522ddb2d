"""The Lightning module: L1 (or MSE) loss on standardised targets, AdamW, warm-up + decay."""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
import torch
import torchmetrics
from torch import Tensor
from torch.nn import functional

from sagatsr.model import SAGAT, ModelConfig
from sagatsr.model.sae import ic_entropy
from sagatsr.train.config import TrainConfig, lr_factor


class SAGATModule(pl.LightningModule):
    """Wraps a :class:`~sagatsr.model.SAGAT` for training.

    The network predicts standardised targets; its own buffers hold the feature
    scalers and target statistics (set before training), so a checkpoint
    restores everything needed to predict in physical units.

    Args:
        model_config: :meth:`ModelConfig.to_dict` output.
        train_config: :meth:`TrainConfig.to_dict` output.
    """

    def __init__(self, model_config: dict[str, Any], train_config: dict[str, Any]) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.model = SAGAT(ModelConfig.from_dict(model_config))
        self.train_config = TrainConfig.from_dict(train_config)
        self.val_mae = torchmetrics.MeanAbsoluteError()
        self.val_rmse = torchmetrics.MeanSquaredError(squared=False)
        self._compiled_core: Any = None

    def forward(self, batch: Any) -> Tensor:
        """Standardised predictions ``(B, n_targets)``."""
        return self.model(batch)

    def _training_forward(self, batch: Any) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """The network in training, through ``torch.compile`` when the config asks for it.

        Only the training step is compiled: validation and prediction run a few
        hundred batches per epoch, not worth a second compilation for
        gradient-free mode.

        Returns:
            Standardised predictions ``(B, n_targets)`` and the node and global
            importance coefficients (``None`` without an SAE).
        """
        core = self.model.core
        if self.train_config.compile:
            if self._compiled_core is None:
                self._compiled_core = self.model.compiled_core()
            core = self._compiled_core
        return core(*self.model.core_inputs(batch))

    def _entropy_penalty(self, node_ic: Tensor | None, global_ic: Tensor | None) -> Tensor | None:
        """``sae_entropy_penalty`` x mean normalised IC entropy of nodes and structures."""
        weight = self.model.config.sae_entropy_penalty
        if weight <= 0 or node_ic is None or global_ic is None:
            return None
        return weight * 0.5 * (ic_entropy(node_ic) + ic_entropy(global_ic))

    def _standardised_target(self, batch: Any) -> Tensor:
        return (batch.y - self.model.target_mean) / self.model.target_std

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        """The configured loss (L1 or MSE) on standardised targets, plus any IC entropy penalty.

        ``train_loss`` is logged without the penalty (comparable across encodings);
        ``train_ic_entropy_penalty`` is logged beside it when there is one.
        """
        prediction, node_ic, global_ic = self._training_forward(batch)
        target = self._standardised_target(batch)
        if self.train_config.loss == "l1":
            loss = functional.l1_loss(prediction, target)
        else:
            loss = functional.mse_loss(prediction, target)
        penalty = self._entropy_penalty(node_ic, global_ic)
        if penalty is not None:
            self.log(
                "train_ic_entropy_penalty",
                penalty,
                on_step=False,
                on_epoch=True,
                batch_size=batch.num_graphs,
                sync_dist=True,
            )
        self.log(
            "train_loss",
            loss,
            on_step=False,
            on_epoch=True,
            prog_bar=True,
            batch_size=batch.num_graphs,
            sync_dist=True,
        )
        return loss if penalty is None else loss + penalty

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """Accumulate the validation MAE and RMSE in physical units."""
        physical = self.model(batch) * self.model.target_std + self.model.target_mean
        self.val_mae.update(physical, batch.y)
        self.val_rmse.update(physical, batch.y)
        for name, metric in (("val_mae", self.val_mae), ("val_rmse", self.val_rmse)):
            self.log(
                name,
                metric,
                on_step=False,
                on_epoch=True,
                prog_bar=name == self.train_config.monitor,
                batch_size=batch.num_graphs,
            )

    def configure_optimizers(self) -> dict[str, Any]:
        """AdamW with a per-step warm-up and polynomial decay schedule.

        The fused AdamW kernel (CPU and CUDA) updates every parameter in one call
        instead of a dozen small operations per parameter tensor. The SAE score
        vectors get ``sae_score_lr_scale`` times the learning rate (a second
        parameter group, only when the scale is not 1).
        """
        config = self.train_config
        fused = all(p.device.type in ("cpu", "cuda") for p in self.model.parameters())
        scale = self.model.config.sae_score_lr_scale
        scores = [p for n, p in self.model.named_parameters() if n.endswith("sae.attention")]
        if scale == 1.0 or not scores:
            groups: Any = self.model.parameters()
        else:
            chosen = {id(p) for p in scores}
            rest = [p for p in self.model.parameters() if id(p) not in chosen]
            groups = [{"params": rest}, {"params": scores, "lr": config.lr * scale}]
        optimizer = torch.optim.AdamW(
            groups, lr=config.lr, weight_decay=config.weight_decay, fused=fused
        )
        total = int(self.trainer.estimated_stepping_batches)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: lr_factor(step, total, config)
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
