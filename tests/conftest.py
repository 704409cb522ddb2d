"""Fixtures shared by the whole suite, built once per session.

* ``prepared``: a tiny Castelli-like dataset (30 perovskites in the mirror layout)
  prepared with the real pipeline;
* ``model_dir``: a one-epoch run on it (its saved ``model/``);
* ``trained_runs``: a folder with that dataset under ``prepared/`` and two short
  runs under ``models/`` (``castelli_e_form``, ``castelli_gap``), as the
  notebooks and the interpretation code expect.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sagatsr.graphs.neighbors import NeighborConfig
from sagatsr.prepare import PreparedDataset, prepare_dataset
from sagatsr.train.config import TrainConfig
from sagatsr.train.pipeline import train_on_split
from tests.support.training import SMALL
from tests.test_prepare import castelli_like


@pytest.fixture(scope="session")
def prepared(tmp_path_factory) -> PreparedDataset:
    root = tmp_path_factory.mktemp("prepared")
    mirror = castelli_like(root / "mirror", n_copies=5)
    return prepare_dataset(
        "castelli_perovskites",
        raw_root=mirror,
        out_dir=root / "prepared",
        neighbors=NeighborConfig(),
    )


@pytest.fixture(scope="session")
def model_dir(prepared, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("model") / "run"
    train_on_split(
        prepared.out_dir,
        subset="all",
        split="matbench_fold0",
        target="e_form",
        out_dir=out,
        model_settings=SMALL,
        train_config=TrainConfig(epochs=1, batch_size=8, progress_bar=False),
    )
    return out / "model"


@pytest.fixture(scope="session")
def trained_runs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    mirror = castelli_like(root / "mirror", n_copies=5)
    prepared_runs = prepare_dataset(
        "castelli_perovskites",
        raw_root=mirror,
        out_dir=root / "prepared" / "castelli_perovskites",
        neighbors=NeighborConfig(),
    )
    small = {"hidden": 16, "heads": 2, "layers": 1, "edge_dim": 8}
    for name, target in (("castelli_e_form", "e_form"), ("castelli_gap", "gap_gllbsc")):
        train_on_split(
            prepared_runs.out_dir,
            subset="all",
            split="matbench_fold0",
            target=target,
            out_dir=root / "models" / name,
            model_settings=small,
            train_config=TrainConfig(epochs=2, batch_size=8, progress_bar=False),
        )
    return root
