"""params.yaml, the profiles and dvc.yaml stay consistent with each other."""

from pathlib import Path

import yaml

from sagatsr.profiles import available_profiles, render_params

ROOT = Path(__file__).resolve().parents[1]


def test_params_yaml_is_the_quick_profile() -> None:
    assert (ROOT / "params.yaml").read_text() == render_params("quick", ROOT / "profiles")
    assert available_profiles(ROOT / "profiles") == ["paper", "quick"]


def test_profiles_share_structure_and_runs() -> None:
    quick = yaml.safe_load((ROOT / "profiles" / "quick.yaml").read_text())
    paper = yaml.safe_load((ROOT / "profiles" / "paper.yaml").read_text())

    def keys(tree: dict, prefix: str = "") -> set[str]:
        out = set()
        for key, value in tree.items():
            out.add(prefix + key)
            if isinstance(value, dict) and key != "runs":
                out |= keys(value, prefix + key + ".")
        return out

    assert keys(quick) == keys(paper)
    assert quick["train"]["runs"] == paper["train"]["runs"]


def test_report_stage_depends_on_every_executed_notebook() -> None:
    pipeline = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    expected = {f"reports/nb/01_prepare_data_{d}.ipynb" for d in params["prepare"]["datasets"]}
    expected |= {f"reports/nb/02_train_gat_{run}.ipynb" for run in params["train"]["runs"]}
    expected |= {
        f"reports/nb/{n}.ipynb"
        for n in ("03_attention_analysis", "04_sr_distillation", "05_speedup_benchmark")
    }
    deps = {d for d in pipeline["stages"]["report"]["deps"] if d.endswith(".ipynb")}
    assert deps == expected
    outs = {
        next(iter(o)) if isinstance(o, dict) else o for o in pipeline["stages"]["report"]["outs"]
    }
    assert outs == {"reports/index.html"} | {"reports/" + Path(d).stem + ".html" for d in expected}


def test_analyze_stage_depends_on_every_run() -> None:
    pipeline = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    deps = set(pipeline["stages"]["analyze"]["deps"])
    assert {f"${{paths.models}}/{run}" for run in params["train"]["runs"]} <= deps
    assert params["analyze"]["permutation"]["run"] in params["train"]["runs"]


def test_distilled_runs_are_trained_runs() -> None:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    pipeline = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    distilled = params["distill"]["runs"].split(",")
    assert set(distilled) <= set(params["train"]["runs"])
    for stage in ("distill", "benchmark"):
        deps = set(pipeline["stages"][stage]["deps"])
        assert {f"${{paths.models}}/{run}" for run in distilled} <= deps, stage
    subsets = {params["train"]["runs"][run]["subset"] for run in distilled}
    targets = {params["train"]["runs"][run]["target"] for run in distilled}
    assert len(subsets) >= 2 and len(targets) >= 2  # the 23x claim on two subsets, two properties
