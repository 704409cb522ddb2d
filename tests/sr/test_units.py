from fractions import Fraction

import pytest

from sagatsr.sr.units import (
    BASE_DIMENSIONS,
    DIMENSIONLESS,
    format_dimension,
    format_quantity,
    parse_unit,
    parse_units,
    unit_label,
    with_unit,
)


def dim(**exponents):
    return tuple(Fraction(exponents.get(name, 0)) for name in BASE_DIMENSIONS)


ENERGY = {"M": 1, "L": 2, "T": -2}


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("eV", dim(**ENERGY)),
        ("angstrom", dim(L=1)),
        ("1", DIMENSIONLESS),
        ("", DIMENSIONLESS),
        ("eV/atom", dim(**ENERGY, N=-1)),
        ("g/cm^3", dim(M=1, L=-3)),
        ("e", dim(Q=1)),
        ("deg", dim(angle=1)),
        ("K", dim(Theta=1)),
        ("amu", dim(M=1)),
        ("bohr^3", dim(L=3)),
        ("angstrom^3", dim(L=3)),
        ("kJ/mol", dim(**ENERGY, N=-1)),
        ("J/(g K)", dim(L=2, T=-2, Theta=-1)),
        ("J/(g*K)", dim(L=2, T=-2, Theta=-1)),
        ("cm^3/mol", dim(L=3, N=-1)),
        ("s^-1", dim(T=-1)),
        ("m^(1/2)", dim(L=Fraction(1, 2))),
        ("kg m / s^2", dim(M=1, L=1, T=-2)),
        ("m/s/s", dim(L=1, T=-2)),
    ],
)
def test_parse_unit(unit, expected):
    assert parse_unit(unit) == expected


def test_molar_and_per_atom_energies_share_a_dimension_distinct_from_energy():
    assert parse_unit("eV/atom") == parse_unit("kJ/mol")
    assert parse_unit("eV/atom") != parse_unit("eV")


@pytest.mark.parametrize("unit", ["furlong", "eV/parsec", "J/(g K", "m^x", "m^"])
def test_bad_units_raise_clear_errors(unit):
    with pytest.raises(ValueError, match="unit"):
        parse_unit(unit)


def test_unknown_unit_error_names_the_symbol():
    with pytest.raises(ValueError, match="'furlong'"):
        parse_unit("furlong/s")


def test_parse_units_checks_length_and_names_the_feature():
    assert parse_units(None, 3) == [DIMENSIONLESS] * 3
    with pytest.raises(ValueError, match="2 unit strings"):
        parse_units(["eV"], 2)
    with pytest.raises(ValueError, match="feature 1"):
        parse_units(["eV", "bogus"], 2)


def test_format_dimension():
    assert format_dimension(parse_unit("J/(g K)")) == "L^2 T^-2 Theta^-1"
    assert format_dimension(DIMENSIONLESS) == "1"


def test_per_cell_energy_is_an_energy_per_amount():
    assert parse_unit("eV/cell") == parse_unit("eV/atom") != parse_unit("eV")


@pytest.mark.parametrize("unit", ["1", "", None, "dimensionless", "-", " 1 "])
def test_a_pure_number_is_written_without_a_unit(unit) -> None:
    assert format_quantity(0.538461538, unit) == "0.5385"
    assert with_unit("1.2 +- 0.1", unit) == "1.2 +- 0.1"
    assert unit_label("ratio_AB_atomic_radius", unit) == "ratio_AB_atomic_radius"


def test_a_physical_unit_follows_the_value() -> None:
    assert format_quantity(1.23456, "eV/cell") == "1.235 eV/cell"
    assert format_quantity(0.5, "%", ".1f") == "0.5 %"  # a percentage keeps its sign
    assert with_unit("1.2 +- 0.1", "eV") == "1.2 +- 0.1 eV"
    assert unit_label("test MAE", "eV/atom") == "test MAE [eV/atom]"
