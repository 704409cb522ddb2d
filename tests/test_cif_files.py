"""sagatsr.cif_files: files read into graphs by workers, started before torch is imported."""

import shutil
import subprocess
import sys
from concurrent.futures import CancelledError
from dataclasses import replace

import numpy as np
import pytest

from sagatsr.cif_files import PendingFiles, expand_inputs, read_files
from sagatsr.graphs.neighbors import NeighborConfig
from sagatsr.predict import Predictor
from tests.support.datasets import GOOD, cif


def test_starting_to_read_imports_neither_torch_nor_pyg() -> None:
    code = (
        "import sys\n"
        "import sagatsr.cli, sagatsr.cif_files, sagatsr.runtime\n"
        "from sagatsr.model import read_model_config\n"
        "from sagatsr.train.ensemble import model_dir_of\n"
        "heavy = sorted(m for m in ('torch', 'torch_geometric', 'lightning') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


@pytest.fixture
def many_files(tmp_path):
    """70 CIF files (enough for the worker pool), with one garbage file among them."""
    paths = []
    structures = list(GOOD.values())
    for i in range(70):
        path = tmp_path / f"s{i:02d}.cif"
        path.write_text(cif(structures[i % len(structures)]) if i != 33 else "data_x\nnope\n")
        paths.append(str(path))
    return paths


def test_workers_give_what_one_process_gives(many_files) -> None:
    config = NeighborConfig()
    alone = read_files(many_files, config, workers=1)
    pooled = read_files(many_files, config, workers=2)
    assert [e.error != "" for e in pooled] == [i == 33 for i in range(70)]
    for a, b in zip(alone, pooled, strict=True):
        assert (a.formula, a.error) == (b.formula, b.error)
        if a.graph is not None:
            np.testing.assert_array_equal(a.graph.global_features, b.graph.global_features)
            np.testing.assert_array_equal(a.graph.edge_index, b.graph.edge_index)


def test_reading_started_for_a_model_predicts_as_predict_files(model_dir, many_files) -> None:
    predictor = Predictor(model_dir)
    inputs = [*many_files[:66], "/nonexistent/x.cif"]
    pending = PendingFiles.for_model(model_dir.parent, inputs, workers=2)
    started = predictor.predict_pending(pending, top_k=1)
    direct = predictor.predict_files(inputs, top_k=1, workers=1)
    assert [r.path for r in started] == inputs
    assert [r.error for r in started] == [r.error for r in direct]
    assert "no such file" in started[-1].error and started[33].error
    assert [r.value for r in started] == pytest.approx([r.value for r in direct], rel=1e-6)


def test_files_read_with_other_graph_settings_are_refused(model_dir, many_files) -> None:
    predictor = Predictor(model_dir)
    other = replace(predictor.neighbors, max_neighbors=predictor.neighbors.max_neighbors + 1)
    with pytest.raises(ValueError, match="graph settings"):
        predictor.predict_pending(PendingFiles(many_files[:2], other))


def test_a_wrong_model_folder_is_named_before_any_file_is_read(tmp_path, many_files) -> None:
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nomodel")):
        PendingFiles.for_model(tmp_path / "nomodel", many_files, workers=2)


def test_cancelled_reading_drops_the_files_not_started(many_files) -> None:
    # The files 40 times over: 44 chunks of 64 for 2 workers, at most 3 handed out at
    # once, so cancelling at once leaves chunks that are never read (with 5 chunks, a
    # main thread descheduled for a moment could see all of them read).
    pending = PendingFiles(many_files * 40, NeighborConfig(), workers=2)
    pending.cancel()
    with pytest.raises(CancelledError):
        pending.read()


def test_a_model_that_cannot_be_loaded_is_named_and_exits_1(model_dir, many_files, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken / "model")
    (broken / "model" / "state.pt").write_bytes(b"garbage")
    done = subprocess.run(
        [sys.executable, "-m", "sagatsr", "predict", str(broken), *many_files, "--workers", "2"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert f"{broken / 'model' / 'state.pt'} is not a readable model state" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_tree_of_calculation_folders_is_read_through_a_pattern(tmp_path) -> None:
    calcs = tmp_path / "calcs"
    for name in ("a", "b"):
        (calcs / name).mkdir(parents=True)
        (calcs / name / "CONTCAR").write_text("poscar text")
        (calcs / name / "OUTCAR").write_text("not a structure")
    (calcs / "b" / "relax" / "deep").mkdir(parents=True)
    (calcs / "b" / "relax" / "deep" / "x.cif").write_text("cif text")
    [folder] = expand_inputs([calcs])
    assert "is a folder with no CIF" in folder.error and "2 subfolders are not searched" in (
        folder.error
    )
    assert str(calcs / "*" / "CONTCAR") in folder.error and "--structure-file" in folder.error
    contcars = expand_inputs([str(calcs / "*" / "CONTCAR")])
    assert [item.path for item in contcars] == [str(calcs / n / "CONTCAR") for n in ("a", "b")]
    assert all(item.error == "" for item in contcars)
    [deep] = expand_inputs([str(calcs / "**" / "*.cif")])  # ** reaches any depth
    assert deep.path == str(calcs / "b" / "relax" / "deep" / "x.cif") and deep.error == ""
    (tmp_path / "empty").mkdir()
    [empty] = expand_inputs([tmp_path / "empty"])
    assert "subfolders" not in empty.error


def test_calculation_folders_and_zips_give_the_named_file_of_each_folder(tmp_path) -> None:
    import zipfile

    calcs = tmp_path / "calcs"
    for name in ("b", "a"):
        (calcs / name).mkdir(parents=True)
        (calcs / name / "CONTCAR").write_text(f"{name} poscar text")
        (calcs / name / "OUTCAR").write_text("not a structure")
    (calcs / "c").mkdir()  # a calculation that has not finished: no CONTCAR
    items = expand_inputs([calcs], structure_file="CONTCAR")
    assert [item.path for item in items] == [str(calcs / n / "CONTCAR") for n in ("a", "b")]
    [none] = expand_inputs([calcs], structure_file="relaxed.cif")
    assert "no subfolder holding relaxed.cif" in none.error
    archive = tmp_path / "calcs.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("run/a/CONTCAR", "x")  # a zip's folders: named by the innermost
        handle.writestr("run/b/CONTCAR.gz", b"y")
        handle.writestr("run/b/OUTCAR", "z")
    records = expand_inputs([archive], structure_file="CONTCAR")
    assert [(item.path, item.record) for item in records] == [
        (str(archive), "a"),
        (str(archive), "b"),
    ]
    with pytest.raises(ValueError, match="not a path"):
        expand_inputs([calcs], structure_file="a/CONTCAR")
