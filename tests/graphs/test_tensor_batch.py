import subprocess
import sys

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

from sagatsr.graphs.arrays import GraphArrays
from sagatsr.graphs.build import to_data
from sagatsr.graphs.tensor_batch import TensorBatch, batch_arrays, iter_batches

FIELDS = ("x", "u", "z", "role", "edge_index", "edge_distance", "edge_shell", "batch", "ptr")


def random_arrays(seed: int) -> GraphArrays:
    rng = np.random.default_rng(seed)
    n, e = int(rng.integers(1, 7)), int(rng.integers(1, 20))
    return GraphArrays(
        node_features=rng.normal(size=(n, 3)).astype(np.float32),
        global_features=rng.normal(size=4).astype(np.float32),
        atomic_numbers=rng.integers(1, 90, n).astype(np.int64),
        roles=rng.integers(0, 3, n).astype(np.int64),
        edge_index=rng.integers(0, n, (2, e)).astype(np.int64),
        edge_distance=rng.random(e).astype(np.float32),
        edge_shell=rng.integers(0, 4, e).astype(np.int64),
        is_perovskite=True,
    )


def test_a_batch_of_arrays_equals_pyg_collation_of_their_data() -> None:
    graphs = [random_arrays(seed) for seed in range(9)]
    expected = Batch.from_data_list([to_data(g) for g in graphs])
    batch = batch_arrays(graphs)
    for name in FIELDS:
        ours, theirs = getattr(batch, name), expected[name]
        assert ours.dtype == theirs.dtype, name
        assert torch.equal(ours, theirs), name
    assert batch.num_graphs == expected.num_graphs == 9


def test_batches_keep_order_and_size_and_move_to_a_device() -> None:
    graphs = [random_arrays(seed) for seed in range(7)]
    batches = list(iter_batches(graphs, 3))
    assert [b.num_graphs for b in batches] == [3, 3, 1]
    assert torch.equal(batches[2].z, torch.from_numpy(graphs[6].atomic_numbers))
    moved = batches[0].to("cpu")
    assert isinstance(moved, TensorBatch) and torch.equal(moved.edge_index, batches[0].edge_index)


def test_empty_input_and_a_bad_batch_size_are_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        batch_arrays([])
    with pytest.raises(ValueError, match="batch_size"):
        list(iter_batches([random_arrays(0)], 0))


def test_prediction_modules_do_not_import_pytorch_geometric() -> None:
    code = (
        "import sys, sagatsr.predict, sagatsr.model.network, sagatsr.graphs.tensor_batch; "
        "print('torch_geometric' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
