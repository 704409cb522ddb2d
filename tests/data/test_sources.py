"""Sources read bytes only: every label row and every structure becomes one entry."""

import gzip

import numpy as np
import pytest

from sagatsr.data.cif import read_cif
from sagatsr.data.sources import CifArchiveSource, CifColumnCsvSource, read_label_rows
from tests.support.datasets import GOOD, cif, write_mirror_dataset


@pytest.mark.parametrize("zipped", [True, False])
def test_archive_source_yields_labels_then_orphans(tmp_path, zipped: bool) -> None:
    folder = write_mirror_dataset(tmp_path / "toy", zipped=zipped)
    structures = folder / ("structures.zip" if zipped else "structures")
    entries = list(
        CifArchiveSource(
            structures, folder / "labels.csv", targets=["e_form", "gap"]
        ).iter_entries()
    )
    ids = [e.id for e in entries]
    assert ids[: len(GOOD)] == list(GOOD)
    assert ids[-1] == "orphan" and entries[-1].labels is None
    no_structure = entries[ids.index("nostructure")]
    assert no_structure.cif_text is None and "no nostructure.cif" in no_structure.origin
    first = entries[0]
    assert first.labels == {"e_form": "1.0", "gap": "0.5"}
    assert first.metadata == {"formula": "SrTiO3", "fold": "0"}
    assert first.origin.endswith("p-1.cif") and "_cell_length_a" in first.cif_text
    assert entries[ids.index("empty")].cif_text == ""


def test_archive_source_errors_name_the_path(tmp_path) -> None:
    folder = write_mirror_dataset(tmp_path / "toy", bad=False)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        list(
            CifArchiveSource(
                tmp_path / "nowhere.zip", folder / "labels.csv", ["e_form"]
            ).iter_entries()
        )
    with pytest.raises(FileNotFoundError, match=r"missing\.csv"):
        list(
            CifArchiveSource(
                folder / "structures.zip", folder / "missing.csv", ["e_form"]
            ).iter_entries()
        )
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"broken\.zip"):
        list(
            CifArchiveSource(
                tmp_path / "broken.zip", folder / "labels.csv", ["e_form"]
            ).iter_entries()
        )
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="empty"):
        read_label_rows(tmp_path / "empty.csv", "id")
    (tmp_path / "noid.csv").write_text("name,e_form\na,1\n")
    with pytest.raises(ValueError, match="no 'id' column"):
        read_label_rows(tmp_path / "noid.csv", "id")


def test_labels_with_a_byte_order_mark_read_like_plain_utf8(tmp_path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text("id,gap\nx,1.5\n", encoding="utf-8-sig")  # Excel's "CSV UTF-8"
    assert read_label_rows(path, "id") == [{"id": "x", "gap": "1.5"}]


def test_a_row_with_more_fields_than_the_header_is_an_error_naming_its_line(tmp_path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("id,gap\na,1.0\nb,1,5\n")  # a decimal comma, unquoted
    with pytest.raises(ValueError, match=r"labels\.csv, line 3: 3 fields, the header has 2"):
        read_label_rows(path, "id")


def test_a_folder_named_like_a_cif_is_not_read_as_one(tmp_path) -> None:
    folder = tmp_path / "structures"
    folder.mkdir()
    (folder / "a.cif").write_text(cif(GOOD["p-1"]))
    (folder / "._a.cif").write_bytes(b"\x00\x05\x16\x07")  # macOS metadata on a USB drive
    (folder / "b.cif").mkdir()
    (tmp_path / "labels.csv").write_text("id,gap\na,1\nb,2\n")
    entries = list(CifArchiveSource(folder, tmp_path / "labels.csv", ["gap"]).iter_entries())
    assert [e.id for e in entries] == ["a", "b"]
    assert entries[1].cif_text is None
    assert "b.cif in" in entries[1].origin and "is a folder, not a file" in entries[1].origin


def test_zip_members_in_folders_are_read_and_macos_metadata_is_not(tmp_path) -> None:
    import zipfile

    path = tmp_path / "structures.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data/a.cif", cif(GOOD["p-1"]))
        archive.writestr("__MACOSX/data/._a.cif", b"\x00\x05\x16\x07 resource fork")
        archive.writestr("data/._b.cif", b"\x00\x05\x16\x07")
        archive.writestr("data/notes.txt", "not a structure")
    (tmp_path / "labels.csv").write_text("id,gap\na,1\n")
    entries = list(CifArchiveSource(path, tmp_path / "labels.csv", ["gap"]).iter_entries())
    assert [e.id for e in entries] == ["a"]
    assert entries[0].origin == "structures.zip:a.cif" and "_cell_length_a" in entries[0].cif_text
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("other/a.cif", cif(GOOD["p-2"]))
    with pytest.raises(
        ValueError, match=r"two structures for id 'a': data/a\.cif and other/a\.cif"
    ):
        list(CifArchiveSource(path, tmp_path / "labels.csv", ["gap"]).iter_entries())


def test_cif_column_csv_source_reads_gzip(tmp_path) -> None:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "formula", "formation_energy_per_atom", "band_gap", "cif"])
    writer.writerow(["mp-1", "SrTiO3", "-3.5", "1.8", cif(GOOD["p-1"])])
    writer.writerow(["mp-2", "X", "-1.0", "0.0", ""])
    path = tmp_path / "mp.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(buffer.getvalue())
    source = CifColumnCsvSource(path, targets=["formation_energy_per_atom", "band_gap"])
    entries = list(source.iter_entries())
    assert [e.id for e in entries] == ["mp-1", "mp-2"]
    assert entries[0].labels == {"formation_energy_per_atom": "-3.5", "band_gap": "1.8"}
    assert entries[0].metadata == {"formula": "SrTiO3"}
    assert entries[1].cif_text == "" and entries[1].origin == "mp.csv.gz:data row 2"


def _write_structures(tmp_path, files: dict[str, bytes], *, zipped: bool):
    """``files`` (name to bytes) in ``tmp_path/structures.zip`` or the folder ``structures``."""
    import zipfile

    structures = tmp_path / ("structures.zip" if zipped else "structures")
    if zipped:
        with zipfile.ZipFile(structures, "w") as archive:
            for name, data in files.items():
                archive.writestr(name, data)
    else:
        structures.mkdir()
        for name, data in files.items():
            (structures / name).write_bytes(data)
    return structures


@pytest.mark.parametrize("zipped", [True, False])
def test_gzip_compressed_cif_files_are_read_and_damaged_ones_reported(tmp_path, zipped) -> None:
    import zipfile

    files = {
        "a.cif.gz": gzip.compress(cif(GOOD["p-1"]).encode()),
        "b.cif": cif(GOOD["p-2"]).encode(),
        "c.CIF.GZ": gzip.compress(cif(GOOD["p-1"]).encode())[:30],  # cut short
    }
    structures = _write_structures(tmp_path, files, zipped=zipped)
    (tmp_path / "labels.csv").write_text("id,gap\na,1\nb,2\nc,3\n")
    source = CifArchiveSource(structures, tmp_path / "labels.csv", ["gap"])
    entries = {e.id: e for e in source.iter_entries()}
    assert list(entries) == ["a", "b", "c"]
    assert entries["a"].cif_text == cif(GOOD["p-1"]) and entries["a"].origin.endswith("a.cif.gz")
    assert entries["b"].cif_text == cif(GOOD["p-2"]) and entries["b"].structure_error is None
    assert entries["c"].cif_text is None and "damaged gzip file" in entries["c"].structure_error
    if zipped:
        with zipfile.ZipFile(structures, "a") as archive:
            archive.writestr("a.cif", cif(GOOD["p-2"]))
    else:
        (structures / "a.cif").write_text(cif(GOOD["p-2"]))
    with pytest.raises(ValueError, match=r"two structures for id 'a': .*a\.cif\b.* and .*a\.cif"):
        list(source.iter_entries())


@pytest.mark.parametrize("zipped", [True, False])
def test_vasp_files_named_by_id_are_read_through_cif_and_bad_ones_reported(
    tmp_path, zipped
) -> None:
    import zipfile

    from pymatgen.io.vasp import Poscar

    poscar = Poscar(GOOD["p-1"]).get_str()
    files = {
        "a.vasp": poscar.encode(),
        "b.poscar.gz": gzip.compress(Poscar(GOOD["p-2"]).get_str().encode()),
        "c.vasp": "\n".join(poscar.splitlines()[:9]).encode(),  # cut short
        "d.cif": cif(GOOD["p-6"]).encode(),
        "POSCAR": poscar.encode(),  # no id in its name: not an entry
    }
    structures = _write_structures(tmp_path, files, zipped=zipped)
    (tmp_path / "labels.csv").write_text("id,gap\na,1\nb,2\nc,3\nd,4\n")
    source = CifArchiveSource(structures, tmp_path / "labels.csv", ["gap"])
    entries = {e.id: e for e in source.iter_entries()}
    assert list(entries) == ["a", "b", "c", "d"]
    for name, original in (("a", GOOD["p-1"]), ("b", GOOD["p-2"])):
        parsed = read_cif(entries[name].cif_text)
        assert parsed.species == original.species
        assert np.allclose(parsed.lattice.matrix, original.lattice.matrix, atol=1e-6)
        assert np.allclose(parsed.frac_coords, original.frac_coords, atol=1e-6)
    assert entries["a"].origin.endswith("a.vasp") and entries["b"].structure_error is None
    assert entries["c"].cif_text is None
    assert entries["c"].structure_error.startswith("VASP file: truncated or unparsable POSCAR")
    assert entries["d"].cif_text == cif(GOOD["p-6"])
    if zipped:
        with zipfile.ZipFile(structures, "a") as archive:
            archive.writestr("d.vasp", poscar)
    else:
        (structures / "d.vasp").write_text(poscar)
    with pytest.raises(ValueError, match=r"two structures for id 'd'"):
        list(source.iter_entries())


def _write_calculations(tmp_path, files: dict[str, bytes], *, zipped: bool):
    """Calculation folders (``files``: relative path to bytes) as a folder or a zip."""
    if zipped:
        return _write_structures(tmp_path, files, zipped=True)
    structures = tmp_path / "structures"
    for name, data in files.items():
        (structures / name).parent.mkdir(parents=True, exist_ok=True)
        (structures / name).write_bytes(data)
    return structures


@pytest.mark.parametrize("zipped", [True, False])
def test_calculation_folders_give_their_structure_file_named_by_folder(tmp_path, zipped) -> None:
    import zipfile

    from pymatgen.io.vasp import Poscar

    contcar = Poscar(GOOD["p-1"]).get_str()
    files = {
        "mp-1/CONTCAR": contcar.encode(),
        "mp-1/OUTCAR": b"not read",
        "mp-1/POSCAR": Poscar(GOOD["p-2"]).get_str().encode(),  # the start, not the result
        "mp-2/CONTCAR.gz": gzip.compress(Poscar(GOOD["p-2"]).get_str().encode()),
        "mp-3/CONTCAR": b"garbage\n",
        "mp-5/INCAR": b"no structure here",
    }
    structures = _write_calculations(tmp_path, files, zipped=zipped)
    labels = tmp_path / "labels.csv"
    labels.write_text("id,gap\nmp-1,1\nmp-2,2\nmp-3,3\nmp-4,4\nmp-5,5\n")
    source = CifArchiveSource(structures, labels, ["gap"], structure_file="CONTCAR")
    entries = {e.id: e for e in source.iter_entries()}
    assert list(entries) == ["mp-1", "mp-2", "mp-3", "mp-4", "mp-5"]
    assert read_cif(entries["mp-1"].cif_text).species == GOOD["p-1"].species
    assert entries["mp-1"].origin == f"{structures.name}:mp-1/CONTCAR"
    assert read_cif(entries["mp-2"].cif_text).species == GOOD["p-2"].species
    assert entries["mp-3"].structure_error.startswith("VASP file: ")
    for missing in ("mp-4", "mp-5"):
        assert entries[missing].cif_text is None
        assert f"no {missing}/CONTCAR in" in entries[missing].origin
    # Without the option the folders are no structures, and the rows say what to give.
    plain = {e.id: e for e in CifArchiveSource(structures, labels, ["gap"]).iter_entries()}
    assert "mp-1 in" in plain["mp-1"].origin and "--structure-file" in plain["mp-1"].origin
    # A CIF written into each folder works the same; two files for one folder do not.
    (tmp_path / "cif").mkdir()
    relaxed = {"a/relaxed.cif": cif(GOOD["p-6"]).encode()}
    relaxed_root = _write_calculations(tmp_path / "cif", relaxed, zipped=zipped)
    (tmp_path / "cif" / "labels.csv").write_text("id,gap\na,1\n")
    cif_source = CifArchiveSource(
        relaxed_root, tmp_path / "cif" / "labels.csv", ["gap"], structure_file="relaxed.cif"
    )
    assert [e.cif_text for e in cif_source.iter_entries()] == [cif(GOOD["p-6"])]
    if zipped:
        with zipfile.ZipFile(structures, "a") as archive:
            archive.writestr("mp-2/CONTCAR", contcar)
    else:
        (structures / "mp-2" / "CONTCAR").write_text(contcar)
    with pytest.raises(ValueError, match=r"two structures for id 'mp-2'"):
        list(source.iter_entries())


@pytest.mark.parametrize("name", ["mp-1/CONTCAR", "OUTCAR", "notes.txt", " ", ".."])
def test_a_structure_file_option_that_is_a_path_or_no_structure_file_is_refused(
    tmp_path, name
) -> None:
    with pytest.raises(ValueError, match="--structure-file"):
        CifArchiveSource(tmp_path, None, [], structure_file=name)
