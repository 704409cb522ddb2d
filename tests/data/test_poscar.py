"""POSCAR text: read as pymatgen reads it, but never with made-up elements."""

import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.vasp import Poscar

from sagatsr.data.poscar import PoscarError, is_poscar_name, poscar_stem, read_poscar

SRTIO3 = Structure(
    Lattice.cubic(3.905),
    ["Sr", "Ti", "O", "O", "O"],
    [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
)


def test_names_of_vasp_structure_files_are_recognised() -> None:
    names = ["POSCAR", "CONTCAR", "POSCAR_relaxed", "contcar.1", "SrTiO3.vasp", "x.POSCAR"]
    assert all(is_poscar_name(n) for n in [*names, *(f"{n}.gz" for n in names)])
    assert not any(is_poscar_name(n) for n in ["x.cif", "OUTCAR", "vasprun.xml", "notes.txt"])
    # a CIF written by a script that kept the POSCAR name: read as a CIF everywhere
    assert not any(is_poscar_name(n) for n in ["POSCAR_final.cif", "CONTCAR.CIF.gz"])


def test_a_vasp_file_named_after_its_structure_gives_its_id() -> None:
    stems = {"mp-5229.vasp": "mp-5229", "SrTiO3.POSCAR": "SrTiO3", "a.b.vasp.gz": "a.b"}
    assert {name: poscar_stem(name) for name in stems} == stems
    for name in ["POSCAR", "CONTCAR_relaxed", "POSCAR.gz", ".vasp", "._x.vasp", "x.cif", "x.gz"]:
        assert poscar_stem(name) is None, name


def test_a_poscar_reads_as_its_structure_with_selective_dynamics_too() -> None:
    text = Poscar(SRTIO3).get_str()
    assert read_poscar(text) == SRTIO3
    flags = [[True, True, False]] * len(SRTIO3)
    pinned = read_poscar(Poscar(SRTIO3, selective_dynamics=flags).get_str())
    assert pinned.species == SRTIO3.species and pinned.lattice == SRTIO3.lattice
    assert pinned.frac_coords.tolist() == SRTIO3.frac_coords.tolist()


def test_vasp4_files_without_elements_and_broken_text_are_refused() -> None:
    lines = Poscar(SRTIO3).get_str().splitlines()
    # VASP 4: no line of symbols, and no symbols after the coordinates either
    vasp4 = "\n".join(
        [lines[0], *lines[1:5], *lines[6:8], *(ln.rsplit(" ", 1)[0] for ln in lines[8:])]
    )
    with pytest.raises(PoscarError, match="names no elements"):
        read_poscar(vasp4)
    with pytest.raises(PoscarError, match="truncated or unparsable POSCAR"):
        read_poscar("\n".join(lines[:9]))
    with pytest.raises(PoscarError, match="empty file"):
        read_poscar(" \n")
