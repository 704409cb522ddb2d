"""The feature catalog: size, unique names, units and sources, terminal table."""

import pytest

from sagatsr.features import (
    GLOBAL_FEATURES,
    HEADLINE_FEATURES,
    NODE_FEATURES,
    catalog_frame,
    format_catalog_table,
    spec_by_name,
)


def test_at_least_180_named_features_with_units_and_sources() -> None:
    specs = (*NODE_FEATURES, *GLOBAL_FEATURES)
    assert len(specs) >= 180
    assert len(GLOBAL_FEATURES) >= 180  # the SAE over globals alone screens >= 180
    names = [s.name for s in specs]
    assert len(set(names)) == len(names)
    for spec in specs:
        assert spec.name.isidentifier(), spec.name
        assert spec.label and spec.unit and spec.source, spec.name
    assert {s.level for s in NODE_FEATURES} == {"node"}
    assert {s.level for s in GLOBAL_FEATURES} == {"global"}


def test_paper_features_exist_with_their_units() -> None:
    # The paper's published SISSO formulas use these (B_ie1, B_ea, X_Q, B_ir, G_dis).
    expected = {
        "B_ionization_energy_1": ("eV", "B"),
        "B_electron_affinity": ("eV", "B"),
        "X_oxidation_state": ("e", "X"),
        "B_shannon_radius": ("angstrom", "B"),
        "bond_length_distortion": ("1", "B-X"),
        "tolerance_factor": ("1", "A-B-X"),
        "octahedral_factor": ("1", "B-X"),
        "cos_bxb_angle": ("1", "B-X-B"),
        "density": ("g/cm^3", ""),
    }
    for name, (unit, site) in expected.items():
        spec = spec_by_name(name)
        assert (spec.unit, spec.site) == (unit, site), name
    assert set(HEADLINE_FEATURES) <= {s.name for s in GLOBAL_FEATURES}
    with pytest.raises(KeyError, match="features list"):
        spec_by_name("nope")


def test_catalog_table_for_the_terminal() -> None:
    text = format_catalog_table()
    first, header, *rows = text.splitlines()
    n_node, n_global = len(NODE_FEATURES), len(GLOBAL_FEATURES)
    assert first == f"{n_node + n_global} features ({n_node} node, {n_global} global)"
    assert header.split()[:4] == ["level", "site", "name", "unit"]
    assert len(rows) == len(NODE_FEATURES) + len(GLOBAL_FEATURES)
    assert format_catalog_table("node").count("\n") == len(NODE_FEATURES) + 1
    assert list(catalog_frame("global").columns) == [
        "name",
        "label",
        "unit",
        "source",
        "level",
        "site",
        "base",
        "operation",
    ]
    with pytest.raises(ValueError):
        format_catalog_table("edge")  # type: ignore[arg-type]


def test_every_global_feature_knows_what_it_is_derived_from() -> None:
    from sagatsr.features.catalog import CHEMICAL_NODE_FEATURES, spec_by_name

    chemical = {spec.name for spec in CHEMICAL_NODE_FEATURES}
    for spec in GLOBAL_FEATURES:
        if spec.operation == "structure":
            assert spec.base == spec.name
        else:
            assert spec.base in chemical, spec.name
    affinity = {s.name for s in GLOBAL_FEATURES if s.base == "electron_affinity"}
    assert {
        "B_electron_affinity",
        "delta_BX_electron_affinity",
        "mean_electron_affinity",
    } <= affinity
    assert spec_by_name("ratio_AX_shannon_radius").operation == "ratio"
    assert spec_by_name("B_electron_affinity").site == "B"
