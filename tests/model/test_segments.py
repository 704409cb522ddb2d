import pytest
import torch
from torch_geometric.utils import softmax

from sagatsr.model.segments import segment_softmax


@pytest.mark.parametrize("shape", [(40,), (40, 4)])
def test_segment_softmax_is_bit_identical_to_pyg_forward_and_backward(shape) -> None:
    generator = torch.Generator().manual_seed(3)
    src = (torch.randn(*shape, generator=generator) * 5).requires_grad_()
    index = torch.randint(0, 9, (shape[0],), generator=generator)  # some segments stay empty
    ours = segment_softmax(src, index, 12)
    theirs = softmax(src, index, num_nodes=12)
    assert torch.equal(ours, theirs)
    weights = torch.randn(*shape, generator=generator)
    (grad_ours,) = torch.autograd.grad((ours * weights).sum(), src)
    (grad_theirs,) = torch.autograd.grad((theirs * weights).sum(), src)
    assert torch.equal(grad_ours, grad_theirs)


def test_weights_sum_to_one_within_each_segment() -> None:
    src = torch.tensor([1000.0, 1001.0, -3.0, 0.5, 0.5])
    index = torch.tensor([0, 0, 2, 2, 2])
    out = segment_softmax(src, index, 3)
    assert torch.isfinite(out).all()
    sums = torch.zeros(3).index_add_(0, index, out)
    assert torch.allclose(sums[[0, 2]], torch.ones(2))
    assert torch.allclose(out[:2], torch.softmax(src[:2], 0))
