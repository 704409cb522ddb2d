import json

import pytest

from sagatsr.bench.throughput import BEFORE, StepRecipe, measure_throughput
from tests.support.training import SMALL


def test_throughput_measures_every_recipe_against_before(tmp_path) -> None:
    from dataclasses import replace

    from sagatsr.graphs.neighbors import NeighborConfig
    from sagatsr.prepare import prepare_dataset
    from tests.test_prepare import castelli_like

    mirror = castelli_like(tmp_path / "mirror", n_copies=2)
    prepared = prepare_dataset(
        "castelli_perovskites", raw_root=mirror, out_dir=tmp_path / "p", neighbors=NeighborConfig()
    )
    out = tmp_path / "throughput.json"
    recipes = (replace(BEFORE, batch_size=4), StepRecipe("batch8", 8))
    result = measure_throughput(
        prepared.out_dir,
        target="gap_gllbsc",
        n_graphs=8,
        repeats=2,
        sizes={"small": SMALL},
        recipes=recipes,
        devices=("cpu", "cuda"),
        out_path=out,
        command="test",
    )
    assert result["n_graphs_per_call"] == 8
    cpu = result["sizes"]["small"]["devices"]["cpu"]["recipes"]
    assert set(cpu) == {"before", "batch8"}
    assert cpu["before"]["speedup_over_before"] == pytest.approx(1.0)
    assert cpu["batch8"]["graphs_per_second"] > 0 and cpu["batch8"]["recipe"]["batch_size"] == 8
    assert cpu["before"]["recipe"]["literal_encoding"] is True
    cuda = result["sizes"]["small"]["devices"]["cuda"]
    assert "skipped" in cuda or cuda["recipes"]["batch8"]["graphs_per_second"] > 0
    assert json.loads(out.read_text())["commit"]


def test_unknown_size_is_named(tmp_path) -> None:
    with pytest.raises(KeyError, match="huge"):
        measure_throughput(tmp_path, target="t", sizes=("huge",))
