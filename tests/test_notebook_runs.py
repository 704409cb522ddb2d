"""Every pipeline notebook runs under papermill with tiny parameters (the CI smoke test)."""

from pathlib import Path

import nbformat
import pytest

from tests.test_prepare import castelli_like

ROOT = Path(__file__).resolve().parents[1]


def run_notebook(name: str, out: Path, parameters: dict) -> nbformat.NotebookNode:
    import papermill

    papermill.execute_notebook(
        str(ROOT / "notebooks" / name),
        str(out),
        parameters=parameters,
        cwd=str(ROOT),
        progress_bar=False,
        kernel_name="python3",
    )
    return nbformat.read(out, as_version=4)


def images(book: nbformat.NotebookNode) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in book.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


@pytest.mark.slow
def test_01_prepare_data(tmp_path) -> None:
    mirror = castelli_like(tmp_path / "mirror", n_copies=2)
    book = run_notebook(
        "01_prepare_data.ipynb",
        tmp_path / "01.ipynb",
        {
            "dataset": "castelli_perovskites",
            "raw_dir": str(mirror),
            "out_dir": str(tmp_path / "prepared"),
            "cache_path": str(tmp_path / "cache.sqlite"),
            "metrics_path": str(tmp_path / "prepare.json"),
            "workers": 1,
        },
    )
    assert (tmp_path / "prepared" / "manifest.json").is_file()
    assert (tmp_path / "prepare.json").is_file()
    assert images(book) >= 1


@pytest.mark.slow
def test_02_train_gat(tmp_path) -> None:
    from sagatsr.graphs.neighbors import NeighborConfig
    from sagatsr.prepare import prepare_dataset

    mirror = castelli_like(tmp_path / "mirror", n_copies=5)
    prepared = prepare_dataset(
        "castelli_perovskites",
        raw_root=mirror,
        out_dir=tmp_path / "prepared",
        neighbors=NeighborConfig(),
    )
    book = run_notebook(
        "02_train_gat.ipynb",
        tmp_path / "02.ipynb",
        {
            "prepared_dir": str(prepared.out_dir),
            "out_dir": str(tmp_path / "run"),
            "metrics_path": str(tmp_path / "train.json"),
            "hidden": 16,
            "heads": 2,
            "layers": 1,
            "edge_dim": 8,
            "epochs": 2,
            "batch_size": 8,
        },
    )
    assert (tmp_path / "run" / "model" / "state.pt").is_file()
    assert "test MAE" in (tmp_path / "train.json").read_text()
    assert images(book) >= 2
