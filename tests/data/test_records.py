"""Record helpers."""

import subprocess
import sys


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
