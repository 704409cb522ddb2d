"""Preparing a dataset end to end: validation report, subsets, graphs, splits, manifest."""

import json
import zipfile

import pandas as pd
import pytest

from sagatsr.config import mirror_root
from sagatsr.graphs.neighbors import NeighborConfig
from sagatsr.prepare import PreparedDataset, prepare_dataset
from tests.support.datasets import GOOD, cif


def castelli_like(root, n_copies: int = 4):
    """A tiny castelli_perovskites mirror folder (ids, anion sets, Matbench folds) + bad rows."""
    folder = root / "castelli_perovskites"
    folder.mkdir(parents=True)
    rows = ["id,formula,anion_set,e_form,gap_gllbsc,matbench_test_fold"]
    with zipfile.ZipFile(folder / "structures.zip", "w") as archive:
        index = 0
        for copy in range(n_copies):
            for structure in GOOD.values():
                index += 1
                entry_id = f"mb-perovskites-{index:05d}"
                strained = structure.copy()
                strained.scale_lattice(structure.volume * (1 + 0.01 * copy))
                archive.writestr(f"{entry_id}.cif", cif(strained))
                x = sorted(s.specie.symbol for s in structure if s.specie.symbol in "ONI")
                anion = {"OOO": "O3", "NOO": "NO2", "III": "I3"}["".join(x)]
                e_form = 99 if index == 2 else 1 + index / 10  # 99 eV/cell: absurd
                rows.append(f"{entry_id},X,{anion},{e_form},0.0,{index % 5}")
        archive.writestr("bad.cif", "not a cif")
    rows.append("bad,X,O3,1.0,0.0,1")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    return root


def test_prepare_a_small_castelli_mirror(tmp_path) -> None:
    root = castelli_like(tmp_path / "mirror")
    out = tmp_path / "prepared"
    metrics = tmp_path / "metrics.json"
    prepared = prepare_dataset(
        "castelli_perovskites",
        raw_root=root,
        out_dir=out,
        cache_path=tmp_path / "cache.sqlite",
        neighbors=NeighborConfig(),
        metrics_path=metrics,
    )
    m = prepared.manifest
    assert (m["n_entries"], m["n_records"], m["n_skipped"], m["n_graphs"]) == (25, 24, 1, 24)
    assert m["subset_counts"] == {"ABO3": 16, "ABX3": 0, "AB(OX)3": 4, "all": 24}
    issues = prepared.validation_issues().set_index("id")
    assert issues.loc["bad", "kind"] == "unparsable_cif"
    assert issues.loc["mb-perovskites-00002", ["kind", "action"]].tolist() == [
        "absurd_target",
        "mask",
    ]
    assert pd.isna(prepared.records().loc["mb-perovskites-00002", "e_form"])
    # Matbench folds: test = the fold, validation slice carved from the training part.
    splits = prepared.split_table()
    assert set(splits.query("subset == 'all'")["split"]) == {f"matbench_fold{k}" for k in range(5)}
    fold0 = (out / "splits" / "all" / "matbench_fold0" / "test.txt").read_text().split()
    records = prepared.records()
    assert all(records.loc[i, "meta_matbench_test_fold"] == 0 for i in fold0)
    assert json.loads(metrics.read_text())["n_graphs"] == 24
    assert prepared.graphs().global_features.shape == (24, len(m["global_features"]))
    assert prepared.graphs() is prepared.graphs()  # the store is read once per dataset object
    described = prepared.describe()
    assert "1 absurd_target (mask)" in described and "1 unparsable_cif (skip)" in described
    assert f"each in {out / 'validation.csv'}" in described and "graph failures" not in described
    assert PreparedDataset.load(out).manifest == m
    frame = prepared.global_feature_frame("ABO3")
    assert frame.shape[0] == 16 and "tolerance_factor" in frame.columns


def test_prepare_never_leaves_a_half_written_folder(tmp_path) -> None:
    root = castelli_like(tmp_path / "mirror", n_copies=1)
    out = tmp_path / "prepared"
    with pytest.raises(KeyError, match="unknown dataset"):
        prepare_dataset("nope", raw_root=root, out_dir=out)
    assert not out.exists()
    with pytest.raises(FileNotFoundError, match="no folder oqmd_perovskites"):
        prepare_dataset("oqmd_perovskites", raw_root=root, out_dir=out)
    assert not out.exists() and list(tmp_path.glob(".prepared*")) == []


def test_prepare_refuses_an_output_folder_it_did_not_write(tmp_path) -> None:
    root = castelli_like(tmp_path / "mirror", n_copies=1)
    users_data = tmp_path / "data"
    users_data.mkdir()
    (users_data / "structures.cif").write_text("precious")
    with pytest.raises(FileExistsError, match="is not a prepared dataset"):
        prepare_dataset("castelli_perovskites", raw_root=root, out_dir=users_data)
    assert (users_data / "structures.cif").read_text() == "precious"
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    with pytest.raises(FileExistsError, match="is a file"):
        prepare_dataset("castelli_perovskites", raw_root=root, out_dir=a_file)
    assert a_file.read_text() == "mine"
    # An empty folder and a dataset prepared before are replaced.
    empty = tmp_path / "empty"
    empty.mkdir()
    first = prepare_dataset("castelli_perovskites", raw_root=root, out_dir=empty)
    (empty / "stale.txt").write_text("from an older run")
    again = prepare_dataset("castelli_perovskites", raw_root=root, out_dir=empty)
    assert again.manifest["n_records"] == first.manifest["n_records"]
    assert not (empty / "stale.txt").exists()


def test_prepare_the_mirror_heads_of_all_three_datasets(tmp_path) -> None:
    from tests.support.mirror import mirror_root as test_mirror
    from tests.support.mirror import require_mirror

    try:
        root = mirror_root(None)
    except FileNotFoundError:
        root = None
    root = require_mirror((root or test_mirror()) / "oqmd_perovskites").parent
    for name, subsets in (
        ("castelli_perovskites", {"ABO3", "ABX3", "AB(OX)3", "all"}),
        ("oqmd_perovskites", {"ABO3", "ABX3", "AB(OX)3", "all"}),
        ("mp20_subset", {"all"}),
    ):
        prepared = prepare_dataset(name, raw_root=root, out_dir=tmp_path / name, max_entries=40)
        m = prepared.manifest
        assert m["n_entries"] == 40 and m["n_graphs"] == m["n_records"] > 30, name
        assert set(m["subset_counts"]) == subsets
        records = pd.read_csv(tmp_path / name / "records.csv")
        assert len(records) == m["n_records"]


def _manifest(**overrides):
    """The manifest fields ``describe`` reads: 3 entries, all valid, all with graphs."""
    manifest = {
        "dataset": "mine",
        "n_entries": 3,
        "n_records": 3,
        "n_skipped": 0,
        "n_graphs": 3,
        "n_graph_failures": 0,
        "subset_counts": {"all": 3},
        "graph_seconds": 0.1,
        "n_graphs_from_cache": 0,
        "seconds": 0.2,
    }
    return {**manifest, **overrides}


def test_describe_points_at_the_graph_failures(tmp_path) -> None:
    (tmp_path / "validation.csv").write_text("id,origin,kind,detail,action\n")
    manifest = _manifest(n_graphs=1, n_graph_failures=2, subset_counts={"all": 1})
    described = PreparedDataset(tmp_path, manifest).describe()
    assert "validation:" not in described
    assert described.endswith(f"graph failures: 2; each in {tmp_path / 'graph_failures.csv'}")


def test_describe_names_an_empty_validation_or_test_part(tmp_path) -> None:
    (tmp_path / "validation.csv").write_text("id,origin,kind,detail,action\n")
    manifest = _manifest(
        splits={
            "all": {
                "random": {"train": 3, "val": 0, "test": 0},
                "mine": {"train": 2, "val": 1, "test": 1},
            },
            "ABO3": {"random": {"train": 1, "val": 0, "test": 0}},  # a subset: not named
        }
    )
    described = PreparedDataset(tmp_path, manifest).describe()
    assert described.splitlines()[-1].startswith(
        "split all/random has no val or test structures (train 3, val 0, test 0)"
    )
    assert "all/mine" not in described and "ABO3" not in described
