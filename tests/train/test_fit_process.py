import os

import numpy as np
import pytest

from sagatsr.train import runner
from sagatsr.train.data import load_split_parts
from sagatsr.train.ensemble import member_folder, train_ensemble
from sagatsr.train.fit_process import IN_FIT_PROCESS, in_fit_process
from sagatsr.train.pipeline import model_config_for, train_on_split
from sagatsr.train.run import Run
from tests.support.training import SMALL, quick


@pytest.mark.slow
def test_one_call_trains_several_two_process_members(prepared, tmp_path) -> None:
    # Lightning can start the peers of one data-parallel fit per process: before
    # each member ran in its own process, the second member failed at once (gloo).
    result = train_ensemble(
        prepared.out_dir,
        subset="all",
        split="matbench_fold0",
        target="e_form",
        out_dir=tmp_path / "ensemble",
        seeds=(0, 1),
        model_settings=SMALL,
        train_config=quick(epochs=2, accelerator="cpu", devices=2),
        command="test",
    )
    assert result["seeds"] == [0, 1] and np.isfinite(result["metrics"]["test"]["mae"])
    for seed in (0, 1):
        metrics = Run(member_folder(tmp_path / "ensemble", seed)).metrics()
        assert metrics["train_config"]["devices"] == 2 and metrics["epochs_run"] == 2
        assert metrics["torch_threads"] == 1  # each of the two processes took one core
    # The calling process never became a data-parallel rank.
    assert "LOCAL_RANK" not in os.environ and not in_fit_process()
    assert runner._data_parallel_fits == 0


def test_a_failed_training_in_its_own_process_names_the_childs_error(prepared, tmp_path) -> None:
    with pytest.raises(RuntimeError, match=r"in its own process failed .*has no split all/nope"):
        train_on_split(
            prepared.out_dir,
            subset="all",
            split="nope",
            target="e_form",
            out_dir=tmp_path / "run",
            train_config=quick(accelerator="cpu", devices=2),
        )
    assert IN_FIT_PROCESS not in os.environ


def test_a_second_data_parallel_fit_in_one_process_is_refused_before_it_starts(
    prepared, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(runner, "_data_parallel_fits", 1)
    _, parts = load_split_parts(prepared, "all", "matbench_fold0", "e_form")
    with pytest.raises(RuntimeError, match="already ran a data-parallel fit"):
        runner.fit_model(
            parts["train"],
            parts["val"],
            model_config_for(prepared, **SMALL),
            quick(accelerator="cpu", devices=2),
            tmp_path / "run",
        )
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("devices", "accelerator", "processes"),
    [("auto", "cpu", 1), (2, "cpu", 2), ("2", "cpu", 2), ([0, 1, 2], "gpu", 3), (-1, "cpu", 1)],
)
def test_training_processes_counts_lightnings_devices(devices, accelerator, processes) -> None:
    config = quick(accelerator=accelerator, devices=devices)
    assert runner.training_processes(config) == processes


@pytest.mark.slow
def test_a_compiled_two_process_fit_trains(prepared, tmp_path) -> None:
    # The README's recipe (--devices 2 --compile): torch.compile splits the graph at
    # the data-parallel gradient buckets (the first holds 1 MB; this model's encoders
    # alone hold about 2 MB), which once failed on a module-level float constant.
    train_on_split(
        prepared.out_dir,
        subset="all",
        split="matbench_fold0",
        target="e_form",
        out_dir=tmp_path / "run",
        model_settings={"hidden": 128, "heads": 2, "layers": 2, "edge_dim": 8, "n_rbf": 8},
        train_config=quick(epochs=1, accelerator="cpu", devices=2, compile=True),
    )
    metrics = Run(tmp_path / "run").metrics()
    assert metrics["train_config"]["compile"] is True and metrics["epochs_run"] == 1
    assert np.isfinite(metrics["best_val_mae"])


def test_data_parallel_fits_use_the_projects_ddp_options(monkeypatch) -> None:
    from lightning.pytorch.strategies import DDPStrategy
    from lightning.pytorch.trainer.connectors import accelerator_connector

    monkeypatch.setattr(accelerator_connector, "_IS_INTERACTIVE", False)

    options = runner.ddp_options()
    assert options["gradient_as_bucket_view"] is True
    # The pinned torch has forward_sync_buffers: buffers synced once at the start only.
    assert options["forward_sync_buffers"] is False
    strategy = runner.training_strategy(quick(accelerator="cpu", devices=2))
    assert isinstance(strategy, DDPStrategy) and strategy._ddp_kwargs == options
    assert runner.training_strategy(quick(accelerator="cpu", devices=1)) == "auto"
    assert runner.training_strategy(quick(accelerator="cpu", devices="auto")) == "auto"
    assert strategy._start_method == "popen"


def test_an_interactive_session_forks_its_data_parallel_peers(monkeypatch) -> None:
    from lightning.pytorch.trainer.connectors import accelerator_connector

    # A notebook cannot rerun its script: Lightning's own choice there forks the peers.
    # Its verdict is the one that counts (it refuses new-process launchers by it).
    monkeypatch.setattr(accelerator_connector, "_IS_INTERACTIVE", True)
    strategy = runner.training_strategy(quick(accelerator="cpu", devices=2))
    assert strategy._start_method == "fork" and strategy._ddp_kwargs == runner.ddp_options()
