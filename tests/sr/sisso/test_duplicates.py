"""Near-duplicate features: the sorted-projection search finds exactly the all-pairs answer."""

import torch

from sagatsr.sr.sisso.duplicates import DUPLICATE_TOL, greedy_keep, near_duplicate_pairs


def brute_force_pairs(values: torch.Tensor, tol: float) -> set[tuple[int, int]]:
    centred = values - values.mean(0)
    unit = centred / centred.norm(dim=0)
    corr = (unit.T @ unit).abs()
    m = values.shape[1]
    return {(i, j) for i in range(m) for j in range(i + 1, m) if corr[i, j] > 1.0 - tol}


def columns_with_planted_duplicates() -> torch.Tensor:
    generator = torch.Generator().manual_seed(3)
    base = torch.randn(50, 40, generator=generator, dtype=torch.float64)
    copies = [
        3.0 * base[:, 0] + 7.0,  # scaled and shifted: |corr| = 1
        -base[:, 1],  # negated
        base[:, 2] + 1e-9 * torch.randn(50, generator=generator, dtype=torch.float64),  # near
        base[:, 3] + 1e-3 * torch.randn(50, generator=generator, dtype=torch.float64),  # not
        2.0 * base[:, 0],  # a third member of the first group
    ]
    return torch.cat([base, torch.stack(copies, dim=1)], dim=1)


def test_the_search_finds_the_brute_force_pairs() -> None:
    values = columns_with_planted_duplicates()
    centred = values - values.mean(0)
    pairs = near_duplicate_pairs(values, values.mean(0), centred.norm(dim=0))
    found = {tuple(p) for p in pairs.tolist()}
    assert found == brute_force_pairs(values, DUPLICATE_TOL)
    assert {(0, 40), (0, 44), (40, 44), (1, 41)} <= found and (3, 43) not in found
    for tol in (1e-6, 1e-12):  # another tolerance, and columns standardised in small chunks
        pairs = near_duplicate_pairs(values, values.mean(0), centred.norm(dim=0), tol=tol, chunk=7)
        assert {tuple(p) for p in pairs.tolist()} == brute_force_pairs(values, tol)


def test_greedy_keep_drops_each_column_that_duplicates_a_kept_one() -> None:
    pairs = torch.tensor([[0, 2], [2, 3], [1, 4]])
    order = torch.tensor([2, 0, 3, 1, 4, 5])
    assert greedy_keep(order, pairs).tolist() == [2, 1, 5]  # 0 and 3 duplicate 2, 4 duplicates 1
    assert greedy_keep(order, pairs, limit=2).tolist() == [2, 1]
    assert greedy_keep(order, torch.empty(0, 2, dtype=torch.long), limit=3).tolist() == [2, 0, 3]
