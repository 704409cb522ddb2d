import json

import pytest
import torch
from torch_geometric.data import Batch

from sagatsr.model import MODEL_VERSION, SAGAT, fit_scalers, load_model, save_model
from tests.model.helpers import make_graphs, small_config


@pytest.fixture
def saved(tmp_path) -> tuple[SAGAT, object]:
    torch.manual_seed(0)
    model = SAGAT(small_config(catalog_version="cat-7"))
    fit_scalers(model, make_graphs(6))
    model.set_target_stats([3.0], [2.0])
    folder = tmp_path / "model"
    save_model(model, folder)
    return model.eval(), folder


def test_roundtrip_gives_identical_predictions(saved) -> None:
    model, folder = saved
    loaded = load_model(folder, expected_catalog_version="cat-7")
    batch = Batch.from_data_list(make_graphs(4, seed=50))
    assert not loaded.training
    assert loaded.config == model.config
    assert torch.equal(loaded(batch), model(batch))
    assert torch.equal(loaded.predict(batch), model.predict(batch))
    stored = json.loads((folder / "config.json").read_text())
    assert stored["model_version"] == MODEL_VERSION
    assert stored["torch_version"] == torch.__version__
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "state.pt"]


def test_mismatched_catalog_version_is_refused(saved) -> None:
    _, folder = saved
    with pytest.raises(ValueError, match="cat-7") as info:
        load_model(folder, expected_catalog_version="cat-8")
    assert "cat-8" in str(info.value) and "retrain" in str(info.value)
    load_model(folder)  # no expectation: no check


def test_incompatible_model_version_is_refused(saved) -> None:
    _, folder = saved
    stored = json.loads((folder / "config.json").read_text())
    stored["model_version"] = "99.0"
    (folder / "config.json").write_text(json.dumps(stored))
    with pytest.raises(ValueError, match=r"99\.0"):
        load_model(folder)


def test_missing_files_are_reported(saved, tmp_path) -> None:
    _, folder = saved
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_model(tmp_path / "nowhere")
    (folder / "state.pt").unlink()
    with pytest.raises(FileNotFoundError, match=r"state\.pt"):
        load_model(folder)


@pytest.mark.parametrize("content", [b"garbage", b""], ids=["garbage", "empty"])
def test_an_unreadable_weights_file_is_named(saved, content) -> None:
    _, folder = saved
    whole = (folder / "state.pt").read_bytes()
    (folder / "state.pt").write_bytes(content)
    with pytest.raises(ValueError, match=r"state\.pt is not a readable model state"):
        load_model(folder)
    (folder / "state.pt").write_bytes(whole[: len(whole) // 2])  # truncated
    with pytest.raises(ValueError, match=r"state\.pt is not a readable model state"):
        load_model(folder)


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"", b"\xff\xfe", b"[]", b'{"model_version": "1.3"}', None],
    ids=["garbage", "empty", "not-utf8", "a-list", "no-config", "unknown-setting"],
)
def test_a_damaged_config_file_is_named(saved, content) -> None:
    _, folder = saved
    if content is None:
        stored = json.loads((folder / "config.json").read_text())
        stored["config"]["hiddn"] = 3
        content = json.dumps(stored).encode()
    (folder / "config.json").write_bytes(content)
    with pytest.raises(ValueError, match=r"config\.json is damaged"):
        load_model(folder)


def test_version_1_0_model_loads_without_its_unused_edge_weights(saved) -> None:
    model, folder = saved
    # Version 1.0 saved an edge MLP in the last attention layer that no output used.
    state = torch.load(folder / "state.pt", weights_only=True)
    last = model.config.layers - 1
    state[f"layers.{last}.edge_node.weight"] = torch.ones(3, 3)
    state[f"layers.{last}.edge_norm.bias"] = torch.ones(3)
    torch.save(state, folder / "state.pt")
    stored = json.loads((folder / "config.json").read_text())
    stored["model_version"] = "1.0"
    (folder / "config.json").write_text(json.dumps(stored))
    batch = Batch.from_data_list(make_graphs(4, seed=50))
    assert torch.equal(load_model(folder).predict(batch), model.predict(batch))


def test_version_1_1_config_takes_its_graph_settings_from_the_metadata(saved) -> None:
    from sagatsr.model import read_model_config

    model, folder = saved
    stored = json.loads((folder / "config.json").read_text())
    stored["model_version"] = "1.1"
    for key in ("max_neighbors", "tie_tolerance"):
        del stored["config"][key]
    stored["metadata"]["neighbors"] = {
        "cutoff": model.config.cutoff,
        "max_neighbors": 10,
        "tie_tolerance": 0.05,
        "max_shells": model.config.max_shells,
    }
    (folder / "config.json").write_text(json.dumps(stored))
    config, _ = read_model_config(folder)
    assert config.neighbors.max_neighbors == 10 and config.neighbors.tie_tolerance == 0.05
    batch = Batch.from_data_list(make_graphs(4, seed=51))
    assert torch.equal(load_model(folder).predict(batch), model.predict(batch))


def test_graph_settings_default_to_the_graph_builder_s() -> None:
    from sagatsr.graphs.config import NeighborConfig

    assert small_config().neighbors == NeighborConfig(
        max_shells=small_config().max_shells, cutoff=small_config().cutoff
    )


def test_version_1_2_config_loads_with_the_paper_s_encoding(saved) -> None:
    from sagatsr.model import read_model_config
    from sagatsr.model.config import PAPER_ENCODING

    model, folder = saved
    stored = json.loads((folder / "config.json").read_text())
    stored["model_version"] = "1.2"
    for key in PAPER_ENCODING:
        del stored["config"][key]
    (folder / "config.json").write_text(json.dumps(stored))
    config, _ = read_model_config(folder)
    assert {key: getattr(config, key) for key in PAPER_ENCODING} == PAPER_ENCODING
    batch = Batch.from_data_list(make_graphs(4, seed=52))
    assert torch.equal(load_model(folder).predict(batch), model.predict(batch))
