"""Graphs with targets: the fingerprint that ties a run to its data."""

from sagatsr.train.data import LabelledGraphs, load_split_parts


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
