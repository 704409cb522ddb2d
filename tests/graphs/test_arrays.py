"""Structure -> graph arrays -> PyG Data, and the cache keyed by content and featurizer."""

import numpy as np
import pytest
import torch

from sagatsr.features import GLOBAL_FEATURES, NODE_FEATURES
from sagatsr.graphs import arrays as graph_arrays
from sagatsr.graphs.arrays import build_graph_arrays, featurizer_key, structure_fingerprint
from sagatsr.graphs.batch_build import GraphBuildError, build_graphs
from sagatsr.graphs.build import to_data
from sagatsr.graphs.cache import GraphCache
from sagatsr.graphs.neighbors import NeighborConfig
from tests.data.test_roles import cubic_perovskite, tilted_perovskite
from tests.support.datasets import GOOD


def test_graph_arrays_of_srtio3() -> None:
    arrays = build_graph_arrays(GOOD["p-1"], NeighborConfig())
    assert arrays.node_features.shape == (5, len(NODE_FEATURES))
    assert arrays.global_features.shape == (len(GLOBAL_FEATURES),)
    assert arrays.roles.tolist() == [0, 1, 2, 2, 2] and arrays.is_perovskite
    assert arrays.atomic_numbers.tolist() == [38, 22, 8, 8, 8]
    assert np.bincount(arrays.edge_index[1]).tolist() == [12, 14, 14, 14, 14]
    data = to_data(arrays, graph_id="p-1", y=np.array([1.0, np.nan]))
    assert data.x.shape == (5, len(NODE_FEATURES)) and data.u.shape == (1, len(GLOBAL_FEATURES))
    assert data.y.shape == (1, 2) and torch.isnan(data.y[0, 1]) and data.id == "p-1"


def test_tilted_40_atom_cell() -> None:
    arrays = build_graph_arrays(tilted_perovskite(phi_minus=0.1), NeighborConfig())
    assert arrays.node_features.shape == (40, len(NODE_FEATURES))
    assert np.isfinite(arrays.global_features).all()


def test_fingerprint_ignores_periodic_wrapping_but_not_content() -> None:
    structure = GOOD["p-1"]
    shifted = structure.copy()
    shifted.translate_sites([0], [1.0, 0.0, -2.0], frac_coords=True, to_unit_cell=False)
    assert structure_fingerprint(shifted) == structure_fingerprint(structure)
    strained = cubic_perovskite("Sr", "Ti", ["O"] * 3, a=3.95)
    assert structure_fingerprint(strained) != structure_fingerprint(structure)


def test_cache_hits_and_invalidation(tmp_path, monkeypatch) -> None:
    items = list(GOOD.items())
    config = NeighborConfig()
    with GraphCache(tmp_path / "graphs.sqlite") as cache:
        first = build_graphs(items, config, cache=cache)
        assert (first.n_built, first.n_from_cache) == (6, 0)
        again = build_graphs(items, config, cache=cache)
        assert (again.n_built, again.n_from_cache) == (0, 6)
        for key, arrays in first.graphs.items():
            np.testing.assert_array_equal(again.graphs[key].global_features, arrays.global_features)
        # New neighbour settings miss the cache.
        other = build_graphs(items, NeighborConfig(max_neighbors=8), cache=cache)
        assert other.n_built == 6
        # A new featurizer version misses the cache too.
        monkeypatch.setattr(graph_arrays, "FEATURIZER_VERSION", "test-bump")
        assert "test-bump" in featurizer_key(config)
        bumped = build_graphs(items, config, cache=cache)
        assert (bumped.n_built, bumped.n_from_cache) == (6, 0)


def test_failure_policy(tmp_path) -> None:
    from pymatgen.core import Lattice, Structure

    lonely = Structure(Lattice.cubic(30.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    items = [("ok", GOOD["p-1"]), ("lonely", lonely)]
    result = build_graphs(items, NeighborConfig(), on_error="skip")
    assert list(result.graphs) == ["ok"]
    assert result.failures[0][0] == "lonely" and "no neighbour" in result.failures[0][1]
    with pytest.raises(GraphBuildError, match="'lonely'"):
        build_graphs(items, NeighborConfig(), on_error="error")


def test_parallel_build_matches_serial() -> None:
    items = [(f"{k}-{i}", s) for i in range(50) for k, s in GOOD.items()]
    serial = build_graphs(items, NeighborConfig(), workers=1)
    parallel = build_graphs(items, NeighborConfig(), workers=2, chunk_size=64)
    assert list(serial.graphs) == list(parallel.graphs)
    for key in serial.graphs:
        np.testing.assert_array_equal(
            serial.graphs[key].node_features, parallel.graphs[key].node_features
        )
