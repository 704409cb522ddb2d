"""Lightning training on a tiny prepared dataset: determinism, resume, ablations, outputs."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from lightning.pytorch.callbacks import Callback

from sagatsr.model import load_model
from sagatsr.train.data import load_split_parts
from sagatsr.train.pipeline import model_config_for, train_on_split, train_targets
from sagatsr.train.run import Run
from sagatsr.train.runner import fit_model, predict_graphs, read_history, training_seconds
from tests.support.training import SMALL, quick, train_fold0


def test_train_on_split_writes_the_run_folder(prepared, tmp_path) -> None:
    out = tmp_path / "run"
    metrics = train_fold0(
        prepared,
        out,
        model_settings=SMALL,
        train_config=quick(),
        command="test",
    )
    assert {p.name for p in out.iterdir()} >= {
        "checkpoints",
        "history.csv",
        "model",
        "predictions.csv",
        "metrics.json",
        "excluded.csv",
    }
    assert json.loads((out / "metrics.json").read_text()) == json.loads(json.dumps(metrics))
    assert metrics["unit"] == "eV/cell" and metrics["epochs_run"] == 3
    assert set(metrics["metrics"]) == {"train", "val", "test"}
    predictions = pd.read_csv(out / "predictions.csv")
    test_ids = (prepared.out_dir / "splits/all/matbench_fold0/test.txt").read_text().split()
    excluded = pd.read_csv(out / "excluded.csv")
    assert set(predictions.query("part == 'test'")["id"]) == set(test_ids)
    # The masked 99 eV/cell entry is listed, not silently dropped.
    assert excluded[["id", "reason"]].values.tolist() == [
        ["mb-perovskites-00002", "missing target e_form"]
    ]
    # The saved model predicts exactly what the run reported, in physical units.
    model = load_model(out / "model", expected_catalog_version=prepared.graphs().featurizer)
    _, parts = load_split_parts(prepared, "all", "matbench_fold0", "e_form")
    np.testing.assert_allclose(
        predict_graphs(model, parts["test"]),
        predictions.query("part == 'test'")["prediction"].to_numpy(),
        rtol=1e-5,
    )
    stored = json.loads((out / "model" / "config.json").read_text())
    assert stored["metadata"]["target"] == "e_form" and stored["metadata"]["unit"] == "eV/cell"
    assert stored["config"]["cutoff"] == 8.0 and stored["config"]["max_neighbors"] == 12


def test_fixed_seed_is_deterministic_on_cpu(prepared, tmp_path) -> None:
    _, parts = load_split_parts(prepared, "all", "matbench_fold1", "e_form")
    config = model_config_for(prepared, **SMALL, dropout=0.2)
    runs = [
        fit_model(parts["train"], parts["val"], config, quick(seed=7), tmp_path / f"r{i}")
        for i in range(2)
    ]
    first, second = (predict_graphs(r.model, parts["test"]) for r in runs)
    np.testing.assert_array_equal(first, second)
    other = fit_model(parts["train"], parts["val"], config, quick(seed=8), tmp_path / "r3")
    assert not np.array_equal(first, predict_graphs(other.model, parts["test"]))


class Crash(Callback):
    """Simulates a kill after ``at`` epochs (checkpoints of those epochs are on disk)."""

    def __init__(self, at: int) -> None:
        self.at = at

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if trainer.current_epoch + 1 == self.at:
            raise RuntimeError("simulated kill")


def test_resume_after_a_kill_keeps_completed_epochs(prepared, tmp_path) -> None:
    _, parts = load_split_parts(prepared, "all", "matbench_fold2", "e_form")
    config = model_config_for(prepared, **SMALL)
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="simulated kill"):
        fit_model(
            parts["train"], parts["val"], config, quick(epochs=5), out, extra_callbacks=[Crash(3)]
        )
    assert read_history(out)["epoch"].tolist() == [0, 1, 2]
    before_resume = training_seconds(out)
    result = fit_model(parts["train"], parts["val"], config, quick(epochs=5), out)
    assert read_history(out)["epoch"].tolist() == [0, 1, 2, 3, 4]
    assert result.epochs_run == 5
    # The reported training time covers the epochs of both calls.
    assert result.total_seconds == pytest.approx(training_seconds(out))
    assert result.total_seconds > before_resume > 0
    # The run's clock carries the first call's time into the resumed epochs.
    run_clock = read_history(out)["run_seconds"]
    assert run_clock.is_monotonic_increasing and run_clock.iloc[3] > before_resume
    assert run_clock.iloc[-1] == pytest.approx(training_seconds(out))
    # Running again after completion trains nothing more.
    again = fit_model(parts["train"], parts["val"], config, quick(epochs=5), out)
    assert read_history(out)["epoch"].tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(
        predict_graphs(again.model, parts["test"]), predict_graphs(result.model, parts["test"])
    )


def test_wall_time_budget_covers_every_call_of_a_run(prepared, tmp_path) -> None:
    _, parts = load_split_parts(prepared, "all", "matbench_fold2", "e_form")
    config = model_config_for(prepared, **SMALL)
    out = tmp_path / "run"
    fit_model(parts["train"], parts["val"], config, quick(epochs=2), out)
    spent_minutes = training_seconds(out) / 60
    # A budget already used up by the first call: resuming trains no further epoch.
    capped = quick(epochs=5, max_time_minutes=spent_minutes * 0.99)
    result = fit_model(parts["train"], parts["val"], config, capped, out)
    assert read_history(out)["epoch"].tolist() == [0, 1] and result.epochs_run == 2
    # A budget with time left: the run goes on.
    roomy = quick(epochs=3, max_time_minutes=spent_minutes + 60)
    fit_model(parts["train"], parts["val"], config, roomy, out)
    assert read_history(out)["epoch"].tolist() == [0, 1, 2]


class RecordTimeLeft(Callback):
    """Training seconds Lightning's timer will still allow when training starts."""

    def on_train_start(self, trainer, pl_module) -> None:
        from lightning.pytorch.callbacks import Timer

        timer = next(c for c in trainer.callbacks if isinstance(c, Timer))
        self.left = timer._duration - timer.time_elapsed()


def test_a_budget_on_both_calls_is_not_charged_twice(prepared, tmp_path) -> None:
    _, parts = load_split_parts(prepared, "all", "matbench_fold2", "e_form")
    config = model_config_for(prepared, **SMALL)
    out = tmp_path / "run"
    fit_model(parts["train"], parts["val"], config, quick(epochs=4, max_time_minutes=60), out)
    spent = training_seconds(out)
    # The resumed call may train for the budget less the time already spent, once:
    # Lightning's timer restores its own count from the checkpoint.
    record = RecordTimeLeft()
    again = quick(epochs=5, max_time_minutes=10)
    fit_model(parts["train"], parts["val"], config, again, out, extra_callbacks=[record])
    assert record.left == pytest.approx(600 - spent, abs=spent / 3)
    assert read_history(out)["epoch"].tolist() == [0, 1, 2, 3, 4]


class RecordMetric(Callback):
    def __init__(self, name: str) -> None:
        self.name, self.values = name, []

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.values.append(float(trainer.callback_metrics[self.name]))


@pytest.mark.parametrize(("loss", "monitor"), [("l1", "val_mae"), ("mse", "val_rmse")])
def test_best_epoch_follows_the_metric_of_the_loss(prepared, tmp_path, loss, monitor) -> None:
    _, parts = load_split_parts(prepared, "all", "matbench_fold2", "e_form")
    config = model_config_for(prepared, **SMALL)
    record = RecordMetric(monitor)
    result = fit_model(
        parts["train"],
        parts["val"],
        config,
        quick(epochs=4, loss=loss),
        tmp_path / loss,
        extra_callbacks=[record],
    )
    assert result.best_epoch == int(np.argmin(record.values))
    history = read_history(tmp_path / loss)
    assert result.best_val_mae == pytest.approx(history["val_mae"][result.best_epoch])


def test_l1_on_a_mostly_zero_target_warns(prepared, tmp_path, caplog) -> None:
    _, parts = load_split_parts(prepared, "all", "matbench_fold2", "e_form")
    for graph in parts["train"].graphs[: len(parts["train"].graphs) * 3 // 4]:
        graph.y = graph.y * 0.0  # most structures "metallic": target exactly zero
    config = model_config_for(prepared, **SMALL)
    with caplog.at_level("WARNING", logger="sagatsr.train.runner"):
        fit_model(parts["train"], parts["val"], config, quick(epochs=1), tmp_path / "l1")
    assert "consider loss='mse'" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="sagatsr.train.runner"):
        fit_model(
            parts["train"], parts["val"], config, quick(epochs=1, loss="mse"), tmp_path / "mse"
        )
    assert "consider loss='mse'" not in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="sagatsr.train.runner"):
        fit_model(
            parts["train"],
            parts["val"],
            config,
            quick(epochs=1),
            tmp_path / "fold",
            check_recipe=False,
        )
    assert "consider loss='mse'" not in caplog.text


def test_resume_with_other_settings_is_refused(prepared, tmp_path) -> None:
    _, parts = load_split_parts(prepared, "all", "matbench_fold2", "e_form")
    config = model_config_for(prepared, **SMALL)
    out = tmp_path / "run"
    fit_model(parts["train"], parts["val"], config, quick(epochs=1), out)
    with pytest.raises(ValueError, match=r"cannot resume .*train\.loss, train\.lr"):
        other = replace(quick(epochs=2), lr=1e-2, loss="mse")
        fit_model(parts["train"], parts["val"], config, other, out)
    assert read_history(out)["epoch"].tolist() == [0]
    # Run-time settings (epochs, progress bar, devices) may change on resume.
    longer = replace(quick(epochs=2), progress_bar=True)
    fit_model(parts["train"], parts["val"], config, longer, out)
    assert read_history(out)["epoch"].tolist() == [0, 1]


def test_resume_on_other_data_is_refused(prepared, tmp_path) -> None:
    _, parts = load_split_parts(prepared, "all", "matbench_fold2", "e_form")
    _, other_split = load_split_parts(prepared, "all", "matbench_fold0", "e_form")
    config = model_config_for(prepared, **SMALL)
    out = tmp_path / "run"
    fit_model(parts["train"], parts["val"], config, quick(epochs=1), out)
    # same settings, another split: continuing would mix two training sets in one model
    with pytest.raises(ValueError, match=r"run.*cannot resume this run on other data.*train"):
        fit_model(other_split["train"], parts["val"], config, quick(epochs=2), out)
    with pytest.raises(ValueError, match=r"other data \(its val graphs"):
        fit_model(parts["train"], other_split["val"], config, quick(epochs=2), out)
    assert read_history(out)["epoch"].tolist() == [0]
    recorded = json.loads(Run(out).settings_path.read_text())["data"]
    assert recorded == {"train": parts["train"].fingerprint(), "val": parts["val"].fingerprint()}
    # a run folder of an earlier version (no fingerprints recorded) still resumes
    settings = json.loads(Run(out).settings_path.read_text())
    del settings["data"]
    Run(out).settings_path.write_text(json.dumps(settings))
    fit_model(parts["train"], parts["val"], config, quick(epochs=2), out)
    assert read_history(out)["epoch"].tolist() == [0, 1]


def test_a_share_of_the_training_part_is_a_seeded_sample(prepared, tmp_path) -> None:
    _, parts = load_split_parts(prepared, "all", "matbench_fold0", "e_form")
    everything = set(parts["train"].ids)

    def train_ids(seed: int, name: str) -> set[str]:
        metrics = train_fold0(
            prepared,
            tmp_path / name,
            model_settings=SMALL,
            train_config=quick(epochs=1, seed=seed),
            train_fraction=0.4,
        )
        predictions = pd.read_csv(tmp_path / name / "predictions.csv")
        ids = set(predictions.query("part == 'train'")["id"])
        assert len(ids) == metrics["metrics"]["train"]["n"] == round(0.4 * len(everything))
        assert metrics["metrics"]["val"]["n"] == len(parts["val"].graphs)  # stays whole
        assert metrics["train_fraction"] == 0.4
        return ids

    first = train_ids(0, "a")
    assert first < everything
    assert train_ids(0, "b") == first and train_ids(1, "c") != first
    with pytest.raises(ValueError, match=r"train_fraction must be in \(0, 1\]"):
        train_fold0(
            prepared,
            tmp_path / "d",
            train_fraction=1.5,
        )
    sample = parts["train"].sample(5, seed=3)
    assert sample.ids == [i for i in parts["train"].ids if i in set(sample.ids)]  # in order
    assert parts["train"].sample(10**6, seed=3) is parts["train"]


def test_a_refit_trains_on_train_and_val_and_keeps_the_last_epoch(prepared, tmp_path) -> None:
    _, parts = load_split_parts(prepared, "all", "matbench_fold0", "e_form")
    out = tmp_path / "refit"
    metrics = train_fold0(
        prepared,
        out,
        model_settings=SMALL,
        train_config=quick(epochs=4),
        refit=True,
    )
    assert metrics["refit"] is True and metrics["best_epoch"] == 3  # the last of 4
    # ... though another epoch scored best on the (in-sample) validation graphs
    assert int(read_history(out)["val_mae"].idxmin()) != 3
    assert "refit on train + val" in metrics["summary"]
    recorded = json.loads(Run(out).settings_path.read_text())["data"]
    assert recorded["train"] == (parts["train"] + parts["val"]).fingerprint()
    # the saved model is the last epoch's, whatever the (in-sample) validation said
    last = torch.load(Run(out).last_checkpoint, map_location="cpu", weights_only=False)
    saved = load_model(out / "model", expected_catalog_version=prepared.graphs().featurizer)
    for key, value in saved.state_dict().items():
        assert torch.equal(value, last["state_dict"][f"model.{key}"]), key
    with pytest.raises(ValueError, match="cannot stop early"):
        train_fold0(
            prepared,
            tmp_path / "early",
            train_config=replace(quick(), patience=5),
            refit=True,
        )
    with pytest.raises(ValueError, match="in both collections"):
        parts["train"] + parts["train"]


def test_a_run_ended_by_early_stopping_is_not_trained_further(prepared, tmp_path) -> None:
    _, parts = load_split_parts(prepared, "all", "matbench_fold2", "e_form")
    config = model_config_for(prepared, **SMALL)
    out = tmp_path / "run"
    # A huge learning rate and patience 1: validation stops improving at once.
    stopping = replace(quick(epochs=30), lr=5.0, patience=1)
    first = fit_model(parts["train"], parts["val"], config, stopping, out)
    assert first.epochs_run < 30
    again = fit_model(parts["train"], parts["val"], config, stopping, out)
    assert again.epochs_run == first.epochs_run
    assert read_history(out)["epoch"].tolist() == list(range(first.epochs_run))


def test_training_seconds_sums_every_call_of_a_resumed_run(tmp_path) -> None:
    history = pd.DataFrame(
        {
            "epoch": [0, 1, 2, 2, 3],
            "train_loss": 1.0,
            "val_mae": 1.0,
            "lr": 1e-3,
            "seconds": [1.0, 2.0, 3.5, 1.2, 2.0],  # clock restarts at the resume
        }
    )
    history.to_csv(tmp_path / "history.csv", index=False)
    assert training_seconds(tmp_path) == pytest.approx(5.5)
    assert training_seconds(tmp_path / "missing") == 0.0


@pytest.mark.parametrize("embedding", ["sae", "fcn", "onehot"])
def test_each_embedding_trains(prepared, tmp_path, embedding: str) -> None:
    metrics = train_on_split(
        prepared.out_dir,
        subset="ABO3",
        split="matbench_fold3",
        target="e_form",
        out_dir=tmp_path / embedding,
        model_settings={**SMALL, "embedding": embedding},
        train_config=quick(epochs=2),
    )
    history = read_history(tmp_path / embedding)
    assert len(history) == 2 and np.isfinite(history["train_loss"]).all()
    assert np.isfinite(metrics["metrics"]["test"]["mae"])


def test_one_call_trains_every_target(prepared, tmp_path) -> None:
    results = train_targets(
        prepared.out_dir,
        subset="all",
        split="matbench_fold4",
        out_root=tmp_path,
        model_settings=SMALL,
        train_config=quick(epochs=1),
    )
    assert set(results) == {"e_form", "gap_gllbsc"}
    assert (tmp_path / "gap_gllbsc" / "model" / "state.pt").is_file()


def test_unknown_split_and_settings_are_clear_errors(prepared, tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="available: matbench_fold0"):
        train_on_split(
            prepared.out_dir, subset="all", split="random", target="e_form", out_dir=tmp_path
        )
    with pytest.raises(KeyError, match="targets: e_form"):
        train_on_split(
            prepared.out_dir, subset="all", split="matbench_fold0", target="gap", out_dir=tmp_path
        )
    with pytest.raises(ValueError, match="unknown model settings: widthh"):
        model_config_for(prepared, widthh=3)


def test_ema_validates_and_saves_the_averaged_weights(prepared, tmp_path) -> None:
    _, parts = load_split_parts(prepared, "all", "matbench_fold2", "e_form")
    config = model_config_for(prepared, **SMALL)
    out = tmp_path / "ema"
    result = fit_model(parts["train"], parts["val"], config, quick(epochs=3, ema_decay=0.9), out)
    last = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    # The checkpoint holds the average as the model and the raw weights beside it.
    raw, averaged = last["current_model_state"], last["state_dict"]
    key = next(k for k in averaged if k.endswith("head.4.weight"))
    assert not torch.equal(raw[key], averaged[key])
    steps = 3 * -(-len(parts["train"].graphs) // 8)
    assert int(last["averaging_state"]["n_averaged"]) == steps
    # The model returned (and saved) is the one validation chose: its validation MAE
    # is the one recorded for the best epoch.
    val_mae = np.abs(predict_graphs(result.model, parts["val"]) - parts["val"].targets).mean()
    assert val_mae == pytest.approx(result.best_val_mae, rel=1e-5)
    plain = fit_model(parts["train"], parts["val"], config, quick(epochs=3), tmp_path / "plain")
    assert not np.allclose(
        predict_graphs(plain.model, parts["test"]), predict_graphs(result.model, parts["test"])
    )


def test_ema_resumes_with_its_average(prepared, tmp_path) -> None:
    _, parts = load_split_parts(prepared, "all", "matbench_fold2", "e_form")
    config = model_config_for(prepared, **SMALL)
    out = tmp_path / "run"
    settings = quick(epochs=4, ema_decay=0.9)
    with pytest.raises(RuntimeError, match="simulated kill"):
        fit_model(parts["train"], parts["val"], config, settings, out, extra_callbacks=[Crash(2)])
    fit_model(parts["train"], parts["val"], config, settings, out)
    assert read_history(out)["epoch"].tolist() == [0, 1, 2, 3]
    last = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    # The average kept counting across the resume instead of restarting.
    steps = 4 * -(-len(parts["train"].graphs) // 8)
    assert int(last["averaging_state"]["n_averaged"]) == steps
    with pytest.raises(ValueError, match=r"train\.ema_decay"):
        fit_model(parts["train"], parts["val"], config, quick(epochs=5, ema_decay=0.5), out)


def test_a_version_1_0_checkpoint_is_not_resumed(prepared, tmp_path) -> None:
    _, parts = load_split_parts(prepared, "all", "matbench_fold2", "e_form")
    config = model_config_for(prepared, **SMALL)
    out = tmp_path / "run"
    fit_model(parts["train"], parts["val"], config, quick(epochs=1), out)
    path = out / "checkpoints" / "last.ckpt"
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    checkpoint["state_dict"][f"model.layers.{config.layers - 1}.edge_node.weight"] = torch.ones(2)
    torch.save(checkpoint, path)
    with pytest.raises(ValueError, match=r"last\.ckpt was written by model version 1\.0"):
        fit_model(parts["train"], parts["val"], config, quick(epochs=2), out)


@pytest.mark.slow
def test_two_process_ddp_training_from_the_command_line(prepared, tmp_path) -> None:
    # Lightning's DDP on two CPU processes (gloo): the path that several GPUs take,
    # through the unchanged command line.
    def train(out: Path) -> subprocess.CompletedProcess:
        command = [
            sys.executable,
            "-m",
            "sagatsr",
            "train",
            str(prepared.out_dir),
            "--split",
            "matbench_fold0",
            "--target",
            "e_form",
            "--out",
            str(out),
            *("--hidden", "16", "--heads", "2", "--layers", "2", "--edge-dim", "8"),
            *("--epochs", "2", "--batch-size", "8", "--accelerator", "cpu", "--devices", "2"),
            *("--train-fraction", "0.5", "--refit"),  # reach the processes of the fit
            "--quiet",
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)

    done = train(tmp_path / "ddp")
    assert done.returncode == 0, done.stderr[-3000:]
    # each of the two DDP processes logs its thread share
    assert (done.stdout + done.stderr).count("per process (2 process(es)") == 2
    # rank 0 alone evaluates and reports the run (rank 1 exits after training)
    assert done.stdout.count("e_form: test MAE") == 1
    run = tmp_path / "ddp" / "e_form"
    history = read_history(run)
    assert history["epoch"].tolist() == [0, 1]
    metrics = json.loads((run / "metrics.json").read_text())
    assert np.isfinite(metrics["metrics"]["test"]["mae"])
    _, parts = load_split_parts(prepared, "all", "matbench_fold0", "e_form")
    assert metrics["train_fraction"] == 0.5 and metrics["refit"] is True
    assert metrics["metrics"]["train"]["n"] == round(0.5 * len(parts["train"].graphs))
    load_model(run / "model", expected_catalog_version=prepared.graphs().featurizer)
    # A fixed seed gives the same numbers with two processes as well.
    again = train(tmp_path / "again")
    assert again.returncode == 0, again.stderr[-3000:]
    repeated = read_history(tmp_path / "again" / "e_form")
    columns = ["train_loss", "val_mae"]
    assert repeated[columns].to_numpy().tolist() == history[columns].to_numpy().tolist()


def test_the_entropy_penalty_concentrates_the_coefficients(prepared, tmp_path) -> None:
    from sagatsr.interpret.groups import concentration
    from sagatsr.interpret.importance import importance_coefficients

    _, parts = load_split_parts(prepared, "all", "matbench_fold0", "e_form")
    ratios = {}
    for weight in (0.0, 5.0):
        config = model_config_for(prepared, **SMALL, sae_entropy_penalty=weight)
        result = fit_model(
            parts["train"], parts["val"], config, quick(epochs=4), tmp_path / str(weight)
        )
        mean_ic = importance_coefficients(result.model, parts["test"]).global_ic.mean(axis=0)
        ratios[weight] = concentration(mean_ic)["entropy_ratio"]
    assert ratios[5.0] < ratios[0.0] - 0.002


@pytest.mark.parametrize(
    "encoding", ["normalized", "feature_dropout", "zero_init", "entmax", "score_lr"]
)
def test_every_encoding_trains_and_its_saved_model_reloads(prepared, tmp_path, encoding) -> None:
    from sagatsr.model import save_model
    from sagatsr.model.config import ENCODINGS

    _, parts = load_split_parts(prepared, "all", "matbench_fold0", "e_form")
    config = model_config_for(prepared, **SMALL, **ENCODINGS[encoding])
    result = fit_model(parts["train"], parts["val"], config, quick(epochs=2), tmp_path / "run")
    assert np.isfinite(result.best_val_mae)
    reloaded = load_model(save_model(result.model, tmp_path / "model"))
    assert reloaded.config == config
    np.testing.assert_array_equal(
        predict_graphs(reloaded, parts["test"]), predict_graphs(result.model, parts["test"])
    )


def test_the_run_clock_adds_up_calls_and_keeps_the_last_row_of_a_repeated_epoch(tmp_path) -> None:
    history = Run(tmp_path).history_path
    history.parent.mkdir(parents=True, exist_ok=True)
    history.write_text(
        "epoch,train_loss,val_mae,lr,seconds,cpu_seconds\n"
        "0,1,0.5,0.1,10,20\n1,1,0.4,0.1,20,40\n"  # first call, killed during epoch 2
        "1,1,0.4,0.1,4,8\n2,1,0.3,0.1,9,18\n"  # resumed: epoch 1 again, then 2
    )
    frame = read_history(tmp_path)
    assert frame["epoch"].tolist() == [0, 1, 2]
    assert frame["run_seconds"].tolist() == [10, 24, 29]
    assert frame["run_cpu_seconds"].tolist() == [20, 48, 58]
    assert training_seconds(tmp_path) == 29
    # A run made before processor time was recorded has no run CPU clock (not zero).
    history.write_text("epoch,train_loss,val_mae,lr,seconds\n0,1,0.5,0.1,10\n1,1,0.4,0.1,20\n")
    assert read_history(tmp_path)["run_cpu_seconds"].isna().all()
    assert read_history(tmp_path)["run_seconds"].tolist() == [10, 20]
