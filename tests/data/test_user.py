"""A user's own data in every supported format, and bad input per format."""

import json

import pytest
from pymatgen.core import Structure

from sagatsr.data.registry import user_dataset
from sagatsr.data.user import detect_format, table_format, unlabelled_entries, user_source
from sagatsr.prepare import prepare_dataset, target_specs
from tests.support.datasets import GOOD, cif
from tests.support.user_formats import (
    GAPS,
    USER_FORMATS,
    structures,
    write_format,
)


@pytest.mark.parametrize("fmt", USER_FORMATS)
def test_every_format_reads_the_same_entries(tmp_path, fmt) -> None:
    path = write_format(tmp_path, fmt)
    id_column = "name_id" if fmt == "ase_db" else "id"
    entries = list(user_source(path, targets=["gap"], id_column=id_column).iter_entries())
    assert sorted(e.id for e in entries) == sorted(GAPS)
    for entry in entries:
        assert float(entry.labels["gap"]) == GAPS[entry.id]
        parsed = Structure.from_str(entry.cif_text, fmt="cif")
        assert (
            parsed.composition.reduced_formula == structures()[entry.id].composition.reduced_formula
        )
        assert entry.origin  # names the file and record


@pytest.mark.parametrize("fmt", [f for f in USER_FORMATS if f != "folder"])
def test_every_file_format_gives_its_structures_without_labels(tmp_path, fmt) -> None:
    path = write_format(tmp_path, fmt)
    (path.parent / "labels.csv").unlink(missing_ok=True)  # a zip needs none here
    id_column = "name_id" if fmt == "ase_db" else "id"
    entries = list(unlabelled_entries(path, id_column=id_column))
    assert sorted(e.id for e in entries) == sorted(GAPS)
    assert all(e.labels in (None, {}) and e.cif_text for e in entries)
    with pytest.raises(ValueError, match="is a folder"):
        unlabelled_entries(tmp_path)


def test_prepare_a_user_dataset_with_roles_subsets_and_a_seeded_split(tmp_path) -> None:
    path = write_format(tmp_path, "csv")
    spec = user_dataset(path, name="mine", targets=target_specs(["gap:eV"]))
    prepared = prepare_dataset(
        spec, raw_root=None, out_dir=tmp_path / "prepared", val_fraction=0.34, test_fraction=0.33
    )
    assert prepared.name == "mine" and prepared.manifest["targets"][0]["unit"] == "eV"
    assert set(prepared.subset_ids("all")) == set(GAPS)
    assert set(prepared.subset_ids("ABO3")) == {"srtio3"} and set(prepared.subset_ids("ABX3")) == {
        "cspbi3"
    }
    # the rock salt has no A or B site: its role-based features are missing, never made up
    store = prepared.graphs()
    names = prepared.manifest["global_features"]
    row = store.global_features[store.index_of(["nacl"])[0]]
    assert row[names.index("tolerance_factor")] != row[names.index("tolerance_factor")]  # nan
    assert (tmp_path / "prepared" / "splits" / "all" / "random").is_dir()


def test_a_split_column_gives_the_user_s_split(tmp_path) -> None:
    path = tmp_path / "data.json"
    parts = {"srtio3": "train", "cspbi3": "val", "nacl": "test"}
    rows = [
        {"id": n, "gap": GAPS[n], "cif": cif(s), "part": parts[n]} for n, s in structures().items()
    ]
    path.write_text(json.dumps(rows))
    spec = user_dataset(path, name="mine", targets=target_specs(["gap:eV"]), split_column="part")
    prepared = prepare_dataset(spec, raw_root=None, out_dir=tmp_path / "prepared")
    assert prepared.manifest["splits"]["all"]["part"] == {"train": 1, "val": 1, "test": 1}
    split = tmp_path / "prepared" / "splits" / "all" / "part"
    assert (split / "train.txt").read_text().split() == ["srtio3"]
    assert (split / "test.txt").read_text().split() == ["nacl"]
    rows[0]["part"] = "holdout"
    path.write_text(json.dumps(rows))
    with pytest.raises(ValueError, match="train, val or test"):
        prepare_dataset(spec, raw_root=None, out_dir=tmp_path / "again")
    misspelt = user_dataset(path, name="mine", targets=target_specs(["gap:eV"]), split_column="prt")
    with pytest.raises(ValueError, match=r"no entry has the split column 'prt' \(.*part"):
        prepare_dataset(misspelt, raw_root=None, out_dir=tmp_path / "again")
    assert not (tmp_path / "again").exists()


def test_text_that_is_not_utf8_is_named_with_its_line_and_a_bom_is_read(tmp_path) -> None:
    path = write_format(tmp_path, "csv")
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b"s", "\u00e9".encode("latin-1"), 1)  # Excel's plain "CSV"
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"\n".join(lines))
    with pytest.raises(ValueError, match=r"latin\.csv, line 2: not UTF-8 text \(byte 0xe9\)"):
        list(user_source(latin, targets=["gap"]).iter_entries())
    json_path = write_format(tmp_path, "json_cif")
    with_bom = tmp_path / "bom.json"
    with_bom.write_bytes(b"\xef\xbb\xbf" + json_path.read_bytes())
    assert len(list(user_source(with_bom, targets=["gap"]).iter_entries())) == len(GAPS)
    latin_json = tmp_path / "latin.json"
    latin_json.write_bytes(b'[{"id": "caf\xe9"}]')
    with pytest.raises(ValueError, match=r"latin\.json, line 1: not UTF-8"):
        list(user_source(latin_json, targets=["gap"]).iter_entries())


def test_folder_options_are_refused_for_a_file_of_structures(tmp_path) -> None:
    path = write_format(tmp_path, "csv")
    labels = tmp_path / "labels.csv"
    labels.write_text("id,gap\n")
    with pytest.raises(ValueError, match="--labels is for a folder or zip"):
        user_source(path, targets=["gap"], labels=labels)
    with pytest.raises(ValueError, match="--structure-file is for a folder or zip"):
        user_source(path, targets=["gap"], structure_file="CONTCAR")


def test_bad_input_is_named(tmp_path) -> None:
    path = write_format(tmp_path, "csv")
    with pytest.raises(ValueError, match="no column 'band_gap'"):
        list(user_source(path, targets=["band_gap"]).iter_entries())
    with pytest.raises(ValueError, match="unit 'electronvolts'"):
        target_specs(["gap:electronvolts"])
    with pytest.raises(ValueError, match="given twice"):
        target_specs(["gap:eV", "gap:eV"])
    assert target_specs(["gap"])[0].unit == "1"  # dimensionless, with a warning
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        list(user_source(empty, targets=["gap"]).iter_entries())
    not_json = tmp_path / "broken.json"
    not_json.write_text("[{")
    with pytest.raises(ValueError, match="not valid JSON"):
        list(user_source(not_json, targets=["gap"]).iter_entries())
    json_path = write_format(tmp_path, "json_cif")
    with pytest.raises(ValueError, match="no field 'band_gap'"):
        list(user_source(json_path, targets=["band_gap"]).iter_entries())
    with pytest.raises(ValueError, match="unknown format"):
        detect_format(
            tmp_path / "labels.txt" if (tmp_path / "labels.txt").touch() is None else None
        )
    with pytest.raises(FileNotFoundError, match="labels CSV"):
        user_source(tmp_path, targets=["gap"], labels=tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="registered dataset"):
        user_dataset(path, name="castelli_perovskites", targets=target_specs(["gap:eV"]))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("data.csv", "cif_csv"),
        ("DATA.CSV.GZ", "cif_csv"),
        ("records.json", "json"),
        ("frames.extxyz", "extxyz"),
        ("frames.xyz", "extxyz"),
        ("candidates.db", "ase_db"),
        ("cifs.zip", "cif_zip"),
        ("SrTiO3.cif", None),
        ("SrTiO3.cif.gz", None),
        ("POSCAR", None),
        ("labels.txt", None),
    ],
)
def test_table_format_is_read_from_the_name_alone(tmp_path, name, expected) -> None:
    assert table_format(tmp_path / "missing" / name) == expected
    assert table_format(name) == expected


def test_garbage_cifs_and_duplicate_ids_are_reported_not_dropped(tmp_path) -> None:
    import csv

    path = tmp_path / "data.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "gap", "cif"])
        writer.writerow(["srtio3", 1.8, cif(GOOD["p-1"])])
        writer.writerow(["srtio3", 1.9, cif(GOOD["p-2"])])
        writer.writerow(["bad", 1.0, "data_x\nthis is not a cif\n"])
        writer.writerow(
            ["two", 1.0, cif(GOOD["p-1"]) + cif(GOOD["p-3"]).replace("data_", "data_b_")]
        )
        writer.writerow(["cspbi3", "n/a", cif(GOOD["p-6"])])
        writer.writerow(["ok", 2.0, cif(GOOD["p-4"])])
    spec = user_dataset(path, name="mine", targets=target_specs(["gap:eV"]))
    prepared = prepare_dataset(spec, raw_root=None, out_dir=tmp_path / "prepared")
    issues = prepared.validation_issues()
    kinds = set(issues["kind"])
    assert {"duplicate_id", "unparsable_cif"} <= kinds
    assert "bad" in set(issues["id"]) and "cspbi3" in set(issues["id"])
    two = issues.set_index("id").loc["two"]
    assert two["kind"] == "unparsable_cif" and "holds 2 structures" in two["detail"]
    bad_only = tmp_path / "bad.csv"
    bad_only.write_text('id,gap,cif\nx,1.0,"garbage"\n')
    spec = user_dataset(bad_only, name="mine", targets=target_specs(["gap:eV"]))
    with pytest.raises(ValueError, match="none of the 1 entries is valid"):
        prepare_dataset(spec, raw_root=None, out_dir=tmp_path / "nothing")
    assert not (tmp_path / "nothing").exists()


def test_unusable_structures_in_json_and_ase_files_are_named(tmp_path) -> None:
    from ase import Atoms
    from ase.io import write

    path = tmp_path / "data.json"
    rows = [
        {"id": "ok", "gap": 1.0, "cif": cif(GOOD["p-1"])},
        {"id": "number", "gap": 1.0, "cif": 123},
        {"id": "broken", "gap": 1.0, "structure": {"sites": []}},
        {"id": "none", "gap": 1.0},
    ]
    path.write_text(json.dumps(rows))
    spec = user_dataset(path, name="mine", targets=target_specs(["gap:eV"]))
    prepared = prepare_dataset(spec, raw_root=None, out_dir=tmp_path / "prepared")
    issues = prepared.validation_issues().set_index("id")
    assert set(issues["kind"]) == {"unparsable_cif"}
    assert issues.loc["number", "detail"] == "the 'cif' field is int 123, not CIF text"
    assert "not a pymatgen Structure dict (KeyError" in issues.loc["broken", "detail"]
    assert issues.loc["none", "detail"] == "no 'cif' or 'structure' field"
    assert issues.loc["none", "origin"] == "data.json:record 3"

    molecule = Atoms("NaCl", positions=[[0, 0, 0], [2.8, 0, 0]])  # no cell
    molecule.info["gap"] = 1.0
    xyz = tmp_path / "molecule.extxyz"
    write(str(xyz), [molecule], format="extxyz")
    spec = user_dataset(xyz, name="mine", targets=target_specs(["gap:eV"]))
    with pytest.raises(ValueError, match=r"molecule\.extxyz:frame 0: unparsable_cif, no periodic"):
        prepare_dataset(spec, raw_root=None, out_dir=tmp_path / "molecule")
    not_a_db = tmp_path / "data.db"
    not_a_db.write_text("not sqlite")
    with pytest.raises(ValueError, match=r"data\.db is not a readable ASE database"):
        list(user_source(not_a_db, targets=["gap"]).iter_entries())


@pytest.mark.parametrize(("fmt", "first"), [("ase_db", 1), ("extxyz", 0)])
def test_records_without_an_id_are_named_by_the_number_their_origin_shows(
    tmp_path, fmt, first
) -> None:
    path = write_format(tmp_path, fmt)
    entries = list(user_source(path, targets=["gap"], id_column="no_such_key").iter_entries())
    kind = "row" if fmt == "ase_db" else "frame"
    for n, entry in enumerate(entries, start=first):
        assert entry.id == f"{path.stem}-{n}" and entry.origin == f"{path.name}:{kind} {n}"
