"""Training, prediction and SISSO on a CUDA device (skipped where there is none).

These run on a GPU machine (README, "On a GPU"); CI has none, so there they are
skipped and the CPU paths are covered by the other tests.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from sagatsr.model import load_model
from sagatsr.train.data import load_split_parts
from sagatsr.train.pipeline import model_config_for, train_on_split
from sagatsr.train.runner import fit_model, predict_graphs
from tests.support.training import SMALL, quick

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@requires_cuda
def test_a_run_trains_on_the_gpu_and_its_model_predicts_the_same_on_the_cpu(
    prepared, tmp_path
) -> None:
    out = tmp_path / "run"
    metrics = train_on_split(
        prepared.out_dir,
        subset="all",
        split="matbench_fold0",
        target="e_form",
        out_dir=out,
        model_settings=SMALL,
        train_config=quick(epochs=4, accelerator="gpu", devices=1),
        command="test",
    )
    assert metrics["device"] == "gpu x1" and metrics["epochs_run"] == 4
    assert all(math.isfinite(metrics["metrics"][part]["mae"]) for part in ("train", "val", "test"))
    # The saved model loads on the CPU and reproduces the GPU run's predictions.
    model = load_model(out / "model", expected_catalog_version=prepared.graphs().featurizer)
    assert next(model.parameters()).device.type == "cpu"
    _, parts = load_split_parts(prepared, "all", "matbench_fold0", "e_form")
    predictions = pd.read_csv(out / "predictions.csv").query("part == 'test'")
    np.testing.assert_allclose(
        predict_graphs(model, parts["test"]), predictions["prediction"], rtol=1e-4, atol=1e-5
    )
    assert json.loads((out / "metrics.json").read_text())["device"] == "gpu x1"


@requires_cuda
def test_the_network_gives_the_same_predictions_and_ics_on_gpu_and_cpu(prepared, tmp_path) -> None:
    from sagatsr.graphs.packed import packed_loader

    _, parts = load_split_parts(prepared, "all", "matbench_fold0", "e_form")
    config = model_config_for(prepared, **SMALL)
    model = fit_model(parts["train"], parts["val"], config, quick(epochs=1), tmp_path).model
    batch = next(iter(packed_loader(parts["test"].graphs, 256)))
    with torch.no_grad():
        cpu_values, cpu_ic = model.cpu().eval()(batch, return_ic=True)
        gpu_values, gpu_ic = model.cuda()(batch.to("cuda"), return_ic=True)
    torch.testing.assert_close(gpu_values.cpu(), cpu_values, rtol=1e-4, atol=1e-5)
    for name in ("global_ic", "node_ic"):
        if cpu_ic.get(name) is not None:
            torch.testing.assert_close(gpu_ic[name].cpu(), cpu_ic[name], rtol=1e-4, atol=1e-6)
    assert cpu_ic["global_ic"] is not None


@requires_cuda
def test_sisso_finds_the_same_descriptors_on_gpu_and_cpu() -> None:
    from sagatsr.bench.sisso_engine import synthetic_dataset
    from sagatsr.sr import SymbolicRegressor

    data, y = synthetic_dataset(300, 8, seed=0)
    fits = {
        device: SymbolicRegressor(n_sis=20, max_dim=2, device=device, progress=False).fit(data, y)
        for device in ("cpu", "cuda")
    }
    cpu, gpu = (fits[d].equations_.loc[fits[d].best_] for d in ("cpu", "cuda"))
    assert gpu["descriptor"] == cpu["descriptor"]
    np.testing.assert_allclose(gpu["coefficients"], cpu["coefficients"], rtol=1e-6)
