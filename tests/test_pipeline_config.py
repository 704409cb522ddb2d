"""params.yaml, the profiles and dvc.yaml stay consistent with each other."""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

from sagatsr.cli import build_parser
from sagatsr.profiles import available_profiles, render_params
from tests.support.notebooks import declared_parameters

ROOT = Path(__file__).resolve().parents[1]


def test_params_yaml_is_the_quick_profile() -> None:
    assert (ROOT / "params.yaml").read_text() == render_params("quick", ROOT / "profiles")
    assert available_profiles(ROOT / "profiles") == ["full", "paper", "quick"]


def test_profiles_share_structure_and_runs() -> None:
    quick = yaml.safe_load((ROOT / "profiles" / "quick.yaml").read_text())

    def keys(tree: dict, prefix: str = "") -> set[str]:
        out = set()
        for key, value in tree.items():
            out.add(prefix + key)
            if isinstance(value, dict) and key not in ("runs", "headline", "trials"):
                out |= keys(value, prefix + key + ".")
        return out

    for other in ("paper", "full"):
        profile = yaml.safe_load((ROOT / "profiles" / f"{other}.yaml").read_text())
        assert keys(quick) == keys(profile), other
        assert quick["train"]["runs"] == profile["train"]["runs"], other


def test_report_stage_depends_on_every_executed_notebook() -> None:
    pipeline = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    expected = {f"reports/nb/01_prepare_data_{d}.ipynb" for d in params["prepare"]["datasets"]}
    expected |= {f"reports/nb/02_train_gat_{run}.ipynb" for run in params["train"]["runs"]}
    expected |= {
        f"reports/nb/{n}.ipynb"
        for n in (
            "03_attention_analysis",
            "04_sr_distillation",
            "05_speedup_benchmark",
            "06_accuracy_benchmarks",
        )
    }
    deps = {d for d in pipeline["stages"]["report"]["deps"] if d.endswith(".ipynb")}
    assert deps == expected
    outs = {
        next(iter(o)) if isinstance(o, dict) else o for o in pipeline["stages"]["report"]["outs"]
    }
    pages = {f"reports/{Path(d).stem}{end}" for d in expected for end in (".html", "_reader.html")}
    # each notebook: full page and reader's page
    assert outs == {"reports/index.html", "reports/thumbs"} | pages


def test_every_distill_notebook_parameter_is_passed_by_its_stage() -> None:
    pipeline = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    command = pipeline["stages"]["distill"]["cmd"]
    names = declared_parameters(ROOT / "notebooks" / "04_sr_distillation.ipynb")
    assert "formula_digits" in names
    for name in names:
        assert f"-p {name} " in command or f'-y "{name}: ' in command, name
    for profile in available_profiles(ROOT / "profiles"):
        distill = yaml.safe_load((ROOT / "profiles" / f"{profile}.yaml").read_text())["distill"]
        assert isinstance(distill["formula_digits"], int) and distill["formula_digits"] >= 1


def test_every_own_data_option_of_notebook_01_is_passed_by_prepare_user() -> None:
    pipeline = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    command = pipeline["stages"]["prepare_user"]["do"]["cmd"]
    names = declared_parameters(ROOT / "notebooks" / "01_prepare_data.ipynb")
    own = ("name", "targets", "id_column", "cif_column", "labels", "split_column", "structure_file")
    assert set(own) <= set(names)
    for name in own:
        assert f"-p {name} " in command, name
    # every key the stage reads from an entry is documented in each profile's example
    keys = set(re.findall(r"\$\{item\.(\w+)\}", command)) - {"path"}
    for profile in available_profiles(ROOT / "profiles"):
        text = (ROOT / "profiles" / f"{profile}.yaml").read_text()
        assert all(f"#     {key}:" in text for key in keys), profile


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


def _stage_imports(stage: dict) -> tuple[list[str], set[str]]:
    """Import statements a stage runs at start, and lib files it runs without importing."""
    command = stage.get("do", stage)["cmd"]
    notebook = re.search(r"notebooks/(\S+\.ipynb)", command)
    if notebook is None:  # the report stage: `python -m sagatsr report`
        assert "python -m sagatsr" in command
        return ["import sagatsr.cli", "import sagatsr.reports"], {"lib/sagatsr/__main__.py"}
    book = nbformat.read(ROOT / "notebooks" / notebook.group(1), as_version=4)
    source = "\n".join(cell.source for cell in book.cells if cell.cell_type == "code")
    pattern = r"^(?:from sagatsr[\w.]* import (?:\([^)]*\)|[^\n]*)|import sagatsr[\w.]*)"
    return re.findall(pattern, source, flags=re.MULTILINE), set()


def _loaded_lib_files(statements: list[str]) -> set[str]:
    """Files of the sagatsr modules loaded by running ``statements`` in a fresh interpreter."""
    probe = "\n".join(
        [
            "import json, sys",
            *statements,
            "print(json.dumps([m.__file__ for k, m in sys.modules.items()"
            " if k.split('.')[0] == 'sagatsr' and getattr(m, '__file__', None)]))",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return {Path(f).resolve().relative_to(ROOT).as_posix() for f in json.loads(done.stdout)}


def test_stage_deps_are_the_lib_modules_the_stage_runs() -> None:
    """Every lib module a stage loads is a dep, and every lib dep holds a module it loads.

    Folder deps may also hold modules the stage imports lazily (SR engines, for instance).
    """
    pipeline = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    for name, stage in pipeline["stages"].items():
        if name in ("headline", "trial"):  # commands of every part: the whole library
            assert "lib/sagatsr" in stage["do"]["deps"]
            continue
        statements, extra = _stage_imports(stage)
        loaded = _loaded_lib_files(statements) | extra
        deps = [d for d in stage.get("do", stage)["deps"] if d.startswith("lib/")]

        def covers(dep: str, path: str) -> bool:
            return path == dep or path.startswith(dep.rstrip("/") + "/")

        uncovered = sorted(p for p in loaded if not any(covers(d, p) for d in deps))
        assert not uncovered, f"stage {name}: lib modules it loads but does not list: {uncovered}"
        unused = [d for d in deps if not any(covers(d, p) for p in loaded)]
        assert not unused, f"stage {name}: lib deps it never loads: {unused}"


def test_every_run_names_a_valid_loss_and_band_gaps_train_with_mse() -> None:
    from sagatsr.train.config import LOSS_MONITORS

    for profile in ("quick", "paper"):
        params = yaml.safe_load((ROOT / "profiles" / f"{profile}.yaml").read_text())
        for name, run in params["train"]["runs"].items():
            assert run["loss"] in LOSS_MONITORS, (profile, name)
            # Band gaps are zero for every metal: L1 would learn to predict zero.
            assert (run["loss"] == "mse") == ("gap" in run["target"]), (profile, name)
        assert params["analyze"]["stability"]["loss"] in LOSS_MONITORS


def test_every_recipe_parameter_reaches_the_training_notebook() -> None:
    from sagatsr.train.recipe import RECIPE_OPTIONS, build_configs

    pipeline = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    train_cmd = pipeline["stages"]["train"]["do"]["cmd"]
    for profile in available_profiles(ROOT / "profiles"):
        recipe = yaml.safe_load((ROOT / "profiles" / f"{profile}.yaml").read_text())["train"]
        recipe = recipe["recipe"]
        assert set(recipe) <= set(RECIPE_OPTIONS), profile
        build_configs(**recipe)  # valid values
        for name in recipe:
            assert f"-p {name} ${{train.recipe.{name}}}" in train_cmd, (profile, name)
    book = nbformat.read(ROOT / "notebooks" / "02_train_gat.ipynb", as_version=4)
    code = "".join(cell.source for cell in book.cells if cell.cell_type == "code")
    assert "build_configs(**recipe_parameters(globals()))" in code


#: Committed result files that no stage writes, with the reason.
NOT_FROM_THE_PIPELINE = {
    # recipes compared on validation slices: runs trained with other recipes
    "recipe_trials.json",
    "recipe_trials_h128.json",
    "recipe_trials_compiled_ddp.json",
    "recipe_trials_h128_e300.json",
    "recipe_trials_fold4_regularizers.json",
    "recipe_trials_learning_curve.json",
    # measured on a GPU machine (lib/sagatsr/bench/gpu_checks.sh), which dvc repro has not
    "gpu_checks.json",
}


def _stage_metrics(params: dict) -> set[str]:
    """Every metrics file the pipeline's stages write under ``params``."""
    pipeline = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    out = set()
    for stage in pipeline["stages"].values():
        body = stage.get("do", stage)
        paths = [next(iter(m)) if isinstance(m, dict) else m for m in body.get("metrics", [])]
        if "foreach" not in stage:
            out |= set(paths)
            continue
        section = params
        for part in stage["foreach"].strip("${}").split("."):
            section = section[part]
        items = section.items() if isinstance(section, dict) else [(None, i) for i in section]
        for key, item in items:
            for path in paths:
                out.add(path.replace("${key}", str(key)).replace("${item}", str(item)))
    return {Path(p).name for p in out if p.startswith("reports/metrics/")}


def test_the_full_profile_recreates_every_committed_result_file() -> None:
    full = yaml.safe_load((ROOT / "profiles" / "full.yaml").read_text())
    committed = {p.name for p in (ROOT / "reports" / "metrics").glob("*.json")}
    assert committed - _stage_metrics(full) == NOT_FROM_THE_PIPELINE
    # every headline entry ends in a sagatsr benchmark command, with its own resumable folder
    works = [entry["work"] for entry in full["headline"].values()]
    assert len(set(works)) == len(works)
    for name, entry in full["headline"].items():
        last = entry["cmd"].split("&&")[-1].strip()
        assert last.startswith("sagatsr benchmark "), name
        assert "--out" not in last, name  # the stage names the result file
    # every sagatsr command of an entry parses (also those run side by side, `CMD &`, in a
    # loop, or with environment settings), and only the last one writes the stage's file
    parsed = 0
    for name, entry in full["headline"].items():
        commands = [
            c.strip() for c in re.split(r"&&|\|\||;|(?<!&)&(?!&)", f"{entry['cmd']} --out OUT.json")
        ]
        for command in commands:
            argv = shlex.split(command)
            while argv and (argv[0] == "do" or re.fullmatch(r"[A-Z_]+=\S*", argv[0])):
                argv = argv[1:]
            if not argv or argv[0] != "sagatsr":
                continue
            parsed += 1
            args = build_parser().parse_args(argv[1:])
            if command is not commands[-1]:
                assert str(getattr(args, "out", "")) != f"reports/metrics/{name}.json", name
    assert parsed == sum(e["cmd"].count("sagatsr ") for e in full["headline"].values())
    # the quick and paper profiles run none of them
    for other in ("quick", "paper"):
        profile = yaml.safe_load((ROOT / "profiles" / f"{other}.yaml").read_text())
        assert profile["headline"] == {}
        assert not {f"{k}.json" for k in full["headline"]} & _stage_metrics(profile)


def test_the_trial_stage_command_parses_with_each_recipe_of_the_full_profile() -> None:
    """DVC unpacks ``trials.<name>.recipe`` into ``--name value`` (bools: --x / --no-x)."""
    from sagatsr.cli import build_parser
    from sagatsr.train.recipe import build_configs

    assert "bool = boolean_optional" in (ROOT / ".dvc" / "config").read_text()
    full = yaml.safe_load((ROOT / "profiles" / "full.yaml").read_text())
    assert full["trials"], "the full profile lists at least one trial"
    for name, trial in full["trials"].items():
        flags: list[str] = []
        for key, value in trial["recipe"].items():
            if isinstance(value, bool):
                flags.append(f"--{key}" if value else f"--no-{key}")
            else:
                flags += [f"--{key}", str(value)]
        args = build_parser().parse_args(["train", "prepared", "--out", name, *flags])
        for key, value in trial["recipe"].items():
            assert getattr(args, key) == value, (name, key)
        build_configs(**trial["recipe"])


def test_a_profile_switch_outside_the_root_says_where_to_run(tmp_path) -> None:
    import pytest

    with pytest.raises(FileNotFoundError, match="in the project's root"):
        render_params("quick", tmp_path / "profiles")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "quick.yaml").write_text("epochs: 2\n")
    with pytest.raises(ValueError, match=r"unknown profile 'full' .*available: quick"):
        render_params("full", tmp_path / "profiles")


def test_every_parameter_a_stage_passes_is_declared_by_its_notebook() -> None:
    """papermill injects an undeclared ``-p`` value with a warning, and a reader of the
    notebook cannot see that the stage sets it: each one is in the parameters cell."""
    pipeline = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    checked = 0
    for name, stage in pipeline["stages"].items():
        command = stage.get("cmd") or stage.get("do", {}).get("cmd", "")
        notebook = re.search(r"papermill\s.*?(notebooks/\S+\.ipynb)", command)
        if notebook is None:
            continue
        declared = set(declared_parameters(ROOT / notebook.group(1)))
        passed = set(re.findall(r"-p (\w+) ", command)) | set(re.findall(r'-y "(\w+):', command))
        assert passed <= declared, (name, sorted(passed - declared))
        checked += 1
    assert checked >= 6
