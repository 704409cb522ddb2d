import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from sagatsr.graphs.neighbors import NeighborConfig, neighbor_list


def cubic_srtio3(a: float = 3.905) -> Structure:
    return Structure(
        Lattice.cubic(a),
        ["Sr", "Ti", "O", "O", "O"],
        [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
    )


def edge_multiset(structure: Structure, config: NeighborConfig) -> list[tuple]:
    nl = neighbor_list(structure, config)
    z = [site.specie.Z for site in structure]
    return sorted(
        (z[c], z[n], round(float(d), 6), int(s))
        for c, n, d, s in zip(nl.centers, nl.neighbors, nl.distances, nl.shells, strict=True)
    )


def test_cubic_perovskite_neighbour_counts_keep_ties() -> None:
    nl = neighbor_list(cubic_srtio3(), NeighborConfig(max_neighbors=12))
    counts = np.bincount(nl.centers)
    # Sr: 12 O at a/sqrt(2). Ti: 6 O, then 8 Sr tied -> 14. O: 2 Ti, 4 Sr, 8 O -> 14.
    assert counts.tolist() == [12, 14, 14, 14, 14]
    ti = nl.centers == 1
    assert nl.shells[ti].tolist() == [0] * 6 + [1] * 8
    np.testing.assert_allclose(nl.distances[ti][:6], 3.905 / 2, atol=1e-9)


def test_cap_without_ties_is_exact() -> None:
    nl = neighbor_list(cubic_srtio3(), NeighborConfig(max_neighbors=6))
    assert np.bincount(nl.centers)[1] == 6


def test_distances_equal_pymatgen_periodic_distances() -> None:
    structure = cubic_srtio3()
    structure.perturb(0.15, min_distance=0.05, seed=3)
    nl = neighbor_list(structure, NeighborConfig())
    for c, n, image, d in zip(nl.centers, nl.neighbors, nl.images, nl.distances, strict=True):
        expected = structure[int(c)].distance(structure[int(n)], jimage=image.astype(int))
        assert d == pytest.approx(expected, abs=1e-8)
    # Sorted by centre then distance, shells non-decreasing within a centre.
    for center in range(len(structure)):
        mask = nl.centers == center
        assert np.all(np.diff(nl.distances[mask]) >= 0)
        assert np.all(np.diff(nl.shells[mask]) >= 0)


def test_invariant_to_site_order_and_periodic_image() -> None:
    structure = cubic_srtio3()
    structure.perturb(0.1, min_distance=0.05, seed=7)
    config = NeighborConfig()
    reference = edge_multiset(structure, config)

    permuted = Structure.from_sites([structure[i] for i in [3, 1, 4, 0, 2]])
    assert edge_multiset(permuted, config) == reference

    shifted = Structure(
        structure.lattice,
        [site.specie for site in structure],
        structure.frac_coords + np.array([[1, 0, -2], [0, 0, 0], [-1, 3, 0], [0, 1, 1], [2, 2, 2]]),
    )
    assert edge_multiset(shifted, config) == reference


def test_isolated_site_is_an_error() -> None:
    lonely = Structure(Lattice.cubic(30.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(ValueError, match=r"no neighbour within 8\.0"):
        neighbor_list(lonely, NeighborConfig(cutoff=8.0))


def test_overlapping_atoms_are_an_error_naming_both_sites() -> None:
    # 0.2 angstrom apart along x; pymatgen builds the structure without complaint
    overlapping = Structure(
        Lattice.cubic(4.0), ["Na", "Cl", "Cl"], [[0, 0, 0], [0.5] * 3, [0.05, 0, 0]]
    )
    with pytest.raises(
        ValueError, match=r"sites (0 and 2|2 and 0) are 0\.200 angstrom apart: overlapping"
    ):
        neighbor_list(overlapping, NeighborConfig())
    apart = Structure(Lattice.cubic(4.0), ["Na", "Cl", "Cl"], [[0, 0, 0], [0.5] * 3, [0.15, 0, 0]])
    assert len(neighbor_list(apart, NeighborConfig()).centers) > 0  # 0.6 angstrom is allowed


@pytest.mark.parametrize(
    "kwargs", [{"cutoff": 0}, {"max_neighbors": 0}, {"tie_tolerance": -1}, {"max_shells": 0}]
)
def test_config_rejects_bad_values(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        NeighborConfig(**kwargs)
