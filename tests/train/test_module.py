"""The Lightning module's optimiser groups."""

import lightning.pytorch as pl
import pytest

from sagatsr.train.config import TrainConfig
from sagatsr.train.module import SAGATModule
from tests.model.helpers import small_config


@pytest.mark.parametrize("scale", [1.0, 10.0])
def test_the_score_vectors_get_their_own_learning_rate(scale: float) -> None:
    config = small_config(sae_score_lr_scale=scale)
    module = SAGATModule(config.to_dict(), TrainConfig(lr=1e-3).to_dict())
    module.trainer = pl.Trainer(
        max_steps=10, logger=False, enable_checkpointing=False, enable_progress_bar=False
    )
    groups = module.configure_optimizers()["optimizer"].param_groups
    n_params = len(list(module.model.parameters()))
    if scale == 1.0:
        assert [(len(g["params"]), g["lr"]) for g in groups] == [(n_params, 1e-3)]
    else:
        assert [(len(g["params"]), g["lr"]) for g in groups] == [
            (n_params - 2, 1e-3),
            (2, pytest.approx(1e-2)),
        ]
        scores = {
            id(module.model.encoder.node_sae.attention),
            id(module.model.encoder.global_sae.attention),
        }
        assert {id(p) for p in groups[1]["params"]} == scores
