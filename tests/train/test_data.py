"""Graphs with targets: the fingerprint that ties a run to its data, and missing labels."""

import shutil

import pandas as pd
import pytest

from sagatsr.prepare import PreparedDataset
from sagatsr.train.data import LabelledGraphs, load_split_parts, require_training_data
from sagatsr.train.pipeline import train_targets


def test_the_fingerprint_follows_ids_features_targets_and_order(prepared) -> None:
    _, parts = load_split_parts(prepared, "all", "matbench_fold0", "e_form")
    graphs = parts["train"]
    assert (
        graphs.fingerprint()
        == load_split_parts(prepared, "all", "matbench_fold0", "e_form")[1]["train"].fingerprint()
    )
    assert graphs.fingerprint() != parts["val"].fingerprint()

    def changed(index: int, key: str, value: float) -> LabelledGraphs:
        copy = graphs.graphs[index].clone()
        getattr(copy, key).view(-1)[0] = value
        return LabelledGraphs(
            graphs.ids, [*graphs.graphs[:index], copy, *graphs.graphs[index + 1 :]]
        )

    assert changed(3, "y", 1.0e3).fingerprint() != graphs.fingerprint()
    assert changed(3, "u", float("nan")).fingerprint() != graphs.fingerprint()  # a masked feature
    assert changed(3, "x", 0.5).fingerprint() != graphs.fingerprint()
    renamed = LabelledGraphs(["other", *graphs.ids[1:]], graphs.graphs)
    assert renamed.fingerprint() != graphs.fingerprint()
    swapped = LabelledGraphs(
        [graphs.ids[1], graphs.ids[0], *graphs.ids[2:]],
        [graphs.graphs[1], graphs.graphs[0], *graphs.graphs[2:]],
    )
    assert swapped.fingerprint() != graphs.fingerprint()
    fewer = LabelledGraphs(graphs.ids[:-1], graphs.graphs[:-1])
    assert fewer.fingerprint() != graphs.fingerprint()
    # the originals were not touched by the changed copies
    assert graphs.fingerprint() == parts["train"].fingerprint()


def test_a_target_without_labels_is_named_before_anything_is_trained(prepared, tmp_path) -> None:
    copy = tmp_path / "prepared"
    shutil.copytree(prepared.out_dir, copy)
    records = pd.read_csv(copy / "records.csv")
    records["gap_gllbsc"] = float("nan")
    records.to_csv(copy / "records.csv", index=False)
    unlabelled = PreparedDataset.load(copy)
    require_training_data(unlabelled, "all", "matbench_fold0", "e_form")
    with pytest.raises(ValueError, match=r"has \d+ structure\(s\) with a value of 'e_form'; "):
        require_training_data(unlabelled, "all", "matbench_fold0", "e_form", min_validation=10**6)
    message = (
        r"no structure of the training and validation parts of split all/matbench_fold0 has a "
        r"value of 'gap_gllbsc' \(\d+ x missing target gap_gllbsc\)"
    )
    with pytest.raises(ValueError, match=message):
        require_training_data(unlabelled, "all", "matbench_fold0", "gap_gllbsc")
    with pytest.raises(ValueError, match=message):  # e_form comes first and is not trained
        train_targets(copy, subset="all", split="matbench_fold0", out_root=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()
    with pytest.raises(ValueError, match=message):  # the same check for an ensemble per target
        train_targets(
            copy, subset="all", split="matbench_fold0", out_root=tmp_path / "runs", seeds=[0, 1]
        )
    assert not (tmp_path / "runs").exists()


def test_ensembles_per_target_refuse_bad_seeds_and_single_run_options(prepared, tmp_path) -> None:
    common = {"subset": "all", "split": "matbench_fold0", "out_root": tmp_path / "runs"}
    for seeds in ([0], [1, 1], [0, 1, 0]):
        with pytest.raises(ValueError, match="at least two distinct seeds"):
            train_targets(prepared.out_dir, seeds=seeds, **common)
    with pytest.raises(TypeError, match="takes no refit, train_fraction"):
        train_targets(prepared.out_dir, seeds=[0, 1], refit=True, train_fraction=0.5, **common)
    assert not (tmp_path / "runs").exists()


def test_records_are_read_once_and_handed_out_as_copies(prepared, monkeypatch) -> None:
    reads = []
    real = pd.read_csv
    monkeypatch.setattr(pd, "read_csv", lambda *a, **k: reads.append(a) or real(*a, **k))
    fresh = PreparedDataset.load(prepared.out_dir)
    first = fresh.records()
    first.iloc[0, 0] = "changed"
    second = fresh.records()
    assert len(reads) == 1
    assert second.iloc[0, 0] != "changed"
