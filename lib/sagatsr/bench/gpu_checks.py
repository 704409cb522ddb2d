"""One result file for the checks run on a GPU machine (``gpu_checks.sh`` beside this module).

The script runs, on a machine with a CUDA device, the CUDA tests, the training
throughput, the scaling benchmark, our SISSO on the GPU and on that machine's CPU,
and a paper-size Matbench fold-0 training for a few minutes, each writing its usual
result file into one folder. :func:`collect_gpu_checks` reads that folder back on
any machine and joins the pieces into ``reports/metrics/gpu_checks.json``, each
piece keeping its own provenance (which names the GPU).
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pandas as pd

from sagatsr.io_utils import write_json
from sagatsr.provenance import run_info

#: What the script writes into its results folder, by piece.
THROUGHPUT_FILE = "throughput_gpu.json"
SCALING_FILE = "scaling_gpu.json"
#: The compiled-step throughput, one file per model size.
COMPILED_FILES = {size: f"throughput_gpu_compiled_{size}.json" for size in ("medium", "paper")}
SISSO_FILES = {"cuda": "sisso_engine_gpu_host_cuda.json", "cpu": "sisso_engine_gpu_host_cpu.json"}
TESTS_FILE = "gpu_tests.xml"
TRAIN_RUN = Path("train_gpu_paper_fold0") / "e_form"
#: The same training without deterministic kernels and with loader workers.
TRAIN_FAST_RUN = Path("train_gpu_paper_fold0_fast") / "e_form"


def read_junit(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Outcome of every test case of a pytest JUnit XML file.

    Returns:
        ``{"passed": n, "failed": n, "skipped": n, "cases": [{"test", "outcome",
        "seconds", "message"}]}``; ``message`` is the failure's first line.
    """
    cases = []
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome, message = "failed", (child.get("message") or "").splitlines()[0]
            elif child.tag == "skipped":
                outcome, message = "skipped", child.get("message") or ""
        cases.append(
            {
                "test": f"{case.get('classname')}::{case.get('name')}",
                "outcome": outcome,
                "seconds": float(case.get("time") or 0.0),
                "message": message,
            }
        )
    counts = {
        outcome: sum(c["outcome"] == outcome for c in cases)
        for outcome in ("passed", "failed", "skipped")
    }
    return {**counts, "cases": cases}


def _training(run_dir: Path) -> dict[str, Any]:
    """A run's metrics.json with its history condensed (epochs, seconds per epoch)."""
    metrics = json.loads((run_dir / "metrics.json").read_text())
    history = pd.read_csv(run_dir / "history.csv")
    seconds = history["seconds"].to_numpy()
    return {
        **metrics,
        "seconds_per_epoch": float(seconds[-1] / len(seconds)) if len(seconds) else None,
        "val_mae_by_epoch": [round(float(v), 6) for v in history["val_mae"]],
    }


def collect_gpu_checks(
    results_dir: str | os.PathLike[str],
    *,
    sent_commit: str | None = None,
    out_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Join the pieces of a GPU-machine run into one result.

    Args:
        results_dir: The script's results folder (fetched from the GPU machine).
        sent_commit: The commit of the tree that was sent there, when the pieces'
            own ``commit`` cannot say it (a copied tree whose git state is stale).
        out_path: Write the result JSON here.
        command: Command recorded in the result.

    Returns:
        ``{"summary", "tests", "throughput", "throughput_compiled", "scaling",
        "sisso", "training", "training_fast", ...}``;
        a piece the run did not produce is ``None``. The provenance keys
        (``commit``, ``hardware``, ``torch``, ``date``...) are the GPU machine's;
        ``collected`` is the provenance of this call.

    Raises:
        FileNotFoundError: If ``results_dir`` is not a folder or holds none of the pieces.
    """
    folder = Path(results_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder of GPU check results")

    def piece(name: str | Path) -> Any:
        path = folder / name
        return json.loads(path.read_text()) if path.is_file() else None

    tests = read_junit(folder / TESTS_FILE) if (folder / TESTS_FILE).is_file() else None
    training, training_fast = (
        _training(folder / run) if (folder / run / "metrics.json").is_file() else None
        for run in (TRAIN_RUN, TRAIN_FAST_RUN)
    )
    result: dict[str, Any] = {
        "tests": tests,
        "throughput": piece(THROUGHPUT_FILE),
        "throughput_compiled": {size: piece(name) for size, name in COMPILED_FILES.items()},
        "scaling": piece(SCALING_FILE),
        "sisso": {device: piece(name) for device, name in SISSO_FILES.items()},
        "training": training,
        "training_fast": training_fast,
    }
    measured = _measured_on(result)
    if tests is None and not measured:
        raise FileNotFoundError(f"{folder} holds none of the GPU check results")
    result = {
        "summary": summarize(result),
        **result,
        # The file's provenance is the GPU machine's: its hardware, software and date,
        # and the commit of the tree sent there (clean, as its sender states) when given.
        "command": command,
        "commit": sent_commit or measured.get("commit", "unknown"),
        "dirty": False if sent_commit else measured.get("dirty"),
        **{key: measured.get(key) for key in ("hardware", "python", "torch", "date")},
        "commit_recorded_there": measured.get("commit"),
        "collected": run_info(command),
    }
    if out_path:
        write_json(Path(out_path), result)
    return result


def _result_pieces(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The result files a collected run holds (not the tests), in a fixed order."""
    pieces = [
        result.get("throughput"),
        result.get("scaling"),
        result.get("training"),
        result.get("training_fast"),
        *(result.get("throughput_compiled") or {}).values(),
        *(result.get("sisso") or {}).values(),
    ]
    return [piece for piece in pieces if piece]


def _measured_on(result: dict[str, Any]) -> dict[str, Any]:
    """The provenance of the first piece (the GPU machine's); empty without pieces."""
    pieces = _result_pieces(result)
    return pieces[0].get("provenance", pieces[0]) if pieces else {}


def gpu_name(result: dict[str, Any]) -> str:
    """The GPU the pieces ran on (from the first piece that names one)."""
    for piece in _result_pieces(result):
        gpu = (piece.get("provenance", piece).get("hardware") or {}).get("gpu")
        if gpu:
            return str(gpu)
    return "no GPU recorded"


def timed_recipes(size_entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The timed step recipes of one model size of a throughput result, by name.

    Args:
        size_entry: ``result["sizes"][size]`` of :func:`sagatsr.bench.throughput.measure_throughput`
            run on one device.

    Returns:
        The recipes of its (first) device that have a ``graphs_per_second``, in order.
    """
    device = next(iter(size_entry["devices"].values()), {})
    recipes = device.get("recipes", {})
    return {name: entry for name, entry in recipes.items() if "graphs_per_second" in entry}


def summarize(result: dict[str, Any]) -> str:
    """One sentence of the headline figures of a collected GPU run."""
    parts = [gpu_name(result)]
    tests = result.get("tests")
    if tests:
        parts.append(f"tests {tests['passed']} passed, {tests['failed']} failed")
    throughput = result.get("throughput")
    if throughput:
        for size, entry in throughput["sizes"].items():
            recipes = timed_recipes(entry)
            if not recipes:
                continue
            best = max(recipes.values(), key=lambda r: r["graphs_per_second"])
            parts.append(
                f"{size} step {best['graphs_per_second']:,.0f} graphs/s "
                f"(batch {best['recipe']['batch_size']})"
            )
    scaling = result.get("scaling")
    if scaling and scaling["sizes"].get("cuda"):
        largest = scaling["sizes"]["cuda"][-1]
        parts.append(
            f"inference of {largest['n_atoms']:,} atoms {largest['inference_s'] * 1e3:.1f} ms"
        )
    sisso = result.get("sisso") or {}
    if sisso.get("cuda") and sisso.get("cpu"):
        parts.append(
            f"our SISSO {sisso['cuda']['ours']['wall_s']:.2f} s on CUDA, "
            f"{sisso['cpu']['ours']['wall_s']:.2f} s on the host CPU"
        )
    training = result.get("training")
    if training:
        parts.append(
            f"paper model fold 0: {training['epochs_run']} epochs in "
            f"{training['train_seconds'] / 60:.1f} min, best val MAE "
            f"{training['best_val_mae']:.4f} {training['unit']}"
        )
    fast = result.get("training_fast")
    if fast:
        parts.append(
            f"without deterministic kernels {fast['seconds_per_epoch']:.1f} s per epoch"
            + (f" (against {training['seconds_per_epoch']:.1f})" if training else "")
        )
    return "; ".join(parts)
