"""The ``.gz`` ending and macOS metadata rules shared by the structure formats."""

import pytest

from sagatsr.data.file_names import stem_with_suffix, without_gz


@pytest.mark.parametrize(
    ("name", "expected"),
    [("CONTCAR.gz", "CONTCAR"), ("x.cif.GZ", "x.cif"), ("CONTCAR", "CONTCAR"), ("gz", "gz")],
)
def test_without_gz_drops_only_a_trailing_gz_ending(name, expected) -> None:
    assert without_gz(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mp-1.vasp", "mp-1"),
        ("mp-1.VASP.gz", "mp-1"),
        ("SrTiO3.poscar", "SrTiO3"),
        ("a.b.vasp", "a.b"),  # only the ending goes
        (".vasp", None),  # nothing but the ending
        (".vasp.gz", None),
        ("._mp-1.vasp", None),  # macOS metadata beside mp-1.vasp
        ("mp-1.cif", None),
        ("mp-1.vasp.zip", None),
        ("POSCAR", None),
    ],
)
def test_stem_with_suffix_gives_the_id_before_the_ending(name, expected) -> None:
    assert stem_with_suffix(name, (".vasp", ".poscar")) == expected


def test_the_longest_matching_suffix_wins() -> None:
    assert stem_with_suffix("x.tar.gz.tar", (".tar", ".gz.tar")) == "x.tar"
