import json

from sagatsr.bench.throughput import measure_throughput
from tests.train.test_training_runs import SMALL


def test_throughput_on_a_tiny_dataset(tmp_path) -> None:
    from sagatsr.graphs.neighbors import NeighborConfig
    from sagatsr.prepare import prepare_dataset
    from tests.test_prepare import castelli_like

    mirror = castelli_like(tmp_path / "mirror", n_copies=2)
    prepared = prepare_dataset(
        "castelli_perovskites", raw_root=mirror, out_dir=tmp_path / "p", neighbors=NeighborConfig()
    )
    out = tmp_path / "throughput.json"
    result = measure_throughput(
        prepared.out_dir,
        target="gap_gllbsc",
        batch_size=4,
        n_batches=2,
        repeats=2,
        devices=("cpu", "cuda"),
        model_settings=SMALL,
        out_path=out,
        command="test",
    )
    assert result["n_graphs_per_call"] == 8 and result["batch_size"] == 4
    assert result["devices"]["cpu"]["graphs_per_second"] > 0
    assert (
        "skipped" in result["devices"]["cuda"] or result["devices"]["cuda"]["graphs_per_second"] > 0
    )
    assert json.loads(out.read_text())["commit"]
