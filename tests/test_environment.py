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
