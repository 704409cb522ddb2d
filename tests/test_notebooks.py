"""Hygiene of the source notebooks: thin, parametrized, stored without outputs."""

import ast
import json
from pathlib import Path

import nbformat
import pytest

from tests.support.notebooks import declared_parameters, tagged_parameter_cells

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs(path: Path) -> None:
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a code cell has outputs"
            assert cell.execution_count is None, f"{path.name}: a code cell has a count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell_holds_literals_only(path: Path) -> None:
    book = nbformat.read(path, as_version=4)
    tagged = tagged_parameter_cells(book)
    assert len(tagged) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"
    for statement in ast.parse(tagged[0].source).body:
        assert isinstance(statement, ast.Assign), f"{path.name}: only assignments allowed"
        ast.literal_eval(statement.value)  # raises on anything but a literal


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_papermill_reads_every_parameter(path: Path) -> None:
    # papermill's parser drops a line whose comment holds "=" (e.g. ">="): that
    # parameter then vanishes from `papermill --help-notebook` and the CLI's docs
    from papermill.translators import PythonTranslator

    book = nbformat.read(path, as_version=4)
    (cell,) = tagged_parameter_cells(book)
    assert [p.name for p in PythonTranslator.inspect(cell)] == declared_parameters(path)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_has_an_id(path: Path) -> None:
    # nbformat 4.5 cell ids; nbformat warns about (and will refuse) cells without one
    book = json.loads(path.read_text())
    assert all("id" in cell for cell in book["cells"]), f"{path.name}: cell without an id"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_definitions_in_notebooks(path: Path) -> None:
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            ), f"{path.name}: define functions in lib/sagatsr, not in notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_names_its_headline_metrics_file(path: Path) -> None:
    # The report index shows the summary of the file named by `metrics_path`.
    assert "metrics_path" in declared_parameters(path), f"{path.name}: no metrics_path parameter"
