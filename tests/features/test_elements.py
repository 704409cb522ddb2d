"""The shipped elemental tables: known values, recorded imputations, pinned content."""

import math

import numpy as np
import pytest

from sagatsr.features import FEATURIZER_VERSION
from sagatsr.features.elements import (
    PROPERTY_NAMES,
    element_table,
    impute_missing,
    roman_to_int,
    tables_sha256,
    unfilled_states,
    valence_counts,
)
from sagatsr.features.radii import shannon_radius

# Literature values (CRC Handbook / NIST ASD; Shannon 1976) the tables must hold.
KNOWN = [
    ("O", "ionization_energy_1", 13.618, 1e-3),
    ("Ti", "electronegativity_pauling", 1.54, 1e-9),
    ("Sr", "atomic_mass", 87.62, 1e-3),
    ("Cs", "ionization_energy_1", 3.894, 1e-3),
    ("F", "electron_affinity", 3.401, 2e-3),
    ("Pb", "period", 6, 0),
    ("Pb", "group", 14, 0),
    ("Fe", "block", 3, 0),
    ("Ce", "block", 4, 0),
    ("Ti", "valence_d", 2, 0),
    ("Pb", "valence_electrons", 28, 0),  # [Xe] 4f14 5d10 6s2 6p2
    ("N", "covalent_radius", 0.71, 1e-9),
]


@pytest.mark.parametrize(("symbol", "name", "value", "tol"), KNOWN)
def test_known_elemental_values(symbol: str, name: str, value: float, tol: float) -> None:
    table = element_table()
    z = table.symbols.index(symbol)
    assert table.column(name)[z] == pytest.approx(value, abs=tol)


@pytest.mark.parametrize(
    ("z", "state", "cn", "expected"),
    [
        (38, 2, 12, 1.44),  # Sr2+ XII
        (22, 4, 6, 0.605),  # Ti4+ VI
        (8, -2, 6, 1.40),  # O2- VI
        (8, -2, 2, 1.35),  # O2- II
        (7, -3, 2, 1.46),  # N3- only tabulated for IV: nearest coordination
        (80, 2, 12, 1.14),  # Hg2+ up to VIII: nearest coordination
    ],
)
def test_shannon_radii_and_nearest_coordination(
    z: int, state: int, cn: int, expected: float
) -> None:
    assert shannon_radius(z, state, cn) == pytest.approx(expected)


def test_shannon_fallbacks_are_explicit() -> None:
    table = element_table()
    # No Ti5+ in Shannon's table: the nearest tabulated state of the same sign (Ti4+).
    assert shannon_radius(22, 5, 6) == shannon_radius(22, 4, 6)
    # Unknown state: the average ionic radius; a neutral site: the atomic radius.
    assert shannon_radius(22, math.nan, 6) == table.column("average_ionic_radius")[22]
    assert shannon_radius(29, 0, 12) == table.column("atomic_radius")[29]
    assert math.isnan(shannon_radius(200, 1, 6))


def test_every_missing_value_is_recorded_with_its_rule() -> None:
    table = element_table()
    assert not np.isnan(table.values[1:]).any()
    assert set(table.imputations["rule"]) <= {"same block and period", "same block", "all elements"}
    assert set(table.imputations["property"]) <= set(PROPERTY_NAMES)
    for row in table.imputations.itertuples():
        assert table.column(row.property)[row.Z] == pytest.approx(row.value)
    # e.g. no Pauling electronegativity for He, Ne, Ar in pymatgen.
    noble = table.imputations[table.imputations["property"] == "electronegativity_pauling"]
    assert {"He", "Ne", "Ar"} <= set(noble["symbol"])


def test_imputation_rule_on_a_toy_table() -> None:
    import pandas as pd

    raw = pd.DataFrame(
        {
            "symbol": ["A", "B", "C", "D"],
            "block": [1.0, 1.0, 1.0, 2.0],
            "period": [2.0, 2.0, 3.0, 2.0],
            **{
                name: [1.0, 3.0, 10.0, 7.0]
                for name in PROPERTY_NAMES
                if name not in ("block", "period")
            },
        },
        index=[1, 2, 3, 4],
    )
    raw.loc[1, "atomic_mass"] = np.nan  # same block+period: B only -> 3
    raw.loc[3, "atomic_mass"] = np.nan  # same block (period 3 has no other) -> median(3) = 3
    raw.loc[4, "melting_point"] = np.nan  # alone in its block -> all elements median(1, 3, 10)
    filled, log = impute_missing(raw)
    assert filled.loc[1, "atomic_mass"] == 3.0
    assert filled.loc[3, "atomic_mass"] == 3.0
    assert filled.loc[4, "melting_point"] == 3.0
    assert log["rule"].tolist() == ["same block and period", "same block", "all elements"]


def test_configuration_parsing() -> None:
    assert valence_counts("[Xe].4f14.5d10.6s2.6p2") == {"s": 2, "p": 2, "d": 10, "f": 14}
    assert valence_counts("1s1") == {"s": 1, "p": 0, "d": 0, "f": 0}
    assert unfilled_states({"s": 2, "p": 4, "d": 0, "f": 0}) == 2
    assert [roman_to_int(k) for k in ("II", "IV", "IVSQ", "IX", "XII", "XIV", "IIIPY")] == [
        2,
        4,
        4,
        9,
        12,
        14,
        3,
    ]
    with pytest.raises(ValueError):
        roman_to_int("sq")


def test_tables_are_pinned_to_the_featurizer_version() -> None:
    # Editing a table changes every feature: bump FEATURIZER_VERSION (graph caches
    # and saved models are keyed on it) and update the hash here.
    assert (FEATURIZER_VERSION, tables_sha256()) == (
        "1.0",
        "acdc595f5aead709c4e93dcf1c5473bb38bad9345631227c5ae92407c251773f",
    )
