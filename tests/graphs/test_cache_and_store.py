import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from sagatsr.graphs.arrays import GraphArrays
from sagatsr.graphs.build import to_data
from sagatsr.graphs.cache import GraphCache, cache_key
from sagatsr.graphs.store import GraphStore, read_store_ids, save_graph_store


def fake_graph(n: int, e: int, seed: int) -> GraphArrays:
    rng = np.random.default_rng(seed)
    return GraphArrays(
        node_features=rng.normal(size=(n, 4)).astype(np.float32),
        global_features=rng.normal(size=(7,)).astype(np.float32),
        atomic_numbers=rng.integers(1, 90, size=n),
        roles=rng.integers(0, 3, size=n),
        edge_index=rng.integers(0, n, size=(2, e)),
        edge_distance=rng.uniform(1, 5, size=e).astype(np.float32),
        edge_shell=rng.integers(0, 4, size=e),
        is_perovskite=bool(seed % 2),
    )


def assert_same(a: GraphArrays, b: GraphArrays) -> None:
    for name in a.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_cache_roundtrip_and_misses(tmp_path) -> None:
    graphs = {cache_key(f"fp{i}", "feat-v1"): fake_graph(3 + i, 5 + i, i) for i in range(3)}
    with GraphCache(tmp_path / "c.sqlite") as cache:
        cache.put_many((k, "feat-v1", g) for k, g in graphs.items())
    with GraphCache(tmp_path / "c.sqlite") as cache:  # persisted across connections
        found = cache.get_many([*list(graphs), cache_key("fp0", "feat-v2")])
        assert set(found) == set(graphs)
        for key, graph in graphs.items():
            assert_same(found[key], graph)
        assert len(cache) == 3


def test_cache_key_depends_on_structure_and_featurizer() -> None:
    keys = {cache_key(fp, feat) for fp in ("a", "b") for feat in ("v1", "v2")}
    assert len(keys) == 4


def test_prune_removes_other_featurizer_versions(tmp_path) -> None:
    with GraphCache(tmp_path / "c.sqlite") as cache:
        cache.put_many([("k1", "old", fake_graph(2, 2, 0)), ("k2", "new", fake_graph(2, 2, 1))])
        assert cache.prune("new") == 1
        assert set(cache.get_many(["k1", "k2"])) == {"k2"}


def test_store_roundtrip(tmp_path) -> None:
    graphs = {f"id-{i}": fake_graph(2 + i, 3 * i + 1, i) for i in range(4)}
    path = tmp_path / "graphs.npz"
    save_graph_store(path, graphs, featurizer="feat-v1")
    store = GraphStore(path)
    assert store.ids == list(graphs)
    assert read_store_ids(path) == list(graphs)
    assert store.featurizer == "feat-v1"
    assert store.global_features.shape == (4, 7)
    for position, graph in enumerate(graphs.values()):
        assert_same(store.graph(position), graph)
    assert store.index_of(["id-2", "id-0"]).tolist() == [2, 0]
    with pytest.raises(KeyError, match="id-9"):
        store.index_of(["id-9"])
    picked = store.graphs_of(["id-3", "id-1"])
    assert_same(picked[0], graphs["id-3"])
    assert_same(picked[1], graphs["id-1"])
    assert store.graphs_of([]) == []
    with pytest.raises(KeyError, match="id-9"):
        store.graphs_of(["id-0", "id-9"])


def test_graphs_from_a_store_own_only_their_edges(tmp_path) -> None:
    # A store's per-graph edge_index is a strided view of one (2, E_total) array;
    # its tensor must not keep (and pickle) the span of every other graph's edges.
    graphs = {f"id-{i}": fake_graph(3, 2_000, i) for i in range(3)}
    save_graph_store(tmp_path / "graphs.npz", graphs, featurizer="feat-v1")
    data = to_data(GraphStore(tmp_path / "graphs.npz").graph(1))
    assert data.edge_index.tolist() == graphs["id-1"].edge_index.tolist()
    for name in ("x", "u", "z", "edge_index", "edge_distance", "edge_shell"):
        tensor = data[name]
        assert tensor.untyped_storage().nbytes() == tensor.numel() * tensor.element_size(), name
    assert len(pickle.dumps(data)) < 2 * 2_000 * 8 + 2 * 2_000 * 12


@pytest.mark.parametrize("read", [GraphStore, read_store_ids])
def test_store_rejects_missing_and_foreign_files(tmp_path, read) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.npz"):
        read(tmp_path / "nope.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3), ids=np.array(["x"]))
    with pytest.raises(ValueError, match=r"not a sagatsr-graphs-1"):
        read(tmp_path / "other.npz")


def test_cache_key_depends_on_the_pymatgen_version(monkeypatch) -> None:
    import sagatsr.graphs.cache as cache_module

    before = cache_key("a", "v1")
    monkeypatch.setattr(cache_module, "PYMATGEN_VERSION", "0.0.0")
    assert cache_key("a", "v1") != before


def test_cache_key_depends_on_the_code_and_tables_that_build_graphs(monkeypatch, tmp_path) -> None:
    import sagatsr
    import sagatsr.graphs.cache as cache_module

    package = Path(sagatsr.__file__).parent
    assert cache_module.source_digest(package) == cache_module.SOURCE_DIGEST
    copy = tmp_path / "sagatsr"
    for source in cache_module.GRAPH_SOURCES:
        target = copy / source
        target.parent.mkdir(parents=True, exist_ok=True)
        if (package / source).is_dir():
            shutil.copytree(package / source, target)
        else:
            shutil.copy(package / source, target)
    assert cache_module.source_digest(copy) == cache_module.SOURCE_DIGEST
    roles = copy / "data" / "roles.py"
    roles.write_text(roles.read_text() + "\n# an edit\n")
    edited = cache_module.source_digest(copy)
    assert edited != cache_module.SOURCE_DIGEST
    table = next((copy / "data" / "tables").iterdir())
    table.write_text(table.read_text() + "\n")
    assert cache_module.source_digest(copy) not in (edited, cache_module.SOURCE_DIGEST)
    (copy / "graphs" / "neighbors.py").unlink()
    with pytest.raises(FileNotFoundError, match=r"neighbors\.py"):
        cache_module.source_digest(copy)
    before = cache_key("a", "v1")
    monkeypatch.setattr(cache_module, "SOURCE_DIGEST", edited)
    assert cache_key("a", "v1") != before
