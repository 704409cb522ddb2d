"""Tests of perovskite subset selection (sagatsr.data.subsets)."""

from __future__ import annotations

import pytest
from pymatgen.core import Lattice, Structure

from sagatsr.data.roles import assign_roles
from sagatsr.data.subsets import (
    CASTELLI_ANION_SETS,
    SUBSET_TABLE,
    SUBSETS,
    SubsetSelection,
    classify_perovskite,
    select_subset,
    subset_counts,
)
from tests.data.test_roles import antiperovskite, cubic_perovskite, read_mirror, tilted_perovskite

SRTIO3 = cubic_perovskite("Sr", "Ti", ["O"] * 3)
CSPBI3 = cubic_perovskite("Cs", "Pb", ["I"] * 3, a=6.3)
KMGF3 = cubic_perovskite("K", "Mg", ["F"] * 3, a=4.0, b_at_origin=False)
BANBN3 = cubic_perovskite("Ba", "Nb", ["N"] * 3, a=4.1)
BATIO2N = cubic_perovskite("Ba", "Ti", ["O", "O", "N"])
CSPBBR2I = cubic_perovskite("Cs", "Pb", ["Br", "Br", "I"], a=6.0)
LI3OCL = antiperovskite("Li", "Cl", "O")
TI3ALC = antiperovskite("Ti", "Al", "C", a=4.2)
NACL = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0] * 3, [0.5] * 3])
GDFEO3 = tilted_perovskite(phi_minus=0.2, phi_plus=0.2, a_shift=0.3)
# Castelli mb-perovskites-00386: ABX3 chemistry, relaxed out of the perovskite geometry.
COLLAPSED = Structure(
    Lattice.cubic(4.17251581),
    ["K", "Cr", "O", "O", "O"],
    [[0.646, 0.5, 0.5], [0.145, 0, 0], [0.145, 0, 0.5], [0.145, 0.5, 0], [0.146, 0.5, 0.5]],
)


@pytest.mark.parametrize(
    ("structure", "expected"),
    [
        (SRTIO3, "ABO3"),
        (GDFEO3, "ABO3"),
        (CSPBI3, "ABX3_halide"),
        (KMGF3, "ABX3_halide"),
        (BANBN3, "ABX3_other"),
        (BATIO2N, "mixed_anion"),
        (CSPBBR2I, "mixed_anion"),
        (LI3OCL, None),
        (TI3ALC, None),
        (NACL, None),
        (COLLAPSED, None),
    ],
)
def test_classify_perovskite(structure: Structure, expected: str | None) -> None:
    assert classify_perovskite(structure, assign_roles(structure)) == expected


def test_classify_rejects_mismatched_roles() -> None:
    with pytest.raises(ValueError, match="sites"):
        classify_perovskite(SRTIO3 * (2, 1, 1), assign_roles(SRTIO3))


def test_subset_table() -> None:
    assert SUBSETS["castelli_perovskites"] == ("ABO3", "ABX3", "AB(OX)3", "all")
    assert SUBSETS["oqmd_perovskites"] == SUBSETS["jarvis_dft_3d"]
    assert SUBSETS["mp20_subset"] == ("all",)
    assert set(SUBSETS) == set(SUBSET_TABLE)
    families = [family for group in CASTELLI_ANION_SETS.values() for family in group]
    assert sorted(families) == sorted(["O3", "N3", "NO2", "N2O", "FO2", "O2S", "FNO"])


@pytest.mark.parametrize(
    ("dataset", "subset", "message"),
    [
        ("matbench", "ABO3", "castelli_perovskites, oqmd_perovskites"),
        ("mp20_subset", "ABO3", "valid subsets: all"),
        ("oqmd_perovskites", "abo3", "ABO3, ABX3, AB(OX)3, all"),
    ],
)
def test_unknown_names(dataset: str, subset: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        select_subset(dataset, subset, [])


def _items(structures: dict[str, Structure], metadata: dict[str, dict] | None = None) -> list:
    metadata = metadata or {}
    return [(key, s, None, metadata.get(key, {})) for key, s in structures.items()]


OQMD_LIKE = {
    "SrTiO3": SRTIO3,
    "GdFeO3": GDFEO3,
    "CsPbI3": CSPBI3,
    "KMgF3": KMGF3,
    "BaNbN3": BANBN3,
    "BaTiO2N": BATIO2N,
    "Li3OCl": LI3OCL,
    "Ti3AlC": TI3ALC,
}


@pytest.mark.parametrize("dataset", ["oqmd_perovskites", "jarvis_dft_3d"])
@pytest.mark.parametrize(
    ("subset", "expected"),
    [
        ("ABO3", ["SrTiO3", "GdFeO3"]),
        ("ABX3", ["CsPbI3", "KMgF3"]),
        ("AB(OX)3", ["SrTiO3", "GdFeO3", "CsPbI3", "KMgF3"]),
        ("all", list(OQMD_LIKE)),
    ],
)
def test_select_by_structure(dataset: str, subset: str, expected: list[str]) -> None:
    selection = select_subset(dataset, subset, _items(OQMD_LIKE))
    assert isinstance(selection, SubsetSelection)
    assert selection.selected == expected
    # Nothing is dropped silently.
    assert set(selection.selected) | set(selection.excluded) == set(OQMD_LIKE)
    assert not set(selection.selected) & set(selection.excluded)
    if subset != "all":
        assert selection.excluded["Li3OCl"].startswith("not a perovskite: ")
        assert selection.excluded["Ti3AlC"].startswith("not a perovskite: ")
        assert selection.excluded["BaTiO2N"] == "other perovskite class: mixed_anion"
        assert selection.excluded["BaNbN3"] == "other perovskite class: ABX3_other"
        assert selection.exclusion_counts()["not a perovskite"] == 2


def test_select_uses_given_roles_and_reports_missing_structure() -> None:
    roles = assign_roles(SRTIO3)
    items = [("given", SRTIO3, roles, {}), ("missing", None, None, {})]
    selection = select_subset("oqmd_perovskites", "ABO3", items)
    assert selection.selected == ["given"]
    assert selection.excluded == {"missing": "no structure: cannot assign site roles"}
    assert selection.classes == {"given": "ABO3"}


def test_duplicate_ids_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate id"):
        select_subset("mp20_subset", "all", [("a", None, None, {}), ("a", None, None, {})])


def test_mp20_all() -> None:
    selection = select_subset("mp20_subset", "all", _items({"NaCl": NACL, "SrTiO3": SRTIO3}))
    assert selection.selected == ["NaCl", "SrTiO3"] and selection.excluded == {}


CASTELLI_LIKE = {
    "o3": (SRTIO3, "O3"),
    "n3": (BANBN3, "N3"),
    "no2": (BATIO2N, "NO2"),
    "collapsed": (COLLAPSED, "O3"),
    "wrong": (SRTIO3, "N3"),  # metadata contradicts the chemistry
    "notabx3": (LI3OCL, "FO2"),
    "nometa": (SRTIO3, None),
    "unknown": (SRTIO3, "Se3"),
}


def _castelli_items() -> list:
    return [
        (key, s, None, {} if family is None else {"anion_set": family})
        for key, (s, family) in CASTELLI_LIKE.items()
    ]


@pytest.mark.parametrize(
    ("subset", "expected"),
    [
        ("ABO3", ["o3", "collapsed"]),
        ("ABX3", ["n3", "wrong"]),
        ("AB(OX)3", ["no2", "notabx3"]),
        ("all", list(CASTELLI_LIKE)),
    ],
)
def test_castelli_by_anion_set(subset: str, expected: list[str]) -> None:
    selection = select_subset("castelli_perovskites", subset, _castelli_items())
    assert selection.selected == expected
    assert set(selection.selected) | set(selection.excluded) == set(CASTELLI_LIKE)
    if subset != "all":
        assert selection.excluded["nometa"] == "missing metadata: no anion_set"
        assert selection.excluded["unknown"].startswith("unknown anion_set")
    # Cross-check of anion_set against the roles' chemistry (selection unchanged).
    assert set(selection.disagreements) == {"wrong", "notabx3"}
    assert "X sites hold O3" in selection.disagreements["wrong"]
    assert "not those of an ABX3 cell" in selection.disagreements["notabx3"]
    assert set(selection.not_perovskite) == {"collapsed"}
    assert selection.classes["o3"] == "ABO3" and selection.classes["collapsed"] is None
    assert selection.ids == selection.selected


def test_castelli_cross_check_without_reason() -> None:
    # Roles rebuilt from stored arrays carry no reason: the check uses the role counts.
    roles = assign_roles(COLLAPSED)
    bare = type(roles)(roles.roles, roles.oxidation_states, roles.coordination, "generic")
    items = [("collapsed", COLLAPSED, bare, {"anion_set": "O3"})]
    selection = select_subset("castelli_perovskites", "ABO3", items)
    assert selection.disagreements == {}
    assert selection.not_perovskite == {"collapsed": "not a perovskite geometry"}


def test_castelli_without_structures_uses_metadata_only() -> None:
    items = [("a", None, None, {"anion_set": "O3"}), ("b", None, None, {"anion_set": "FNO"})]
    selection = select_subset("castelli_perovskites", "AB(OX)3", items)
    assert selection.selected == ["b"]
    assert selection.disagreements == {} and selection.classes == {}


def test_subset_counts() -> None:
    counts = subset_counts("oqmd_perovskites", _items(OQMD_LIKE))
    assert counts["ABO3"]["selected"] == 2 and counts["ABO3"]["excluded"] == 6
    assert counts["ABX3"]["selected"] == 2
    assert counts["AB(OX)3"]["selected"] == 4
    assert counts["all"]["selected"] == 8
    assert counts["classes"] == {
        "ABO3": 2,
        "ABX3_halide": 2,
        "ABX3_other": 1,
        "mixed_anion": 1,
        "none": 2,
    }


# --------------------------------------------------------------------------
# Dataset mirror (skipped when absent)
# --------------------------------------------------------------------------


def test_castelli_mirror_subsets() -> None:
    entries = read_mirror("castelli_perovskites", 500)
    items = [(key, s, assign_roles(s), dict(row)) for key, s, row in entries]
    family = {key: row["anion_set"] for key, _, row in entries}
    for subset in SUBSETS["castelli_perovskites"]:
        selection = select_subset("castelli_perovskites", subset, items)
        assert selection.disagreements == {}  # anion_set always matches the X chemistry
        assert len(selection.selected) + len(selection.excluded) == len(entries)
        if subset != "all":
            assert {family[k] for k in selection.selected} <= CASTELLI_ANION_SETS[subset]
        # Classification agrees with the anion family wherever the cell is a perovskite.
        expected_class = {"O3": "ABO3", "N3": "ABX3_other"}
        for key, kind in selection.classes.items():
            if kind is not None:
                assert kind == expected_class.get(family[key], "mixed_anion"), key
        assert len(selection.not_perovskite) < 0.1 * len(entries)


def test_oqmd_mirror_subsets() -> None:
    entries = read_mirror("oqmd_perovskites", 500)
    counts = subset_counts("oqmd_perovskites", ((k, s, None, {}) for k, s, _ in entries))
    assert counts["AB(OX)3"]["selected"] == counts["ABO3"]["selected"] + counts["ABX3"]["selected"]
    assert counts["ABO3"]["selected"] > 100 and counts["ABX3"]["selected"] > 20
    assert counts["classes"]["none"] == counts["AB(OX)3"].get("not a perovskite", 0)
    assert counts["all"]["selected"] == len(entries)
