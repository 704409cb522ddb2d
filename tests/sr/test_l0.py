import itertools

import numpy as np
import pytest
import torch

from sagatsr.sr.sisso.l0 import best_subsets


def brute_force(x, y, d):
    """All d-subsets ranked by the SSE of numpy's least squares with intercept."""
    results = []
    for subset in itertools.combinations(range(x.shape[1]), d):
        design = np.column_stack([np.ones(len(y)), x[:, subset]])
        solution, *_ = np.linalg.lstsq(design, y, rcond=None)
        results.append((float(np.sum((y - design @ solution) ** 2)), subset))
    return sorted(results)


def standardized(x, y):
    xc = x - x.mean(axis=0)
    z = xc / np.linalg.norm(xc, axis=0)
    return torch.as_tensor(z), torch.as_tensor(y - y.mean())


@pytest.mark.parametrize(("n", "u"), [(25, 7), (40, 10)])
@pytest.mark.parametrize("d", [1, 2, 3, 4])
@pytest.mark.parametrize("chunk_size", [2**20, 5])
def test_l0_equals_brute_force_least_squares(n, u, d, chunk_size):
    rng = np.random.default_rng(n * 100 + u * 10 + d)
    x = rng.normal(size=(n, u)) * rng.uniform(0.1, 10, u) + rng.normal(0, 5, u)
    y = x[:, 0] - 0.3 * x[:, -1] + rng.normal(size=n)
    expected = brute_force(x, y, d)[:6]
    subsets, sse = best_subsets(*standardized(x, y), d, 6, chunk_size=chunk_size)
    assert [tuple(s) for s in subsets.tolist()] == [s for _, s in expected]
    np.testing.assert_allclose(sse.numpy(), [e for e, _ in expected], rtol=1e-8, atol=1e-10)


def test_l0_skips_linearly_dependent_subsets():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, 30))
    y = a + b + 0.1 * rng.normal(size=30)
    x = np.column_stack([a, b, a + b, rng.normal(size=30)])
    subsets, _ = best_subsets(*standardized(x, y), 3, 10)
    found = [tuple(s) for s in subsets.tolist()]
    assert (0, 1, 2) not in found
    assert len(found) == 3  # C(4, 3) = 4 subsets minus the singular one


def test_l0_handles_dimension_larger_than_union():
    z, y = standardized(np.random.default_rng(0).normal(size=(10, 2)), np.arange(10.0))
    subsets, sse = best_subsets(z, y, 3, 1)
    assert subsets.shape == (0, 3) and sse.numel() == 0
