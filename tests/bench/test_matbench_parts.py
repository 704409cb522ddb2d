import pandas as pd
import pytest

from sagatsr.bench.matbench_parts import (
    fold_recipe,
    ids_digest,
    member_part_path,
    member_predictions,
    member_recipe,
    read_member_part,
    split_labels,
    write_member_part,
)
from sagatsr.train.config import TrainConfig
from sagatsr.train.data import load_split_parts


def test_a_member_recipe_drops_the_seed_list_and_keeps_its_own_seed() -> None:
    recipe = fold_recipe("all", "e_form", {"hidden": 128}, TrainConfig(seed=7), (0, 1, 2))
    member = member_recipe(recipe, 2)
    assert member["seeds"] == [] and member["train_config"]["seed"] == 2
    assert member["model_settings"] == {"hidden": 128}
    assert recipe["train_config"]["seed"] == 7  # the fold's recipe is left alone
    assert member_recipe(fold_recipe("all", "e_form", {"hidden": 128}, TrainConfig(), ()), 2) == (
        member
    )


def test_ids_digest_depends_on_order_and_content() -> None:
    assert ids_digest(["a", "b"]) == ids_digest(["a", "b"])
    assert len({ids_digest(["a", "b"]), ids_digest(["b", "a"]), ids_digest(["ab"])}) == 3


def test_a_member_part_round_trips_its_predictions_with_the_split_labels(
    prepared, tmp_path
) -> None:
    _, split = load_split_parts(prepared, "all", "matbench_fold0", "e_form")
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "id": split[name].ids,
                    "part": name,
                    "e_form": split[name].targets,
                    "prediction": [0.1 * i for i in range(len(split[name].ids))],
                }
            )
            for name in ("val", "test")
        ],
        ignore_index=True,
    )
    recipe = member_recipe(fold_recipe("all", "e_form", {}, TrainConfig(), (0, 1)), 1)
    metrics = {"unit": "eV/cell", "best_val_mae": 0.1}
    path = write_member_part(tmp_path, 0, 1, recipe, metrics, frame, "test")
    assert path == member_part_path(tmp_path, 0, 1)
    assert read_member_part(tmp_path, 0, 0, recipe) is None  # no part for seed 0
    part = read_member_part(tmp_path, 0, 1, recipe)
    assert part["metrics"] == metrics and part["commit"]
    labels = split_labels(prepared.out_dir, "all", "matbench_fold0", "e_form")
    restored = member_predictions(part, labels, "e_form", str(path))
    pd.testing.assert_frame_equal(restored, frame)
    with pytest.raises(ValueError, match="test predictions are for other structures"):
        member_predictions(part, {**labels, "test": labels["val"]}, "e_form", str(path))
