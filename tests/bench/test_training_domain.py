"""The training-domain benchmark: a split's test part and other datasets against its domain."""

import json

from sagatsr.bench.readme import training_domain_section
from sagatsr.bench.training_domain import measure_training_domain
from sagatsr.cli import main


def test_the_test_part_lies_inside_and_the_result_renders(trained_runs, tmp_path) -> None:
    root = trained_runs / "prepared"
    out = tmp_path / "training_domain.json"
    result = measure_training_domain(root, others=["castelli_perovskites"], out_path=out)
    assert json.loads(out.read_text()) == result
    test, whole = result["evaluated"]
    assert test["name"] == "castelli_perovskites matbench_fold0 test part"
    # copies of the training structures at 0-4 % larger volume: inside, within the margin
    assert test["n"] == 6 and test["share_outside"] == 0.0
    assert whole["n"] == 30 and whole["share_outside"] == 0.0
    assert set(whole["share_by_rule"]) == {"elements", "sites", "perovskite", "features"}
    assert result["reference"]["n_train"] == 22 and result["reference"]["sites"] == [5, 5]
    table = training_domain_section({"training_domain": result})
    assert "| castelli_perovskites matbench_fold0 test part | 6 | 0.0 % |" in table
    assert "`reports/metrics/training_domain.json`" in table
    again = tmp_path / "cli.json"
    argv = ["benchmark", "training_domain", "--prepared-root", str(root), "--others"]
    assert main([*argv, "--out", str(again)]) == 0
    assert len(json.loads(again.read_text())["evaluated"]) == 1
