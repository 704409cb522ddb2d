"""The thread-count determinism benchmark on a tiny dataset."""

import json

import pytest

from sagatsr.bench.determinism import measure_determinism
from sagatsr.bench.readme import determinism_section
from sagatsr.train.config import TrainConfig
from tests.support.training import SMALL


@pytest.mark.slow
def test_threads_and_seeds_are_compared_and_a_repeat_is_identical(prepared, tmp_path) -> None:
    out = tmp_path / "determinism.json"
    result = measure_determinism(
        prepared.out_dir,
        tmp_path / "runs",
        subset="all",
        split="matbench_fold0",
        target="e_form",
        model_settings=SMALL,
        train_config=TrainConfig(epochs=1, batch_size=8, progress_bar=False),
        seeds=(0, 1),
        threads=(1, 2),
        out_path=out,
        command="test",
    )
    saved = json.loads(out.read_text())
    assert saved["commit"] and saved["hardware"]
    assert {(r["seed"], r["threads"]) for r in result["runs"]} == {(0, 1), (0, 2), (1, 1), (1, 2)}
    assert result["repeat_identical"] is True  # same machine, same seed and threads
    by = {(r["seed"], r["threads"]): r["test_mae"] for r in result["runs"]}
    assert result["thread_spread"]["0"]["abs"] == pytest.approx(abs(by[0, 1] - by[0, 2]))
    assert result["seed_spread"]["abs"] == pytest.approx(abs(by[0, 1] - by[1, 1]))
    assert by[0, 1] != by[1, 1]  # seeds differ
    block = determinism_section({"determinism": saved})
    assert "| 0 |" in block and "| 1 |" in block and "identical" in block
    with pytest.raises(ValueError, match="at least one"):
        measure_determinism(
            prepared.out_dir,
            tmp_path / "none",
            subset="all",
            split="matbench_fold0",
            target="e_form",
            model_settings=SMALL,
            train_config=TrainConfig(epochs=1),
            seeds=(),
        )
