import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader

from sagatsr.graphs.packed import PackedGraphs, packed_loader


def random_graph(seed: int, *, with_y: bool = True) -> Data:
    generator = torch.Generator().manual_seed(seed)
    n = int(torch.randint(1, 7, (1,), generator=generator))
    e = int(torch.randint(1, 20, (1,), generator=generator))
    data = Data(
        x=torch.randn(n, 3, generator=generator),
        u=torch.randn(1, 4, generator=generator),
        z=torch.randint(1, 90, (n,), generator=generator),
        role=torch.randint(0, 3, (n,), generator=generator),
        edge_index=torch.randint(0, n, (2, e), generator=generator),
        edge_distance=torch.rand(e, generator=generator),
        edge_shell=torch.randint(0, 4, (e,), generator=generator),
        num_nodes=n,
    )
    if with_y:
        data.y = torch.randn(1, 1, generator=generator)
    return data


FIELDS = ("x", "u", "z", "role", "edge_index", "edge_distance", "edge_shell", "y", "batch", "ptr")


def test_a_packed_batch_equals_pyg_collation() -> None:
    graphs = [random_graph(seed) for seed in range(12)]
    packed = PackedGraphs(graphs)
    positions = [7, 0, 11, 3, 3]
    expected = Batch.from_data_list([graphs[i] for i in positions])
    batch = packed.collate(positions)
    for name in FIELDS:
        assert torch.equal(batch[name], expected[name]), name
    assert batch.num_graphs == expected.num_graphs == 5


def test_the_loader_gives_pyg_batches_in_the_same_shuffled_order() -> None:
    graphs = [random_graph(seed) for seed in range(20)]
    ours = packed_loader(graphs, 6, shuffle=True, generator=torch.Generator().manual_seed(4))
    theirs = DataLoader(
        graphs, batch_size=6, shuffle=True, generator=torch.Generator().manual_seed(4)
    )
    for first, second in zip(ours, theirs, strict=True):
        for name in FIELDS:
            assert torch.equal(first[name], second[name]), name


def test_attributes_present_in_only_some_graphs_are_an_error() -> None:
    graphs = [random_graph(0), random_graph(1, with_y=False)]
    with pytest.raises(ValueError, match="'y'"):
        PackedGraphs(graphs)
    with pytest.raises(ValueError, match="empty"):
        PackedGraphs([])
