import pytest
import torch
from torch_geometric.data import Batch

from sagatsr.model import SAGAT, fit_scalers
from tests.model.helpers import make_graphs, small_config


@pytest.mark.parametrize("embedding", ["sae", "fcn", "onehot"])
def test_tiny_overfit(embedding: str) -> None:
    torch.manual_seed(0)
    graphs = make_graphs(8)
    batch = Batch.from_data_list(graphs)
    target = (batch.y - batch.y.mean()) / batch.y.std()
    model = SAGAT(small_config(embedding, dropout=0.0))
    fit_scalers(model, graphs)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=300)
    model.train()
    for _ in range(300):
        optimizer.zero_grad()
        loss = (model(batch) - target).abs().mean()
        loss.backward()
        optimizer.step()
        schedule.step()
    model.eval()
    assert (model(batch) - target).abs().mean().item() < 0.05
