"""Parameter profiles: ``params.yaml`` is a copy of one of ``profiles/<name>.yaml``."""

from __future__ import annotations

import os
from pathlib import Path

from sagatsr.io_utils import atomic_open

#: The profile files' folder and the active parameters, relative to the repository root.
PROFILES_DIR = "profiles"
PARAMS_FILE = "params.yaml"

HEADER = (
    "# Active pipeline parameters, copied from profiles/{name}.yaml by\n"
    "# `make profile PROFILE={name}` (or `sagatsr profile {name}`).\n"
    "# Edit profiles/*.yaml for lasting changes; edits here are overwritten on a switch.\n"
)


def available_profiles(profiles_dir: str | os.PathLike[str]) -> list[str]:
    """Names of the profiles in ``profiles_dir`` (``quick``, ``paper``...)."""
    return sorted(path.stem for path in Path(profiles_dir).glob("*.yaml"))


def render_params(name: str, profiles_dir: str | os.PathLike[str]) -> str:
    """Text of ``params.yaml`` for profile ``name``.

    Raises:
        FileNotFoundError: If ``profiles_dir`` is not a folder (run outside the root).
        ValueError: If there is no such profile; the message lists the choices.
    """
    path = Path(profiles_dir) / f"{name}.yaml"
    if not Path(profiles_dir).is_dir():
        raise FileNotFoundError(
            f"no profiles folder {profiles_dir} here: run `sagatsr profile` in the project's "
            "root (where params.yaml and profiles/ are), or give --profiles-dir"
        )
    if not path.is_file():
        choices = ", ".join(available_profiles(profiles_dir)) or "none"
        raise ValueError(f"unknown profile {name!r} in {profiles_dir} (available: {choices})")
    return HEADER.format(name=name) + path.read_text(encoding="utf-8")


def activate_profile(
    name: str, *, profiles_dir: str | os.PathLike[str], params_path: str | os.PathLike[str]
) -> Path:
    """Write ``params.yaml`` from profile ``name``.

    Args:
        name: Profile name.
        profiles_dir: Folder of ``<name>.yaml`` files.
        params_path: The ``params.yaml`` to (over)write.

    Returns:
        The written path.
    """
    text = render_params(name, profiles_dir)
    with atomic_open(params_path, "w") as handle:
        handle.write(text)
    return Path(params_path)
