"""Ensembles of runs that differ only in their seed: mean prediction and calibrated spread.

Ensemble folder layout (this module owns it)::

    seed<k>/            one ordinary run folder per member (sagatsr.train.run.Run)
    ensemble.json       members, interval calibration, metrics per part, uncertainty report
    predictions.csv     id, part, target, prediction (member mean), spread (member
                        standard deviation), uncertainty (half-width of the calibrated
                        68 % interval), in the target's unit

The members' mean is the ensemble's prediction; their standard deviation,
calibrated on the validation part (:mod:`sagatsr.train.uncertainty`), its
uncertainty. The test part is only evaluated.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sagatsr.data.splits import PARTS
from sagatsr.io_utils import atomic_open, write_json
from sagatsr.provenance import run_info
from sagatsr.sr.units import format_quantity
from sagatsr.train.config import TrainConfig
from sagatsr.train.metrics import regression_metrics
from sagatsr.train.run import Run
from sagatsr.train.uncertainty import SpreadCalibration, calibrate_spread, uncertainty_report

if TYPE_CHECKING:
    from sagatsr.model import SAGAT

ENSEMBLE_FILE = "ensemble.json"
PREDICTIONS_FILE = "predictions.csv"

#: Relative tolerance within which members' targets count as the same values: a float64
#: written to CSV and parsed back can come back one unit in the last place away.
TARGET_RTOL = 1e-12


def member_folder(out_dir: str | os.PathLike[str], seed: int) -> Path:
    """The run folder of the member trained with ``seed``."""
    return Path(out_dir) / f"seed{int(seed)}"


def is_ensemble(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder`` holds an evaluated ensemble."""
    return (Path(folder) / ENSEMBLE_FILE).is_file()


def _relative_to(member: Path, out_dir: Path) -> str:
    """A member's folder relative to the ensemble folder when inside it (so it can move)."""
    try:
        return str(member.resolve().relative_to(out_dir.resolve()))
    except ValueError:
        return str(member.resolve())


def combine_predictions(
    frames: Sequence[pd.DataFrame], names: Sequence[str] | None = None
) -> pd.DataFrame:
    """Mean and spread of members' prediction tables, per id and part.

    Args:
        frames: One table per member with columns ``id``, ``part``, the target
            and ``prediction`` (a run's ``predictions.csv``), in the same row order.
        names: The members' names for error messages (default: their positions).

    Returns:
        Columns ``id``, ``part``, the target, ``prediction`` (member mean) and
        ``spread`` (member standard deviation, ``ddof=1``).

    Raises:
        ValueError: With fewer than two members, or members that predicted
            different ids or targets (targets equal to :data:`TARGET_RTOL`).
    """
    if len(frames) < 2:
        raise ValueError("an ensemble needs at least two members")
    names = list(names) if names is not None else [f"member {i}" for i in range(len(frames))]
    target = frames[0].columns[2]
    first = frames[0][["id", "part", target]].reset_index(drop=True)
    for name, frame in zip(names, frames, strict=True):
        rows = frame[["id", "part", target]].reset_index(drop=True)
        same_rows = rows.shape == first.shape and rows[["id", "part"]].equals(first[["id", "part"]])
        # Targets read back from different files (a run's predictions.csv, the prepared
        # records) may differ in the last digit of their decimal round trip.
        if not same_rows or not np.allclose(
            rows[target].to_numpy(dtype=np.float64),
            first[target].to_numpy(dtype=np.float64),
            rtol=TARGET_RTOL,
            atol=0.0,
            equal_nan=True,
        ):
            raise ValueError(f"{name} predicted other structures or targets than {names[0]}")
    stacked = np.stack([frame["prediction"].to_numpy(dtype=np.float64) for frame in frames])
    out = first.copy()
    out["prediction"] = stacked.mean(axis=0)
    out["spread"] = stacked.std(axis=0, ddof=1)
    return out


def ensemble_predictions(member_dirs: Sequence[str | os.PathLike[str]]) -> pd.DataFrame:
    """:func:`combine_predictions` of finished run folders trained on one split and target."""
    if len(member_dirs) < 2:
        raise ValueError("an ensemble needs at least two members")
    frames = [Run(folder).predictions() for folder in member_dirs]
    return combine_predictions(frames, [str(folder) for folder in member_dirs])


def ensemble_result(
    frame: pd.DataFrame,
    members: Sequence[dict[str, Any]],
    *,
    command: str | None = None,
    calibration: SpreadCalibration | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Calibrate the spread on validation and evaluate every part (no files).

    Args:
        frame: :func:`combine_predictions` of the members (any of the parts
            ``train``, ``val``, ``test``; ``val`` is required).
        members: The members' ``metrics.json`` contents, in member order.
        command: Command recorded in the result.
        calibration: Use this calibration instead of fitting one on ``val``
            (members refit on the validation part: their validation errors are
            in-sample; the calibration of the same recipe's ensemble trained
            without it stands in).

    Returns:
        ``(result, frame)``: the content of ``ensemble.json`` without its member
        folders, and ``frame`` with the column ``uncertainty`` (half-width of the
        calibrated 68 % interval) added.
    """
    frame = frame.copy()
    target = frame.columns[2]
    by_part = {part: frame[frame["part"] == part] for part in PARTS}
    val = by_part["val"]
    if calibration is None:
        calibration = calibrate_spread(val[target], val["prediction"], val["spread"])
    frame["uncertainty"] = calibration.half_width(frame["spread"].to_numpy(), 0.68)
    scores = {
        part: regression_metrics(rows[target], rows["prediction"])
        for part, rows in by_part.items()
        if len(rows)
    }
    uncertainty = {
        part: uncertainty_report(rows[target], rows["prediction"], rows["spread"], calibration)
        for part, rows in by_part.items()
        if part != "train" and len(rows)
    }
    member_test = [m["metrics"]["test"]["mae"] for m in members if "test" in m["metrics"]]
    test_mae = scores.get("test", {}).get("mae", float("nan"))
    result = {
        "summary": (
            f"ensemble of {len(members)} {target} models: test MAE "
            f"{format_quantity(test_mae, members[0]['unit'])} "
            f"(members {np.mean(member_test):.4g} on average)"
            if member_test
            else f"ensemble of {len(members)} {target} models"
        ),
        "target": target,
        "unit": members[0]["unit"],
        "seeds": [m["train_config"]["seed"] for m in members],
        "metrics": scores,
        "member_test_mae": member_test,
        "uncertainty": uncertainty,
        "calibration": calibration.to_dict(),
        "train_seconds": float(sum(m["train_seconds"] for m in members)),
        "train_cpu_seconds": float(sum(m.get("train_cpu_seconds", 0.0) for m in members)),
        "model_config": members[0]["model_config"],
        "train_config": {k: v for k, v in members[0]["train_config"].items() if k != "seed"},
        **run_info(command),
    }
    return result, frame


def evaluate_ensemble(
    out_dir: str | os.PathLike[str],
    member_dirs: Sequence[str | os.PathLike[str]],
    *,
    command: str | None = None,
    calibration: SpreadCalibration | None = None,
) -> dict[str, Any]:
    """Combine finished members, calibrate on validation, evaluate; write the ensemble files.

    Args:
        out_dir: The ensemble folder.
        member_dirs: The members' run folders.
        command: Command recorded in ``ensemble.json``.
        calibration: Instead of fitting one on validation (see :func:`ensemble_result`).

    Returns:
        The content of ``ensemble.json``.
    """
    folder = Path(out_dir)
    result, frame = ensemble_result(
        ensemble_predictions(member_dirs),
        [Run(member).metrics() for member in member_dirs],
        command=command,
        calibration=calibration,
    )
    members = [_relative_to(Path(member), folder) for member in member_dirs]
    result = {**result, "members": members}
    with atomic_open(folder / PREDICTIONS_FILE, "w", newline="") as handle:
        frame.to_csv(handle, index=False)
    write_json(folder / ENSEMBLE_FILE, result)
    return result


def check_ensemble_seeds(seeds: Sequence[int]) -> None:
    """Raise unless ``seeds`` are at least two seeds, none repeated.

    Raises:
        ValueError: Naming the seeds given.
    """
    if len(set(seeds)) < 2 or len(set(seeds)) != len(seeds):
        raise ValueError(f"an ensemble needs at least two distinct seeds, got {list(seeds)}")


def train_ensemble(
    prepared_dir: str | os.PathLike[str],
    *,
    subset: str,
    split: str,
    target: str,
    out_dir: str | os.PathLike[str],
    seeds: Sequence[int],
    model_settings: dict[str, Any] | None = None,
    train_config: TrainConfig | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Train one member per seed (resumable, like any run), then evaluate the ensemble.

    Args:
        prepared_dir: Prepared dataset folder.
        subset: Subset name.
        split: Split name.
        target: Target name.
        out_dir: Ensemble folder (members in ``seed<k>/``).
        seeds: At least two distinct seeds.
        model_settings: Model overrides (the same for every member).
        train_config: Training settings; its seed is replaced by each member's.
        command: Command recorded in the result files.

    Returns:
        The content of ``ensemble.json``.

    Raises:
        ValueError: With fewer than two distinct seeds.
    """
    check_ensemble_seeds(seeds)
    for seed in seeds:
        train_member(
            prepared_dir,
            subset=subset,
            split=split,
            target=target,
            out_dir=out_dir,
            seed=seed,
            model_settings=model_settings,
            train_config=train_config,
            command=command,
        )
    folders = [member_folder(out_dir, seed) for seed in seeds]
    return evaluate_ensemble(out_dir, folders, command=command)


def train_member(
    prepared_dir: str | os.PathLike[str],
    *,
    subset: str,
    split: str,
    target: str,
    out_dir: str | os.PathLike[str],
    seed: int,
    model_settings: dict[str, Any] | None = None,
    train_config: TrainConfig | None = None,
    command: str | None = None,
    refit: bool = False,
) -> dict[str, Any]:
    """Train (or resume) the member of ``seed`` in ``member_folder(out_dir, seed)``.

    Args:
        prepared_dir: Prepared dataset folder.
        subset: Subset name.
        split: Split name.
        target: Target name.
        out_dir: Ensemble folder.
        seed: The member's seed (replaces ``train_config.seed``).
        model_settings: Model overrides.
        train_config: Training settings.
        command: Command recorded in the member's ``metrics.json``.
        refit: Train on training + validation, keep the last epoch
            (:func:`sagatsr.train.pipeline.train_on_split`).

    Returns:
        The member's ``metrics.json``.
    """
    # Lightning is loaded only to train, so that predicting with an ensemble starts quickly.
    from sagatsr.train.pipeline import train_on_split

    return train_on_split(
        prepared_dir,
        subset=subset,
        split=split,
        target=target,
        out_dir=member_folder(out_dir, seed),
        model_settings=model_settings,
        train_config=replace(train_config or TrainConfig(), seed=int(seed)),
        command=command,
        refit=refit,
    )


def model_dir_of(folder: str | os.PathLike[str]) -> Path:
    """The saved model behind a model, run or ensemble folder (an ensemble's first member).

    Imports no torch: a command reads the model's graph settings from it
    (:func:`sagatsr.model.read_model_config`) before the network's libraries load.

    Raises:
        FileNotFoundError: If ``folder`` holds runs (``sagatsr train --out``) rather
            than being one; the message names them.
    """
    path = Path(folder)
    if is_ensemble(path):
        return ensemble_members(path)[0].model_dir
    run = Run(path)
    if run.has_model():
        return run.model_dir
    inside = run.runs_inside()
    if inside:
        raise FileNotFoundError(
            f"{path} holds runs, not a model: {', '.join(inside)} (give one of them)"
        )
    return path


def ensemble_members(folder: str | os.PathLike[str]) -> list[Run]:
    """The member runs of an evaluated ensemble.

    Raises:
        FileNotFoundError: If ``folder`` holds no evaluated ensemble.
    """
    path = Path(folder) / ENSEMBLE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{folder} holds no {ENSEMBLE_FILE} (not an ensemble)")
    stored = json.loads(path.read_text(encoding="utf-8"))
    return [Run(Path(folder) / member) for member in stored["members"]]


@dataclass
class LoadedEnsemble:
    """An evaluated ensemble's members and calibration, to predict new structures.

    Attributes:
        models: The member models (eval mode, CPU).
        calibration: The validation calibration of the spread.
        metadata: The first member's model metadata (target, unit, graph settings).
    """

    models: list[SAGAT]
    calibration: SpreadCalibration
    metadata: dict[str, Any]

    @classmethod
    def load(
        cls, folder: str | os.PathLike[str], expected_catalog_version: str | None = None
    ) -> LoadedEnsemble:
        """Load from an ensemble folder.

        Raises:
            FileNotFoundError: If ``folder`` holds no evaluated ensemble.
        """
        runs = ensemble_members(folder)
        stored = json.loads((Path(folder) / ENSEMBLE_FILE).read_text(encoding="utf-8"))
        return cls(
            [run.load_model(expected_catalog_version) for run in runs],
            SpreadCalibration.from_dict(stored["calibration"]),
            runs[0].metadata(),
        )

    def predict(self, data: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean, spread and calibrated 68 % half-width for a graph or batch.

        Returns:
            Three ``(B,)`` arrays in the target's unit.
        """
        import torch

        with torch.no_grad():
            outputs = [model.predict(data).reshape(-1).numpy() for model in self.models]
        values = np.stack(outputs)
        spread = values.std(axis=0, ddof=1)
        return values.mean(axis=0), spread, self.calibration.half_width(spread, 0.68)
