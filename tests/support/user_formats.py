"""A user's own data written in every format `sagatsr prepare` reads (and predict too)."""

import json

from pymatgen.core import Lattice, Structure

from tests.support.datasets import GOOD, cif

#: The formats :func:`write_format` writes.
USER_FORMATS = (
    "folder",
    "zip",
    "vasp_zip",
    "csv",
    "json_cif",
    "json_structures",
    "extxyz",
    "ase_db",
)

#: Two perovskites and a non-perovskite (rock salt) with a band gap each.
ROCK_SALT = Structure.from_spacegroup(
    "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
)


def structures() -> dict[str, Structure]:
    return {"srtio3": GOOD["p-1"], "cspbi3": GOOD["p-6"], "nacl": ROCK_SALT}


GAPS = {"srtio3": 1.8, "cspbi3": 1.6, "nacl": 5.0}


def write_cif_folder(folder, *, zipped=False, vasp=False):
    """A folder (or zip beside labels.csv) of ``<id>.cif``, or ``<id>.vasp`` files."""
    import zipfile

    from pymatgen.io.vasp import Poscar

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "labels.csv").write_text("id,gap\n" + "".join(f"{k},{v}\n" for k, v in GAPS.items()))
    files = {
        f"{name}.vasp" if vasp else f"{name}.cif": Poscar(s).get_str() if vasp else cif(s)
        for name, s in structures().items()
    }
    if zipped:
        with zipfile.ZipFile(folder / "structures.zip", "w") as archive:
            for name, text in files.items():
                archive.writestr(name, text)
        return folder / "structures.zip"
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def write_format(tmp_path, fmt):
    if fmt in ("folder", "zip", "vasp_zip"):
        return write_cif_folder(tmp_path / "data", zipped=fmt != "folder", vasp=fmt == "vasp_zip")
    if fmt == "csv":
        import csv

        path = tmp_path / "data.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "gap", "cif"])
            for name, structure in structures().items():
                writer.writerow([name, GAPS[name], cif(structure)])
        return path
    if fmt == "json_cif":
        path = tmp_path / "data.json"
        rows = [{"id": n, "gap": GAPS[n], "cif": cif(s)} for n, s in structures().items()]
        path.write_text(json.dumps(rows))
        return path
    if fmt == "json_structures":
        path = tmp_path / "data.json"
        rows = [
            {"id": n, "gap": GAPS[n], "structure": s.as_dict()} for n, s in structures().items()
        ]
        path.write_text(json.dumps(rows))
        return path
    from ase.io import write
    from pymatgen.io.ase import AseAtomsAdaptor

    frames = []
    for name, structure in structures().items():
        atoms = AseAtomsAdaptor.get_atoms(structure)
        atoms.info.update({"id": name, "gap": GAPS[name]})
        frames.append(atoms)
    if fmt == "extxyz":
        path = tmp_path / "data.extxyz"
        write(str(path), frames, format="extxyz")
        return path
    from ase.db import connect

    path = tmp_path / "data.db"
    with connect(str(path)) as db:
        for atoms in frames:
            info = dict(atoms.info)
            atoms.info = {}
            db.write(atoms, key_value_pairs={"name_id": info["id"], "gap": info["gap"]})
    return path
