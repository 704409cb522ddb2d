"""The attention readout: a pooled summary per structure, blind to atom order and to others."""

import torch

from sagatsr.model.readout import AttentionReadout


def make_batch(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    sizes = [3, 1, 5]
    batch = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    x = torch.randn(sum(sizes), 8, generator=generator)
    query = torch.randn(len(sizes), 8, generator=generator)
    return query, x, batch


def readout(steps: int = 2) -> AttentionReadout:
    torch.manual_seed(0)
    return AttentionReadout(hidden=8, heads=2, steps=steps, dropout=0.0).eval()


def test_the_summary_ignores_the_order_of_the_atoms_within_a_structure() -> None:
    module = readout()
    query, x, batch = make_batch()
    order = torch.tensor([2, 0, 1, 3, 8, 4, 7, 5, 6])  # shuffled within each structure
    assert torch.equal(batch[order], batch)
    torch.testing.assert_close(module(query, x[order], batch), module(query, x, batch))


def test_a_structure_s_summary_does_not_depend_on_the_others() -> None:
    module = readout()
    query, x, batch = make_batch()
    changed = x.clone()
    changed[batch == 2] += 1.0
    before, after = module(query, x, batch), module(query, changed, batch)
    torch.testing.assert_close(after[:2], before[:2])
    assert not torch.allclose(after[2], before[2])
    torch.testing.assert_close(
        module(query[1:2], x[3:4], torch.zeros(1, dtype=torch.long)), before[1:2]
    )


def test_one_step_on_a_single_atom_pools_exactly_its_value() -> None:
    module = readout(steps=1)
    query, x = torch.randn(1, 8), torch.randn(1, 8)
    value = module.key_value(x).chunk(2, dim=-1)[1]  # softmax over one atom is 1
    expected = module.norm(query + module.update(torch.cat([query, value], dim=-1)))
    torch.testing.assert_close(module(query, x, torch.zeros(1, dtype=torch.long)), expected)
