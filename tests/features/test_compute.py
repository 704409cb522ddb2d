"""Feature values on hand-built crystals, checked against independent calculations."""

import math

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from sagatsr.data.roles import assign_roles
from sagatsr.features import (
    GLOBAL_FEATURES,
    NODE_FEATURES,
    UnsupportedElementError,
    featurize,
    unsupported_elements,
)
from tests.data.test_roles import bxb_angles, cubic_perovskite, shuffled, tilted_perovskite

GLOBAL_INDEX = {s.name: i for i, s in enumerate(GLOBAL_FEATURES)}
NODE_INDEX = {s.name: i for i, s in enumerate(NODE_FEATURES)}


def globals_of(structure: Structure) -> dict[str, float]:
    _, vector = featurize(structure)
    return {name: float(vector[i]) for name, i in GLOBAL_INDEX.items()}


def test_cubic_srtio3() -> None:
    a = 3.905
    structure = cubic_perovskite("Sr", "Ti", ["O"] * 3, a=a)
    node, vector = featurize(structure)
    assert node.shape == (5, len(NODE_FEATURES)) and vector.shape == (len(GLOBAL_FEATURES),)
    assert np.isfinite(node).all() and np.isfinite(vector).all()
    g = globals_of(structure)
    r_sr, r_ti, r_o = 1.44, 0.605, 1.40  # Shannon: Sr2+ XII, Ti4+ VI, O2- VI
    assert g["tolerance_factor"] == pytest.approx((r_sr + r_o) / (math.sqrt(2) * (r_ti + r_o)))
    assert g["octahedral_factor"] == pytest.approx(r_ti / r_o)
    tau = r_o / r_ti - 2 * (2 - (r_sr / r_ti) / math.log(r_sr / r_ti))
    assert g["tau_factor"] == pytest.approx(tau)
    assert g["bx_bond_mean"] == pytest.approx(a / 2)
    assert g["bx_bond_std"] == pytest.approx(0.0, abs=1e-9)
    assert g["ax_distance_mean"] == pytest.approx(a / math.sqrt(2))
    assert g["bxb_angle_mean"] == pytest.approx(180.0)
    assert g["cos_bxb_angle"] == pytest.approx(-1.0)
    assert g["octahedral_tilt"] == pytest.approx(0.0, abs=1e-6)
    assert g["volume_per_atom"] == pytest.approx(a**3 / 5)
    assert g["density"] == pytest.approx(structure.density)
    assert g["lattice_a"] == pytest.approx(a) and g["c_over_a"] == pytest.approx(1.0)
    assert g["charge_imbalance"] == pytest.approx(0.0)
    assert g["A_oxidation_state"] == 2 and g["B_oxidation_state"] == 4
    assert g["X_oxidation_state"] == -2
    assert g["B_ionization_energy_1"] == pytest.approx(6.828, abs=1e-3)
    assert g["delta_BX_electronegativity_pauling"] == pytest.approx(1.54 - 3.44)
    assert g["ionic_character_bx"] == pytest.approx(1 - math.exp(-((1.54 - 3.44) ** 2) / 4))
    assert g["n_x_species"] == 1 and g["X_electronegativity_pauling_std"] == 0
    ti = node[1]
    assert ti[NODE_INDEX["is_B"]] == 1 and ti[NODE_INDEX["coordination_number"]] == 6
    assert ti[NODE_INDEX["shannon_radius"]] == pytest.approx(r_ti)
    assert ti[NODE_INDEX["nearest_neighbor_distance"]] == pytest.approx(a / 2)
    assert ti[NODE_INDEX["local_electronegativity_difference"]] == pytest.approx(3.44 - 1.54)


def test_tilted_cell_angles_match_an_independent_calculation() -> None:
    structure = tilted_perovskite(phi_minus=0.15, phi_plus=0.1, a_shift=0.2)
    roles = assign_roles(structure)
    g = globals_of(structure)
    expected = bxb_angles(structure, roles.roles)
    assert g["bxb_angle_mean"] == pytest.approx(expected.mean(), abs=1e-6)
    assert g["bxb_angle_min"] == pytest.approx(expected.min(), abs=1e-6)
    assert 0 < g["octahedral_tilt"] < 20
    assert g["bxb_angle_mean"] < 175


def test_invariant_to_site_order_and_supercell() -> None:
    structure = tilted_perovskite(phi_minus=0.1, a_shift=0.1)
    node, vector = featurize(structure)
    permuted, perm = shuffled(structure, seed=3)
    node_p, vector_p = featurize(permuted)
    np.testing.assert_allclose(vector_p, vector, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(node_p, node[perm], rtol=1e-9, atol=1e-9)

    cubic = cubic_perovskite("Ba", "Zr", ["O", "O", "S"], a=4.2)
    single = globals_of(cubic)
    double = globals_of(cubic * (2, 1, 1))
    cell_dependent = {
        "n_sites",
        "lattice_a",
        "lattice_b",
        "lattice_c",
        "b_over_a",
        "c_over_a",
        "lattice_alpha",
        "lattice_beta",
        "lattice_gamma",
    }
    for name, value in single.items():
        if name not in cell_dependent:
            assert double[name] == pytest.approx(value, rel=1e-9, abs=1e-9, nan_ok=True), name


def test_mixed_anion_spread() -> None:
    g = globals_of(cubic_perovskite("Ba", "Ti", ["O", "O", "N"], a=4.0))
    assert g["n_x_species"] == 2
    assert g["X_electronegativity_pauling_std"] == pytest.approx(np.std([3.44, 3.44, 3.04]))
    assert g["X_oxidation_state"] == pytest.approx((-2 - 2 - 3) / 3)


def test_not_applicable_values_are_nan_not_invented() -> None:
    nacl = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0] * 3, [0.5] * 3]
    )
    g = globals_of(nacl)
    assert math.isnan(g["A_atomic_mass"])  # one cation species: it is B, there is no A
    assert math.isnan(g["tolerance_factor"]) and math.isnan(g["ax_distance_mean"])
    assert g["B_oxidation_state"] == 1 and g["X_oxidation_state"] == -1
    assert g["bx_bond_mean"] == pytest.approx(5.64 / 2)


def test_unsupported_and_disordered_structures_are_clear_errors() -> None:
    americium = Structure(Lattice.cubic(3.5), ["Am", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    assert unsupported_elements(americium) == ["Am"]
    with pytest.raises(UnsupportedElementError, match="Am"):
        featurize(americium)
    disordered = Structure(Lattice.cubic(3.5), [{"Fe": 0.5, "Ni": 0.5}], [[0, 0, 0]])
    with pytest.raises(ValueError, match="disordered"):
        featurize(disordered)


@pytest.mark.parametrize(
    "structure",
    [
        cubic_perovskite("Sr", "Ti", ["O"] * 3, a=3.905),
        tilted_perovskite(),
        cubic_perovskite("Cs", "Pb", ["I", "Br", "Cl"], a=6.1),
    ],
)
def test_density_is_pymatgens_bit_for_bit(structure) -> None:
    with_oxidation = structure.copy()
    with_oxidation.add_oxidation_state_by_guess()
    for crystal in (structure, with_oxidation):
        assert globals_of(crystal)["density"] == float(crystal.density)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 3.9, 1e4])
def test_the_lean_statistics_are_numpy_s_bit_for_bit(scale) -> None:
    from sagatsr.features.compute import _mean, _std

    rng = np.random.default_rng(int(scale * 1000))
    for n in [*range(1, 40), 127, 128, 129, 300, 1000]:
        values = scale * rng.lognormal(size=n)
        assert _mean(values) == float(values.mean()), n
        assert _std(values) == float(values.std()), n
        strided = np.repeat(values, 2)[::2]  # a view with a stride, as a column would be
        assert _std(strided) == float(strided.std()), n
