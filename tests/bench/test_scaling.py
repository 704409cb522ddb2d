import json
import math

import pytest

from sagatsr.bench.scaling import loglog_slope, measure_scaling, srtio3


def test_loglog_slope() -> None:
    n = [10, 100, 1000]
    assert loglog_slope(n, [2 * x for x in n]) == pytest.approx(1.0)
    assert loglog_slope(n, [x**2 for x in n]) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        loglog_slope([10], [1.0])


def test_scaling_harness_on_tiny_sizes(tmp_path) -> None:
    out = tmp_path / "scaling.json"
    result = measure_scaling(
        repetitions=(1, 2, 3),
        devices=("cpu", "cuda"),
        repeats=1,
        fit_min_atoms=40,
        model_settings={"hidden": 16, "heads": 2, "layers": 1, "edge_dim": 8},
        out_path=out,
        command="test",
    )
    rows = result["sizes"]["cpu"]
    assert [r["n_atoms"] for r in rows] == [5, 40, 135]
    assert all(r["graph_s"] > 0 and r["inference_s"] > 0 for r in rows)
    assert rows[-1]["n_edges"] > rows[0]["n_edges"]
    assert len(srtio3() * (2, 2, 2)) == 40
    slopes = result["slopes"]["cpu"]["large_n"]
    assert not math.isnan(slopes["total_s"])
    retained = result["sizes"]["cpu_retained_memory"]
    assert [r["n_atoms"] for r in retained] == [5, 40, 135]
    assert all(r["inference_us_per_atom"] > 0 for r in retained)
    assert json.loads(out.read_text())["goal_slope"] == 1.1
