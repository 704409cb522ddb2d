"""Small dataset files built inside the tests (mirror layout), including malformed ones."""

from __future__ import annotations

import zipfile
from pathlib import Path

from pymatgen.core import Lattice, Structure

from tests.data.test_roles import cubic_perovskite

GOOD = {
    "p-1": cubic_perovskite("Sr", "Ti", ["O"] * 3, a=3.905),
    "p-2": cubic_perovskite("Ba", "Zr", ["O"] * 3, a=4.19),
    "p-3": cubic_perovskite("Ca", "Ti", ["O", "O", "N"], a=3.85),
    "p-4": cubic_perovskite("K", "Nb", ["O"] * 3, a=4.0),
    "p-5": cubic_perovskite("La", "Al", ["O"] * 3, a=3.79),
    "p-6": cubic_perovskite("Cs", "Pb", ["I"] * 3, a=6.3),
}


def cif(structure: Structure) -> str:
    return structure.to(fmt="cif")


def disordered_cif() -> str:
    structure = Structure(
        Lattice.cubic(3.9),
        ["Sr", {"Ti": 0.5, "Zr": 0.5}, "O", "O", "O"],
        [[0.5, 0.5, 0.5], [0, 0, 0], [0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5]],
    )
    return structure.to(fmt="cif")


def americium_cif() -> str:
    return cif(cubic_perovskite("Am", "Ti", ["O"] * 3, a=3.9))


LABEL_HEADER = "id,formula,e_form,gap,fold\n"


def write_mirror_dataset(folder: Path, *, zipped: bool = True, bad: bool = True) -> Path:
    """A ``structures.zip`` (or folder) + ``labels.csv`` with every kind of problem when ``bad``.

    Good entries p-1 .. p-6 (targets e_form, gap; metadata formula, fold). With
    ``bad``: empty CIF, garbage CIF, disordered site, Am, a label row without a
    structure, a structure without a label row, a duplicated id, non-numeric,
    NaN and absurd labels.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files = {f"{k}.cif": cif(s) for k, s in GOOD.items()}
    rows = [
        f"{k},{s.composition.reduced_formula},{1.0 + i / 10},{0.5},{i % 5}"
        for i, (k, s) in enumerate(GOOD.items())
    ]
    if bad:
        files.update(
            {
                "empty.cif": "",
                "garbage.cif": "data_x\nthis is not a cif\n",
                "disordered.cif": disordered_cif(),
                "americium.cif": americium_cif(),
                "orphan.cif": cif(GOOD["p-1"]),
                "dup.cif": cif(GOOD["p-2"]),
                "text.cif": cif(GOOD["p-3"]),
                "nan.cif": cif(GOOD["p-4"]),
                "absurd.cif": cif(GOOD["p-5"]),
                "nothing.cif": cif(GOOD["p-6"]),
            }
        )
        rows += [
            "empty,X,1.0,0.1,0",
            "garbage,X,1.0,0.1,0",
            "disordered,X,1.0,0.1,0",
            "americium,X,1.0,0.1,0",
            "nostructure,X,1.0,0.1,0",
            "dup,X,1.0,0.1,0",
            "dup,X,2.0,0.1,0",
            "text,X,high,0.2,1",
            "nan,X,NaN,0.3,1",
            "absurd,X,1e6,0.4,1",
            "nothing,X,na,,1",
        ]
    if zipped:
        with zipfile.ZipFile(folder / "structures.zip", "w") as archive:
            for name, text in files.items():
                archive.writestr(name, text)
    else:
        (folder / "structures").mkdir(exist_ok=True)
        for name, text in files.items():
            (folder / "structures" / name).write_text(text)
    (folder / "labels.csv").write_text(LABEL_HEADER + "\n".join(rows) + "\n")
    return folder
