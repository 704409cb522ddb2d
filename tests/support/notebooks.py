"""The parameters cell of a source notebook (the cell papermill's ``parameters`` tag marks)."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat


def tagged_parameter_cells(book: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The notebook's cells tagged ``parameters`` (papermill's)."""
    return [c for c in book.cells if "parameters" in c.metadata.get("tags", [])]


def declared_parameters(path: Path) -> list[str]:
    """Names assigned in a notebook's one parameters cell, in order.

    Args:
        path: A notebook file.
    """
    (cell,) = tagged_parameter_cells(nbformat.read(path, as_version=4))
    return [t.id for s in ast.parse(cell.source).body for t in s.targets]
