"""The run folder: one place that knows its layout and reads its files.

A training run (``sagatsr train``, notebook 02, a Matbench fold, an ensemble
member) writes::

    checkpoints/last.ckpt   resumable state (model, optimizer, schedule, epoch)
    checkpoints/best.ckpt   the epoch with the best validation metric
    run_settings.json       model and training settings; a resume with other ones is refused
    history.csv             one row per epoch
    model/                  the best model (sagatsr.model.save_model)
    predictions.csv         id, part (train/val/test), target, prediction
    excluded.csv            ids left out of a part, with the reason
    metrics.json            MAE / RMSE / R2 per part, epochs, wall time, settings, provenance
    formulas.json           symbolic-regression formulas of the run (sagatsr distill), if any
    oof/                    the fold models that give the out-of-fold Ep of distillation

No other module spells these names; they ask a :class:`Run`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from sagatsr.model import SAGAT, ModelConfig
    from sagatsr.prepare import PreparedDataset

#: Where the pipeline keeps its prepared datasets (one folder per dataset name).
DEFAULT_PREPARED_ROOT = Path("artifacts/prepared")


@dataclass(frozen=True)
class Run:
    """A run folder.

    Args:
        folder: The folder (it need not exist yet).
    """

    folder: Path

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        object.__setattr__(self, "folder", Path(folder))

    @property
    def checkpoints(self) -> Path:
        """Folder of ``last.ckpt`` and ``best.ckpt``."""
        return self.folder / "checkpoints"

    @property
    def last_checkpoint(self) -> Path:
        """The resumable state after the last completed epoch."""
        return self.checkpoints / "last.ckpt"

    @property
    def best_checkpoint(self) -> Path:
        """The state of the epoch with the best validation metric."""
        return self.checkpoints / "best.ckpt"

    @property
    def settings_path(self) -> Path:
        """``run_settings.json``."""
        return self.folder / "run_settings.json"

    @property
    def history_path(self) -> Path:
        """``history.csv``."""
        return self.folder / "history.csv"

    @property
    def model_dir(self) -> Path:
        """The saved best model."""
        return self.folder / "model"

    @property
    def predictions_path(self) -> Path:
        """``predictions.csv``."""
        return self.folder / "predictions.csv"

    @property
    def excluded_path(self) -> Path:
        """``excluded.csv``."""
        return self.folder / "excluded.csv"

    @property
    def metrics_path(self) -> Path:
        """``metrics.json``."""
        return self.folder / "metrics.json"

    @property
    def oof_dir(self) -> Path:
        """Fold models and out-of-fold predictions of ``sagatsr distill``."""
        return self.folder / "oof"

    @property
    def formulas_path(self) -> Path:
        """``formulas.json`` (written by ``sagatsr distill``)."""
        return self.folder / "formulas.json"

    def formulas(self) -> list[dict[str, Any]]:
        """The run's distilled formulas (empty when it was not distilled)."""
        if not self.formulas_path.is_file():
            return []
        return json.loads(self.formulas_path.read_text(encoding="utf-8"))["formulas"]

    def has_model(self) -> bool:
        """Whether a best model was saved (training finished at least once)."""
        return (self.model_dir / "config.json").is_file()

    def runs_inside(self) -> list[str]:
        """Names of the finished runs directly inside this folder (``sagatsr train --out``)."""
        if not self.folder.is_dir():
            return []
        return sorted(p.name for p in self.folder.iterdir() if Run(p).has_model())

    def require_model(self) -> None:
        """Raise unless the run saved a model.

        Raises:
            FileNotFoundError: Naming the folder; when it holds run folders (a
                ``sagatsr train --out`` folder: one run per target), naming them.
        """
        if self.has_model():
            return
        inner = self.runs_inside()
        hint = f" (it holds the runs {', '.join(inner)}: give one of them)" if inner else ""
        raise FileNotFoundError(f"{self.folder} is not a finished run folder (no model/){hint}")

    def is_finished(self) -> bool:
        """Whether the run wrote its metrics (trained and evaluated)."""
        return self.metrics_path.is_file()

    def metrics(self) -> dict[str, Any]:
        """The content of ``metrics.json``.

        Raises:
            FileNotFoundError: Naming the run, when it has not finished.
        """
        if not self.is_finished():
            raise FileNotFoundError(f"{self.folder} has no metrics.json: the run has not finished")
        return json.loads(self.metrics_path.read_text(encoding="utf-8"))

    def predictions(self) -> pd.DataFrame:
        """``predictions.csv`` (columns id, part, the target, prediction).

        Raises:
            FileNotFoundError: Naming the run, when it has no predictions.
        """
        if not self.predictions_path.is_file():
            raise FileNotFoundError(f"{self.folder} has no predictions.csv")
        return pd.read_csv(self.predictions_path)

    def write_plot_data(self, folder: str | os.PathLike[str]) -> dict[str, Path]:
        """The learning curve and the test parity data as the CSVs ``dvc plots`` reads.

        Writes ``<folder>/learning_curve.csv`` (epoch, train_loss, val_mae; one row
        per epoch, the last when a resume repeated one) and ``<folder>/parity.csv``
        (id, target, prediction of the test part, in the target's unit).

        Args:
            folder: Output folder (created).

        Returns:
            ``{"learning_curve": path, "parity": path}``.

        Raises:
            FileNotFoundError: Naming the run, when it has no predictions.
        """
        from sagatsr.train.runner import read_history

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"learning_curve": out / "learning_curve.csv", "parity": out / "parity.csv"}
        history = read_history(self.folder)[["epoch", "train_loss", "val_mae"]]
        history.to_csv(paths["learning_curve"], index=False)
        predictions = self.predictions()
        target = next(c for c in predictions.columns if c not in ("id", "part", "prediction"))
        test = predictions[predictions["part"] == "test"]
        parity = pd.DataFrame(
            {"id": test["id"], "target": test[target], "prediction": test["prediction"]}
        )
        parity.to_csv(paths["parity"], index=False)
        return paths

    def model_config(self) -> tuple[ModelConfig, dict[str, Any]]:
        """The saved model's configuration and stored dictionary (metadata included)."""
        from sagatsr.model import read_model_config

        return read_model_config(self.model_dir)

    def metadata(self) -> dict[str, Any]:
        """Dataset, subset, split, target, unit, graph and training settings of the model."""
        return self.model_config()[1].get("metadata", {})

    def prepared_dataset(
        self, prepared_root: str | os.PathLike[str] | None = None
    ) -> PreparedDataset:
        """The prepared dataset the run was trained on.

        Args:
            prepared_root: A folder holding the dataset as ``<root>/<dataset name>``;
                ``None``: the folder recorded at training (``prepared_dir`` in the
                model's metadata, relative to the run folder), else
                :data:`DEFAULT_PREPARED_ROOT`.

        Raises:
            FileNotFoundError: If no prepared dataset is there; the message names
                the places looked at and the option to give.
        """
        from sagatsr.prepare import PreparedDataset

        metadata = self.metadata()
        dataset = metadata["dataset"]
        candidates = []
        if prepared_root is not None:
            candidates.append(Path(prepared_root) / dataset)
        else:
            if metadata.get("prepared_dir"):
                candidates.append(self.folder / metadata["prepared_dir"])
            candidates.append(DEFAULT_PREPARED_ROOT / dataset)
        for folder in candidates:
            try:
                return PreparedDataset.load(folder)
            except FileNotFoundError:
                continue
        looked = " nor at ".join(str(folder) for folder in candidates)
        raise FileNotFoundError(
            f"run {self.folder} was trained on the prepared dataset {dataset!r}, which is not at "
            f"{looked}: give the folder that holds {dataset}/ with --prepared-root "
            "(prepared_root in Python)"
        )

    def load_model(self, expected_catalog_version: str | None = None) -> SAGAT:
        """The saved best model (eval mode, on CPU)."""
        from sagatsr.model import load_model

        return load_model(self.model_dir, expected_catalog_version=expected_catalog_version)
