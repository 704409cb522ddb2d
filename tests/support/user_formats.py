"""A user's own data written in every format `sagatsr prepare` reads (and predict too)."""

import json

from pymatgen.core import Lattice, Structure

from tests.support.datasets import GOOD, cif

#: The formats :func:`write_format` writes.
USER_FORMATS = ("folder", "zip", "csv", "json_cif", "json_structures", "extxyz", "ase_db")

#: Two perovskites and a non-perovskite (rock salt) with a band gap each.
ROCK_SALT = Structure.from_spacegroup(
    "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
)


def structures() -> dict[str, Structure]:
    return {"srtio3": GOOD["p-1"], "cspbi3": GOOD["p-6"], "nacl": ROCK_SALT}


GAPS = {"srtio3": 1.8, "cspbi3": 1.6, "nacl": 5.0}


def write_cif_folder(folder, *, zipped=False):
    import zipfile

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "labels.csv").write_text("id,gap\n" + "".join(f"{k},{v}\n" for k, v in GAPS.items()))
    if zipped:
        with zipfile.ZipFile(folder / "structures.zip", "w") as archive:
            for name, structure in structures().items():
                archive.writestr(f"{name}.cif", cif(structure))
        return folder / "structures.zip"
    for name, structure in structures().items():
        (folder / f"{name}.cif").write_text(cif(structure))
    return folder


def write_format(tmp_path, fmt):
    if fmt in ("folder", "zip"):
        return write_cif_folder(tmp_path / "data", zipped=fmt == "zip")
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
