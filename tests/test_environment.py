"""The conda spec and pyproject.toml must declare the same dependencies."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])


def _conda_pip_requirements() -> set[str]:
    spec = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [item["pip"] for item in spec["dependencies"] if isinstance(item, dict)]
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip section"
    return {line for line in pip_sections[0] if not line.startswith("-e")}


def test_environment_yml_mirrors_pyproject() -> None:
    ours, conda = _pyproject_requirements(), _conda_pip_requirements()
    assert ours - conda == set(), f"missing from environment.yml: {sorted(ours - conda)}"
    assert conda - ours == set(), f"missing from pyproject.toml: {sorted(conda - ours)}"


def test_torch_is_pinned_for_the_cpu_wheel() -> None:
    assert "torch==2.13.0" in _pyproject_requirements()


def _declared_distributions() -> set[str]:
    import re

    names = {re.split(r"[<>=!~\[ ]", requirement)[0] for requirement in _pyproject_requirements()}
    return {name.lower().replace("_", "-") for name in names}


def test_every_third_party_import_of_the_library_is_declared() -> None:
    import ast
    import importlib.metadata
    import sys

    providers = importlib.metadata.packages_distributions()
    imported: set[str] = set()
    for path in (ROOT / "lib" / "sagatsr").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
    third_party = {
        name for name in imported if name not in sys.stdlib_module_names and name != "sagatsr"
    }
    declared = _declared_distributions()
    undeclared = sorted(
        name
        for name in third_party
        if not {d.lower().replace("_", "-") for d in providers.get(name, [name])} & declared
    )
    assert undeclared == [], f"imported by lib/ but not declared in pyproject.toml: {undeclared}"
