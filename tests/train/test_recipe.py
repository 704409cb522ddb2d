import pytest

from sagatsr.model.config import MODEL_SIZES
from sagatsr.train.config import TrainConfig
from sagatsr.train.recipe import (
    CPU_RECIPE,
    MEDIUM_RECIPE,
    RECIPE_OPTIONS,
    build_configs,
    option_types,
    recipe_parameters,
)


def test_size_then_explicit_values_override_the_library_defaults() -> None:
    model, train = build_configs(size="medium", hidden=96, lr=0.01, epochs=None)
    assert model == {**MODEL_SIZES["medium"], "hidden": 96}
    assert train == TrainConfig(lr=0.01)  # None: the library's default epochs
    assert build_configs() == ({}, TrainConfig())


def test_a_named_encoding_sits_between_the_size_and_explicit_values() -> None:
    from sagatsr.model.config import ENCODINGS

    model, _ = build_configs(size="medium", encoding="entropy", sae_entropy_penalty=0.2)
    assert model == {**MODEL_SIZES["medium"], **ENCODINGS["entropy"], "sae_entropy_penalty": 0.2}
    assert build_configs(encoding="paper")[0] == ENCODINGS["paper"]
    with pytest.raises(ValueError, match="sharpest"):
        build_configs(encoding="sharpest")


def test_the_command_line_offers_every_named_encoding_and_size() -> None:
    from sagatsr.cli import _OPTION_CHOICES
    from sagatsr.model.config import ENCODINGS

    assert _OPTION_CHOICES["encoding"] == list(ENCODINGS)
    assert _OPTION_CHOICES["size"] == sorted(MODEL_SIZES)


def test_every_option_is_typed_and_the_cpu_recipe_is_valid() -> None:
    assert set(option_types()) == set(RECIPE_OPTIONS)
    model, train = build_configs(**CPU_RECIPE)
    assert model["hidden"] == 128 and model["layers"] == 3
    assert train.batch_size == 256 and train.ema_decay == 0.999
    medium, _ = build_configs(**MEDIUM_RECIPE)
    assert medium["hidden"] == 64 and {**medium, "hidden": 128} == model


def test_unknown_names_and_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="hiden"):
        build_configs(hiden=3)
    with pytest.raises(ValueError, match="huge"):
        build_configs(size="huge")
    with pytest.raises(ValueError):
        build_configs(epochs=0)  # TrainConfig's own check


def test_a_notebook_namespace_gives_its_recipe_parameters() -> None:
    namespace = {"hidden": 8, "epochs": 3, "out_dir": "x", "__name__": "__main__"}
    assert recipe_parameters(namespace) == {"hidden": 8, "epochs": 3}


def test_every_recipe_option_is_a_command_line_option(capsys) -> None:
    from sagatsr.cli import build_parser

    args = build_parser().parse_args(
        ["train", "p", "--out", "o", "--warmup-fraction", "0.2", "--no-deterministic", "--compile"]
    )
    for name in RECIPE_OPTIONS:
        assert hasattr(args, name), name
    assert args.warmup_fraction == 0.2 and args.deterministic is False and args.compile is True
    assert args.size == "medium" and args.batch_size == CPU_RECIPE["batch_size"]
    assert args.hidden == 128
