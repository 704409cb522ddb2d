import json

import pytest

from sagatsr.bench.throughput import BEFORE, StepRecipe, measure_throughput
from tests.support.training import SMALL


def _tiny_castelli(folder):
    """A prepared Castelli-like dataset of a few graphs under ``folder``."""
    from sagatsr.graphs.neighbors import NeighborConfig
    from sagatsr.prepare import prepare_dataset
    from tests.test_prepare import castelli_like

    mirror = castelli_like(folder / "mirror", n_copies=2)
    return prepare_dataset(
        "castelli_perovskites", raw_root=mirror, out_dir=folder / "p", neighbors=NeighborConfig()
    )


def test_throughput_measures_every_recipe_against_before(tmp_path) -> None:
    from dataclasses import replace

    prepared = _tiny_castelli(tmp_path)
    out = tmp_path / "throughput.json"
    recipes = (replace(BEFORE, batch_size=4), StepRecipe("batch8", 8))
    result = measure_throughput(
        prepared.out_dir,
        target="gap_gllbsc",
        n_graphs=8,
        repeats=2,
        sizes={"small": SMALL},
        recipes=recipes,
        devices=("cpu", "cuda"),
        out_path=out,
        command="test",
    )
    assert result["n_graphs_per_call"] == 8
    cpu = result["sizes"]["small"]["devices"]["cpu"]["recipes"]
    assert set(cpu) == {"before", "batch8"}
    assert cpu["before"]["speedup_over_before"] == pytest.approx(1.0)
    assert cpu["batch8"]["graphs_per_second"] > 0 and cpu["batch8"]["recipe"]["batch_size"] == 8
    assert cpu["before"]["recipe"]["literal_encoding"] is True
    cuda = result["sizes"]["small"]["devices"]["cuda"]
    assert "skipped" in cuda or cuda["recipes"]["batch8"]["graphs_per_second"] > 0
    assert json.loads(out.read_text())["commit"]


def test_data_parallel_recipe_times_two_processes_on_the_cpu_only(tmp_path) -> None:
    prepared = _tiny_castelli(tmp_path)
    recipe = StepRecipe("batch8_2processes", 8, processes=2)
    result = measure_throughput(
        prepared.out_dir,
        target="gap_gllbsc",
        n_graphs=9,
        repeats=1,
        sizes={"small": SMALL},
        recipes=(recipe,),
        devices=("cpu", "cuda"),
    )
    measured = result["sizes"]["small"]["devices"]["cpu"]["recipes"]["batch8_2processes"]
    assert measured["recipe"]["processes"] == 2
    # Two equal shares of 4 graphs: the odd graph is left out of the count.
    assert measured["graphs_per_second"] == pytest.approx(8 / measured["timing"]["median_s"])
    cuda = result["sizes"]["small"]["devices"]["cuda"]
    assert "skipped" in cuda or "skipped" in cuda["recipes"]["batch8_2processes"]


@pytest.mark.parametrize(
    "recipe",
    [
        {"batch_size": 9, "processes": 2},
        {"batch_size": 8, "processes": 0},
        {"batch_size": 8, "processes": 2, "literal_encoding": True},
        {"batch_size": 8, "processes": 2, "pyg_collation": True},
    ],
)
def test_recipes_that_cannot_split_or_combine_are_refused(recipe) -> None:
    with pytest.raises(ValueError, match="bad"):
        StepRecipe("bad", **recipe)


def test_unknown_size_is_named(tmp_path) -> None:
    with pytest.raises(KeyError, match="huge"):
        measure_throughput(tmp_path, target="t", sizes=("huge",))


@pytest.mark.slow
def test_compiled_step_network_matches_the_eager_one(tmp_path) -> None:
    """What the compiled recipes time computes the eager step's loss and gradients."""
    import torch

    from sagatsr.bench.throughput import _StepNetwork
    from sagatsr.graphs.packed import packed_loader
    from sagatsr.model import SAGAT, fit_scalers
    from sagatsr.prepare import PreparedDataset
    from sagatsr.train.data import labelled_graphs
    from sagatsr.train.pipeline import model_config_for

    prepared = PreparedDataset.load(_tiny_castelli(tmp_path).out_dir)
    graphs = labelled_graphs(prepared, prepared.subset_ids("all")[:6], "gap_gllbsc").graphs
    config = model_config_for(prepared, **{**SMALL, "dropout": 0.0})  # no random masks
    torch.manual_seed(0)
    model = SAGAT(config)
    fit_scalers(model, graphs)
    batch = next(iter(packed_loader(graphs, 6)))
    losses, gradients = [], []
    for compiled in (False, True):
        model.zero_grad(set_to_none=True)
        loss = (_StepNetwork(model, compiled)(batch) - batch.y).abs().mean()
        loss.backward()
        losses.append(loss.detach())
        gradients.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
    torch.testing.assert_close(losses[1], losses[0], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(gradients[1], gradients[0], rtol=1e-3, atol=1e-5)


def test_the_command_times_the_named_recipes_only(prepared, tmp_path, capsys) -> None:
    from sagatsr.cli import main

    out = tmp_path / "throughput.json"
    common = ["benchmark", "throughput", "--prepared", str(prepared.out_dir)]
    common += ["--n-graphs", "8", "--repeats", "1", "--sizes", "medium", "--devices", "cpu"]
    assert main([*common, "--recipes", "before", "batch64", "--out", str(out)]) == 0
    recipes = json.loads(out.read_text())["sizes"]["medium"]["devices"]["cpu"]["recipes"]
    assert list(recipes) == ["before", "batch64"]
    assert main([*common, "--recipes", "batch7", "--out", str(tmp_path / "no.json")]) == 2
    assert "unknown recipe(s) ['batch7']" in capsys.readouterr().err
    assert not (tmp_path / "no.json").exists()
