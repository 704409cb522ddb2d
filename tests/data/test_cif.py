"""read_cif: pymatgen's structure, through gemmi where the file is simple."""

from __future__ import annotations

import csv
import gzip
import warnings
import zipfile

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter

from sagatsr.data.cif import _read_simple_cif, read_cif
from tests.support.mirror import mirror_root, require_mirror


def pymatgen_structure(text: str) -> Structure:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Structure.from_str(text, fmt="cif")


def assert_same_structure(got: Structure, expected: Structure) -> None:
    assert len(got) == len(expected)
    assert np.array_equal(got.lattice.matrix, expected.lattice.matrix)
    assert [s.species for s in got] == [s.species for s in expected]
    assert [s.label for s in got] == [s.label for s in expected]
    assert np.array_equal(got.frac_coords, expected.frac_coords)


def p1_cif(sites: list[tuple[str, str, str, str, str]], *, extra: str = "", cell: str = "") -> str:
    """A P 1 CIF with (label, symbol, x, y, z) rows as CifWriter lays it out."""
    rows = "\n".join(f"  {sym}  {label}  1  {x}  {y}  {z}  1" for label, sym, x, y, z in sites)
    cell = cell or (
        "_cell_length_a 4.0\n_cell_length_b 4.1\n_cell_length_c 4.2\n"
        "_cell_angle_alpha 90\n_cell_angle_beta 95\n_cell_angle_gamma 90\n"
    )
    return (
        "data_test\n_symmetry_space_group_name_H-M 'P 1'\n"
        + cell
        + extra
        + "loop_\n _symmetry_equiv_pos_site_id\n _symmetry_equiv_pos_as_xyz\n  1  'x, y, z'\n"
        "loop_\n _atom_site_type_symbol\n _atom_site_label\n _atom_site_symmetry_multiplicity\n"
        " _atom_site_fract_x\n _atom_site_fract_y\n _atom_site_fract_z\n _atom_site_occupancy\n"
        + rows
        + "\n"
    )


PEROVSKITE = [
    ("O1", "O", "0.5", "0.5", "0.0"),
    ("Sr0", "Sr", "0.0", "0.0", "0.0"),
    ("Ti1", "Ti", "0.5", "0.5", "0.5"),
    ("O2", "O", "0.5", "0.0", "0.5"),
    ("O3", "O", "0.0", "0.5", "0.5"),
]


def test_a_simple_file_takes_the_fast_path_and_matches_pymatgen() -> None:
    text = p1_cif(PEROVSKITE)
    assert _read_simple_cif(text) is not None
    assert_same_structure(read_cif(text), pymatgen_structure(text))


def test_thirds_are_snapped_and_coordinates_wrapped_as_pymatgen_does() -> None:
    sites = [
        ("Sr0", "Sr", "0.33333", "0.66667", "1.25"),
        ("Ti1", "Ti", "-0.25", "0.666666(3)", "0.0"),
        ("O1", "O", "1.0", "0.3334", "0.5"),
    ]
    text = p1_cif(sites)
    fast = _read_simple_cif(text)
    assert fast is not None
    assert_same_structure(fast, pymatgen_structure(text))
    assert np.all((fast.frac_coords >= 0) & (fast.frac_coords < 1))


def test_cifwriter_output_round_trips() -> None:
    structure = Structure(
        Lattice.from_parameters(3.9, 4.4, 5.1, 88, 101, 92),
        ["Cs", "Pb", "I", "I", "I"],
        [[0.01, 0.02, 0.03], [0.5, 0.48, 0.51], [0.5, 0.5, 0.02], [0.5, 0.02, 0.5], [0, 0.5, 0.5]],
    )
    text = str(CifWriter(structure))
    assert _read_simple_cif(text) is not None
    assert_same_structure(read_cif(text), pymatgen_structure(text))


NACL_FM3M = """data_NaCl
_cell_length_a 5.64
_cell_length_b 5.64
_cell_length_c 5.64
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'F m -3 m'
loop_
 _symmetry_equiv_pos_as_xyz
 'x, y, z'
 'x, y+1/2, z+1/2'
 'x+1/2, y, z+1/2'
 'x+1/2, y+1/2, z'
loop_
 _atom_site_label
 _atom_site_type_symbol
 _atom_site_fract_x
 _atom_site_fract_y
 _atom_site_fract_z
 Na1 Na 0 0 0
 Cl1 Cl 0.5 0.5 0.5
"""


@pytest.mark.parametrize(
    ("case", "text"),
    [
        ("symmetry operations to apply", NACL_FM3M),
        (
            "partial occupancy",
            p1_cif(PEROVSKITE).replace("Sr0  1  0.0  0.0  0.0  1", "Sr0  1  0.0  0.0  0.0  0.5"),
        ),
        ("coinciding sites", p1_cif([*PEROVSKITE, ("Ba0", "Ba", "0.0", "0.0", "0.00001")])),
        ("oxidation-state symbol", p1_cif(PEROVSKITE).replace("  Ti  Ti1", "  Ti4+  Ti1")),
        (
            "oxidation numbers",
            p1_cif(
                PEROVSKITE,
                extra="loop_\n _atom_type_symbol\n _atom_type_oxidation_number\n"
                " Sr 2\n Ti 4\n O -2\n",
            ),
        ),
        ("a data block without sites", "data_global\n_journal_year 2024\n" + p1_cif(PEROVSKITE)),
        (
            "noble gas (no electronegativity)",
            p1_cif([*PEROVSKITE, ("Ar0", "Ar", "0.2", "0.2", "0.2")]),
        ),
        ("no identity operation listed", p1_cif(PEROVSKITE).replace("'x, y, z'", "'-x, -y, -z'")),
    ],
    ids=lambda value: value if len(value) < 40 else "",
)
def test_anything_else_is_left_to_pymatgen(case: str, text: str) -> None:
    assert _read_simple_cif(text) is None, case
    try:
        expected = pymatgen_structure(text)
    except Exception as error:  # pymatgen rejects some of these; so must read_cif
        with pytest.raises(type(error)):
            read_cif(text)
        return
    assert_same_structure(read_cif(text), expected)


def test_several_structures_in_one_text_are_refused_not_cut_to_the_first() -> None:
    from sagatsr.data.cif import SeveralStructuresError

    two = p1_cif(PEROVSKITE) + p1_cif(PEROVSKITE).replace("data_test", "data_b")
    with pytest.raises(
        SeveralStructuresError, match=r"holds 2 structures \(data blocks data_test, data_b\)"
    ):
        read_cif(two)


def test_unreadable_text_raises_what_pymatgen_raises() -> None:
    truncated = p1_cif(PEROVSKITE)[:300]
    with pytest.raises(Exception) as ours:
        read_cif(truncated)
    with pytest.raises(Exception) as theirs:
        pymatgen_structure(truncated)
    assert type(ours.value) is type(theirs.value)


def _mirror_cifs(every: int) -> list[tuple[str, str]]:
    root = mirror_root()
    texts: list[tuple[str, str]] = []
    for name in ("castelli_perovskites", "oqmd_perovskites"):
        archive = require_mirror(root / name / "structures.zip")
        with zipfile.ZipFile(archive) as handle:
            members = [m for m in handle.namelist() if m.endswith(".cif")][::every]
            texts += [(f"{name}:{m}", handle.read(m).decode()) for m in members]
    csv.field_size_limit(1 << 30)
    with gzip.open(require_mirror(root / "mp20_subset" / "mp20_val_test.csv.gz"), "rt") as handle:
        rows = list(csv.DictReader(handle))[::every]
        texts += [(f"mp20:{row['id']}", row["cif"]) for row in rows]
    return texts


def test_the_mirror_files_read_exactly_as_pymatgen_reads_them() -> None:
    texts = _mirror_cifs(every=60)
    assert len(texts) > 500
    fast = 0
    for origin, text in texts:
        got = _read_simple_cif(text)
        if got is not None:
            fast += 1
            try:
                assert_same_structure(got, pymatgen_structure(text))
            except AssertionError as error:
                raise AssertionError(f"{origin}: {error}") from error
    assert fast >= 0.99 * len(texts)  # all but the few with noble gases are simple files


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
def test_cif_bytes_in_the_encodings_editors_write_read_alike(encoding: str) -> None:
    from sagatsr.data.cif import decode_cif

    text = p1_cif(PEROVSKITE)
    data = text.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):  # what Windows' "Unicode" files start with
        data = ("\ufeff" + text).encode(encoding)
    assert decode_cif(data) == text
    assert_same_structure(read_cif(decode_cif(data)), read_cif(text))


def test_a_latin1_comment_does_not_stop_the_reading() -> None:
    from sagatsr.data.cif import decode_cif

    text = "# généré par un outil\n" + p1_cif(PEROVSKITE)
    assert_same_structure(
        read_cif(decode_cif(text.encode("latin-1"))), read_cif(p1_cif(PEROVSKITE))
    )


def test_gzip_compressed_cif_bytes_are_decompressed_and_damaged_ones_named() -> None:
    import gzip

    from sagatsr.data.cif import DamagedFileError, cif_stem, decode_cif

    text = p1_cif(PEROVSKITE)
    assert decode_cif(gzip.compress(text.encode())) == text
    assert decode_cif(gzip.compress(text.encode("utf-16"))) == text
    with pytest.raises(DamagedFileError, match="damaged gzip file"):
        decode_cif(gzip.compress(text.encode())[:40])  # a download cut short
    names = ("a.cif", "b.CIF.GZ", "c.cif.gz", "d.gz", ".cif", "e.txt", "._a.cif")
    assert [cif_stem(n) for n in names] == [
        "a",
        "b",
        "c",
        None,
        None,
        None,
        None,
    ]
