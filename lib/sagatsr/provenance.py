"""Who, what and where of a measurement: command, git commit, hardware, date."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sagatsr.profiles import PARAMS_FILE, PROFILES_DIR, available_profiles, render_params

#: Tracked paths that ``dvc repro`` itself rewrites while it runs; a change there
#: does not make a measurement's code differ from the commit.
PIPELINE_OUTPUTS = ("dvc.lock", ".gitignore", "reports")


def git_commit(repo: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The checked-out commit and whether the code differs from it.

    ``dirty`` is true when a tracked file has uncommitted changes, except the
    files the pipeline writes (:data:`PIPELINE_OUTPUTS`) and a ``params.yaml`` that
    is exactly a committed profile switched in with ``sagatsr profile`` (the full
    profile's long stages run that way; each result records its own command). A
    copy of the tree sent to another machine (a GPU host) may carry no git state or
    a stale one: there the sender sets the environment variable
    ``SAGATSR_SOURCE_COMMIT``, which then names the commit, with ``dirty`` from
    ``SAGATSR_SOURCE_DIRTY`` (``0`` or ``1``; unknown when unset).

    Args:
        repo: A folder inside the repository (the current folder when ``None``).

    Returns:
        ``{"commit": sha or "unknown", "dirty": bool or None}``.
    """
    sent = os.environ.get("SAGATSR_SOURCE_COMMIT")
    if sent:
        dirty = os.environ.get("SAGATSR_SOURCE_DIRTY")
        return {"commit": sent, "dirty": None if dirty not in ("0", "1") else dirty == "1"}
    folder = str(repo or Path.cwd())
    try:
        sha, root = subprocess.run(
            ["git", "rev-parse", "HEAD", "--show-toplevel"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()  # one line each: the root may hold spaces
        status = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                *(f":(exclude){path}" for path in PIPELINE_OUTPUTS),
            ],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {"commit": "unknown", "dirty": None}
    # Porcelain lines are "XY path", the path relative to the repository root.
    changed = [line[3:] for line in status.splitlines() if line.strip()]
    if changed == [PARAMS_FILE] and _params_are_a_profile(Path(root)):
        changed = []
    return {"commit": sha, "dirty": bool(changed)}


def _params_are_a_profile(root: Path) -> bool:
    """Whether ``root/params.yaml`` is exactly what ``sagatsr profile`` writes for a profile."""
    try:
        text = (root / PARAMS_FILE).read_text(encoding="utf-8")
        profiles = root / PROFILES_DIR
        return any(text == render_params(name, profiles) for name in available_profiles(profiles))
    except (OSError, UnicodeDecodeError):
        return False


def cpu_model() -> str:
    """The CPU model name (from /proc/cpuinfo on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware() -> dict[str, Any]:
    """CPU model and core count, memory, and the GPU (or ``None``)."""
    import torch

    memory_gib = None
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory_gib = round(pages / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "cpu": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "memory_gib": memory_gib,
        "gpu": gpu,
        "gpu_count": torch.cuda.device_count() if gpu else 0,
    }


def run_info(command: str | None = None) -> dict[str, Any]:
    """Everything a result file records about how it was produced.

    Args:
        command: The command line or notebook that produced the result
            (``sys.argv`` joined when ``None``).

    Returns:
        ``command``, ``dvc_stage`` (the DVC stage that ran it, from the
        ``DVC_STAGE`` variable DVC sets, e.g. ``"headline@throughput"``; ``None``
        outside ``dvc repro``), ``commit``, ``dirty``, ``hardware``, ``python``,
        ``torch``, ``date`` (UTC, ISO 8601).
    """
    import torch

    return {
        "command": command if command is not None else " ".join(sys.argv),
        "dvc_stage": os.environ.get("DVC_STAGE"),
        **git_commit(),
        "hardware": hardware(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


#: The keys :func:`run_info` writes.
RUN_INFO_KEYS = ("command", "dvc_stage", "commit", "dirty", "hardware", "python", "torch", "date")


def parts_provenance(parts: list[dict[str, Any]] | tuple[dict[str, Any], ...]) -> list[dict]:
    """The :func:`run_info` of each result merged into one (``None`` where a key is missing).

    A part that is itself a merge keeps its own parts' provenance under ``parts``.
    """
    out = []
    for part in parts:
        entry = {key: part.get(key) for key in RUN_INFO_KEYS}
        if part.get("parts"):
            entry["parts"] = part["parts"]
        out.append(entry)
    return out
