import json

import numpy as np
import pytest

from sagatsr.bench.sisso_engine import (
    compare_with_torchsisso,
    parse_torchsisso_equation,
    synthetic_dataset,
    torchsisso_feature_values,
)
from sagatsr.cli import main


def test_parse_torchsisso_equations():
    assert parse_torchsisso_equation("-2.46349*(x01+x02)+15.27") == (
        [-2.46349],
        ["(x01+x02)"],
        15.27,
    )
    assert parse_torchsisso_equation("0.5*x03-1e-05") == ([0.5], ["x03"], -1e-05)
    coefs, names, intercept = parse_torchsisso_equation(
        " + 2.9990289936*(x00/x01)  -0.5016129456*(x02)**2  +2.142231595954029"
    )
    assert coefs == [2.9990289936, -0.5016129456]
    assert names == ["(x00/x01)", "(x02)**2"]
    assert intercept == pytest.approx(2.142231595954029)


def test_torchsisso_feature_values():
    data, _ = synthetic_dataset(10, 4)
    np.testing.assert_allclose(
        torchsisso_feature_values("(ln(x01))", data), np.log(data["x01"].to_numpy())
    )
    np.testing.assert_allclose(
        torchsisso_feature_values("((x02)**(-1))", data), 1 / data["x02"].to_numpy()
    )
    np.testing.assert_allclose(
        torchsisso_feature_values("(x03)**0.5", data), np.sqrt(data["x03"].to_numpy())
    )


def test_compare_with_torchsisso_on_tiny_data(tmp_path):
    data, y = synthetic_dataset(60, 5, seed=3)
    out = tmp_path / "metrics" / "sisso.json"
    report = compare_with_torchsisso(
        data, y, n_sis=5, max_dim=2, exhaustive=True, out=out, command="pytest"
    )
    saved = json.loads(out.read_text())
    assert saved["descriptors_agree"] is True
    assert [p["dimension"] for p in saved["per_dimension"]] == [1, 2]
    for p in saved["per_dimension"]:
        assert p["ours_rmse"] == pytest.approx(p["torchsisso_rmse_refit"], rel=1e-6)
    assert saved["settings"]["torchsisso_n_expansion"] == 2
    assert saved["ours"]["wall_s"] > 0 and saved["torchsisso"]["wall_s"] > 0
    assert saved["speedup"] == pytest.approx(
        saved["torchsisso"]["wall_s"] / saved["ours"]["wall_s"]
    )
    assert saved["command"] == "pytest"
    assert {"commit", "dirty", "hardware", "python", "torch", "date"} <= set(saved["provenance"])
    assert report["descriptors_agree"] is True
    whole = saved["ours_whole_space"]
    sis_rmse = [p["ours_rmse"] for p in saved["per_dimension"]]
    assert all(w <= r * (1 + 1e-9) for w, r in zip(whole["rmse"], sis_rmse, strict=True))
    assert saved["torch_threads"] >= 1 and "before" in saved["load_average_1_5_15min"]


def test_cli_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    args = [
        "benchmark",
        "sisso",
        "--out",
        str(out),
        "--samples",
        "40",
        "--features",
        "4",
        "--n-sis",
        "3",
        "--max-dim",
        "2",
        "--no-exhaustive",
    ]
    assert main(args) == 0
    saved = json.loads(out.read_text())
    assert saved["command"].startswith("sagatsr benchmark sisso --out")
    assert saved["dataset"] == {
        "n_samples": 40,
        "n_features": 4,
        "feature_space_size": saved["dataset"]["feature_space_size"],
    }
