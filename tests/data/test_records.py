"""Record helpers."""

import math
import subprocess
import sys

import pytest
from pymatgen.core import Lattice, Structure

from sagatsr.data.records import structure_problem


def test_reduced_formula_of_a_noble_gas_compound_does_not_warn() -> None:
    # A fresh process: pymatgen warns once per process and element.
    code = (
        "from pymatgen.core import Lattice, Structure\n"
        "from sagatsr.data.records import reduced_formula\n"
        "sites = [[0, 0, 0], [0.5, 0.5, 0.5], [0, 0.5, 0]]\n"
        "s = Structure(Lattice.cubic(4.0), ['Ar', 'Si', 'He'], sites)\n"
        "print(reduced_formula(s))\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-c", code], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "SiArHe"


@pytest.mark.parametrize(
    ("lattice", "species", "kind", "reason"),
    [
        ([[4, 0, 0], [0, 4, 0], [0, 0, 4]], ["Na", "Cl"], None, ""),
        ([[4, 0, 0], [0, 4, 0], [0, 0, 4]], [{"Na": 0.5, "K": 0.5}, "Cl"], "disordered", "partial"),
        ([[math.nan, 0, 0], [0, 4, 0], [0, 0, 4]], ["Na", "Cl"], "invalid_cell", "nan"),
        ([[4, 0, 0], [0, 4, 0], [4, 4, 0]], ["Na", "Cl"], "invalid_cell", "no volume"),
    ],
)
def test_structure_problems_are_named(lattice, species, kind, reason) -> None:
    structure = Structure(Lattice(lattice), species, [[0, 0, 0], [0.5, 0.5, 0.5]])
    problem = structure_problem(structure)
    if kind is None:
        assert problem is None
    else:
        assert problem[0].startswith(kind) and reason in problem[1]


def test_a_structure_without_sites_is_a_problem() -> None:
    empty = Structure(Lattice.cubic(4.0), [], [])
    assert structure_problem(empty) == ("empty_structure", "the structure has no sites")
