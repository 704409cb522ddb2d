"""Run folders as the analysis names them."""

import pytest

from sagatsr.interpret.runs import run_labels


def test_run_labels_take_the_fewest_trailing_parts_that_tell_runs_apart(tmp_path) -> None:
    folds = [tmp_path / "runs" / f"fold{k}" / "e_form" for k in range(3)]
    assert run_labels(folds) == ["fold0/e_form", "fold1/e_form", "fold2/e_form"]
    assert run_labels([tmp_path / "a", tmp_path / "b"]) == ["a", "b"]
    deep = [tmp_path / "x" / "same" / "e_form", tmp_path / "y" / "same" / "e_form"]
    assert run_labels(deep) == ["x/same/e_form", "y/same/e_form"]
    with pytest.raises(ValueError, match="more than once"):
        run_labels([folds[0], tmp_path / "runs" / "fold0" / "." / "e_form"])
