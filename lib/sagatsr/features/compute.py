"""Compute the catalog's node and global features of one structure (pure functions).

Everything is vectorized over sites and neighbour pairs; the elemental values
come from the shipped tables (:func:`~sagatsr.features.elements.element_table`).
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass

import numpy as np
from pymatgen.core import Structure
from pymatgen.core.units import Length, Mass

from sagatsr.data.roles import ROLE_A, ROLE_B, ROLE_X, SiteRoles, assign_roles
from sagatsr.features.catalog import (
    CHEMICAL_NODE_FEATURES,
    GLOBAL_FEATURES,
    KEY_PROPERTIES,
    PAIRS,
    RADIUS_RATIO_PROPERTIES,
    ROLES,
)
from sagatsr.features.elements import element_table
from sagatsr.features.radii import shannon_radius

#: ``(centers, neighbors, images, distances)`` of all pairs within a cutoff, as
#: returned by :func:`sagatsr.graphs.neighbors.raw_neighbor_list`.
RawNeighbors = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

#: Radius (angstrom) of the neighbour search when no neighbour list is given.
DEFAULT_SEARCH_RADIUS = 8.0
#: First shell: neighbours within this factor of the nearest distance.
FIRST_SHELL_TOLERANCE = 1.2

_CHEMICAL_NAMES = [spec.name for spec in CHEMICAL_NODE_FEATURES]
_GLOBAL_NAMES = [spec.name for spec in GLOBAL_FEATURES]
_ROLE_CODES = {"A": ROLE_A, "B": ROLE_B, "X": ROLE_X}
#: Shannon coordination used by the tolerance and tau factors per role.
_FACTOR_COORDINATION = {"A": 12, "B": 6, "X": 6}


class UnsupportedElementError(ValueError):
    """A structure holds an element without feature data."""


def unsupported_elements(structure: Structure) -> list[str]:
    """Species of ``structure`` that the feature tables do not cover.

    Args:
        structure: Any structure (disordered sites included).

    Returns:
        Sorted symbols without feature data (empty when all are covered);
        dummy species and elements beyond plutonium are unsupported.
    """
    table = element_table()
    symbols = {str(getattr(sp, "symbol", sp)) for site in structure for sp in site.species}
    return sorted(s for s in symbols if not table.supports(s))


@dataclass(frozen=True)
class _Pairs:
    """Neighbour pairs sorted by centre then distance, with vectors (angstrom)."""

    centers: np.ndarray
    neighbors: np.ndarray
    distances: np.ndarray
    vectors: np.ndarray
    starts: np.ndarray
    counts: np.ndarray


def _sorted_pairs(structure: Structure, neighbors: RawNeighbors | None) -> _Pairs:
    if neighbors is None:
        raw = structure.get_neighbor_list(DEFAULT_SEARCH_RADIUS)
        neighbors = tuple(np.asarray(a) for a in raw)  # type: ignore[assignment]
    centers, points, images, distances = neighbors
    centers = np.asarray(centers, dtype=np.int64)
    points = np.asarray(points, dtype=np.int64)
    order = np.lexsort((points, distances, centers))
    centers, points, distances = centers[order], points[order], np.asarray(distances)[order]
    images = np.asarray(images, dtype=np.float64).reshape(-1, 3)[order]
    frac = structure.frac_coords
    vectors = (frac[points] + images - frac[centers]) @ structure.lattice.matrix
    counts = np.bincount(centers, minlength=len(structure))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    return _Pairs(centers, points, distances, vectors, starts, counts)


def _first_k(pairs: _Pairs, mask: np.ndarray, k: int) -> np.ndarray:
    """Indices into ``pairs`` of the ``k`` nearest selected pairs of each centre."""
    selected = np.flatnonzero(mask)
    if selected.size == 0:
        return selected
    centers = pairs.centers[selected]
    first = np.searchsorted(centers, centers, side="left")
    rank = np.arange(selected.size) - first
    return selected[rank < k]


def _chemical_matrix(z: np.ndarray, roles: SiteRoles) -> np.ndarray:
    """``(n, len(CHEMICAL_NODE_FEATURES))``: elemental properties then site chemistry."""
    table = element_table()
    elemental = table.values[z]
    oxidation = np.asarray(roles.oxidation_states, dtype=np.float64)
    coordination = np.asarray(roles.coordination, dtype=np.int64)
    shannon = np.array(
        [
            shannon_radius(int(zi), float(q), int(cn))
            for zi, q, cn in zip(z, oxidation, coordination, strict=True)
        ]
    )
    return np.column_stack([elemental, oxidation, coordination.astype(np.float64), shannon])


def _local_geometry(pairs: _Pairs, electronegativity: np.ndarray, n: int) -> np.ndarray:
    """``(n, 3)``: nearest distance, mean of 6 nearest, first-shell |delta chi|."""
    out = np.full((n, 3), np.nan)
    has = pairs.counts > 0
    nearest = np.full(n, np.nan)
    nearest[has] = pairs.distances[pairs.starts[has]]
    out[:, 0] = nearest
    six = _first_k(pairs, np.ones(pairs.centers.size, dtype=bool), 6)
    sums = np.bincount(pairs.centers[six], weights=pairs.distances[six], minlength=n)
    counts = np.bincount(pairs.centers[six], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[:, 1] = sums / counts
    shell = pairs.distances <= FIRST_SHELL_TOLERANCE * nearest[pairs.centers] + 1e-6
    delta = np.abs(electronegativity[pairs.centers] - electronegativity[pairs.neighbors])
    total = np.bincount(pairs.centers[shell], weights=delta[shell], minlength=n)
    number = np.bincount(pairs.centers[shell], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[:, 2] = total / number
    return out


def _mean(values: np.ndarray) -> float:
    """``float(values.mean())`` of a non-empty 1-D float64 array, bit for bit.

    The same reduction numpy's ``mean`` runs (``np.add.reduce``, then one
    division), without its Python-level bookkeeping: about 10 microseconds a call,
    and a graph takes about 40 such statistics over arrays of a few values.
    """
    return float(np.add.reduce(values) / values.size)


def _std(values: np.ndarray) -> float:
    """``float(values.std())`` (population) of a non-empty 1-D float64 array, bit for bit.

    numpy's ``var``: the mean as in :func:`_mean`, the squared deviations summed by
    ``np.add.reduce`` and divided by the count; then a correctly rounded square root.
    """
    deviation = values - np.add.reduce(values) / values.size
    return math.sqrt(np.add.reduce(deviation * deviation) / values.size)


def _nanmean(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return _mean(values) if values.size else math.nan


def _nanstd(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return _std(values) if values.size else math.nan


def _divide(a: float, b: float) -> float:
    return a / b if b != 0.0 and math.isfinite(a) and math.isfinite(b) else math.nan


def _bonds(
    pairs: _Pairs, roles: np.ndarray, center_role: int, other_role: int, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Distances and pair indices of the ``k`` nearest ``other_role`` neighbours per centre."""
    mask = (roles[pairs.centers] == center_role) & (roles[pairs.neighbors] == other_role)
    index = _first_k(pairs, mask, k)
    return pairs.distances[index], index


def _bxb_angles(pairs: _Pairs, roles: np.ndarray) -> np.ndarray:
    """B-X-B angle (deg) at every X site with at least two B neighbours."""
    _, index = _bonds(pairs, roles, ROLE_X, ROLE_B, 2)
    if index.size == 0:
        return np.zeros(0)
    centers = pairs.centers[index]
    first = np.searchsorted(centers, centers, side="left")
    rank = np.arange(index.size) - first
    pairs_first = index[rank == 0]
    pairs_second = index[rank == 1]
    owners_first = pairs.centers[pairs_first]
    owners_second = pairs.centers[pairs_second]
    keep = np.isin(owners_first, owners_second)
    v1 = pairs.vectors[pairs_first[keep]]
    v2 = pairs.vectors[pairs_second]
    cosine = np.einsum("ij,ij->i", v1, v2) / (
        np.linalg.norm(v1, axis=1) * np.linalg.norm(v2, axis=1)
    )
    return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))


@functools.cache
def _grams_per_amu_and_cm3_per_cubic_angstrom() -> tuple[float, float]:
    return float(Mass(1, "amu").to("g")), float(Length(1, "ang").to("cm") ** 3)


@functools.cache
def _atomic_mass(element: object) -> float:
    return float(element.atomic_mass)  # type: ignore[attr-defined]


def _density(structure: Structure) -> float:
    """Mass density (g/cm^3).

    pymatgen's ``Structure.density``, bit for bit, without its unit objects (they
    took a quarter of a graph's build time).
    """
    grams_per_amu, cm3_per_cubic_angstrom = _grams_per_amu_and_cm3_per_cubic_angstrom()
    composition = structure.composition
    weight = sum(amount * _atomic_mass(element) for element, amount in composition.items())
    return (weight * grams_per_amu) / (structure.volume * cm3_per_cubic_angstrom)


def _structural(
    structure: Structure,
    roles: np.ndarray,
    chem: np.ndarray,
    role_means: dict[str, dict[str, float]],
    pairs: _Pairs,
    z: np.ndarray,
) -> dict[str, float]:
    n = len(structure)
    out: dict[str, float] = {"n_sites": float(n)}
    volume = float(structure.volume)
    out["volume_per_atom"] = volume / n
    out["density"] = _density(structure)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reduced = structure.lattice.get_niggli_reduced_lattice()
    lengths = sorted(float(x) for x in reduced.abc)
    out["lattice_a"], out["lattice_b"], out["lattice_c"] = lengths
    out["lattice_alpha"], out["lattice_beta"], out["lattice_gamma"] = (
        float(x) for x in reduced.angles
    )
    out["b_over_a"] = lengths[1] / lengths[0]
    out["c_over_a"] = lengths[2] / lengths[0]
    pseudocubic = (volume / (n / 5.0)) ** (1.0 / 3.0)
    out["pseudocubic_a"] = pseudocubic
    radii = element_table().column("atomic_radius")[z]
    out["packing_fraction"] = float((4.0 / 3.0) * math.pi * np.sum(radii**3) / volume)

    factor_radius = {}
    for role in ROLES:
        mask = roles == _ROLE_CODES[role]
        values = [
            shannon_radius(int(zi), float(q), _FACTOR_COORDINATION[role])
            for zi, q in zip(
                z[mask], chem[mask, _CHEMICAL_NAMES.index("oxidation_state")], strict=True
            )
        ]
        factor_radius[role] = _nanmean(np.asarray(values, dtype=np.float64))
    r_a, r_b, r_x = factor_radius["A"], factor_radius["B"], factor_radius["X"]
    tolerance = _divide(r_a + r_x, math.sqrt(2.0) * (r_b + r_x))
    octahedral = _divide(r_b, r_x)
    out["tolerance_factor"] = tolerance
    out["octahedral_factor"] = octahedral
    out["mu_over_t"] = _divide(octahedral, tolerance)
    n_a = role_means["A"]["oxidation_state"]
    ratio = _divide(r_a, r_b)
    if math.isfinite(ratio) and ratio > 0 and ratio != 1.0 and math.isfinite(n_a):
        out["tau_factor"] = _divide(r_x, r_b) - n_a * (n_a - ratio / math.log(ratio))
    else:
        out["tau_factor"] = math.nan

    bx, bx_index = _bonds(pairs, roles, ROLE_B, ROLE_X, 6)
    if bx.size:
        out["bx_bond_mean"] = _mean(bx)
        out["bx_bond_std"] = _std(bx)
        out["bx_bond_min"] = float(bx.min())
        out["bx_bond_max"] = float(bx.max())
        owners = pairs.centers[bx_index]
        per_b_mean = np.bincount(owners, weights=bx, minlength=n) / np.maximum(
            np.bincount(owners, minlength=n), 1
        )
        deviation = np.abs(bx - per_b_mean[owners]) / per_b_mean[owners]
        out["bond_length_distortion"] = _mean(deviation)
        out["bx_bond_relative"] = out["bx_bond_mean"] / (pseudocubic / 2.0)
    else:
        for name in (
            "bx_bond_mean",
            "bx_bond_std",
            "bx_bond_min",
            "bx_bond_max",
            "bond_length_distortion",
            "bx_bond_relative",
        ):
            out[name] = math.nan
    angles = _bxb_angles(pairs, roles)
    if angles.size:
        mean_angle = _mean(angles)
        out["bxb_angle_mean"] = mean_angle
        out["bxb_angle_min"] = float(angles.min())
        out["bxb_angle_std"] = _std(angles)
        out["cos_bxb_angle"] = math.cos(math.radians(mean_angle))
        out["octahedral_tilt"] = (180.0 - mean_angle) / 2.0
    else:
        for name in (
            "bxb_angle_mean",
            "bxb_angle_min",
            "bxb_angle_std",
            "cos_bxb_angle",
            "octahedral_tilt",
        ):
            out[name] = math.nan
    ax, _ = _bonds(pairs, roles, ROLE_A, ROLE_X, 12)
    out["ax_distance_mean"] = _mean(ax) if ax.size else math.nan
    out["ax_distance_std"] = _std(ax) if ax.size else math.nan
    out["ax_distance_min"] = float(ax.min()) if ax.size else math.nan

    oxidation = chem[:, _CHEMICAL_NAMES.index("oxidation_state")]
    out["charge_imbalance"] = (
        float(oxidation.sum() / n) if np.isfinite(oxidation).all() else math.nan
    )
    chi = {role: role_means[role]["electronegativity_pauling"] for role in ROLES}
    out["ionic_character_ax"] = 1.0 - math.exp(-((chi["A"] - chi["X"]) ** 2) / 4.0)
    out["ionic_character_bx"] = 1.0 - math.exp(-((chi["B"] - chi["X"]) ** 2) / 4.0)
    has = pairs.counts > 0
    out["mean_nn_distance"] = _mean(pairs.distances[pairs.starts[has]]) if has.any() else math.nan
    out["n_x_species"] = float(len(set(z[roles == ROLE_X].tolist())))
    return out


def featurize(
    structure: Structure,
    roles: SiteRoles | None = None,
    *,
    neighbors: RawNeighbors | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Node and global features of one structure, in catalog order.

    Args:
        structure: Ordered structure with ``n`` sites.
        roles: Its site roles; assigned with :func:`assign_roles` when ``None``.
        neighbors: All neighbour pairs within a cutoff of at least the 12th
            neighbour distance (``(centers, neighbors, images, distances)``);
            searched within :data:`DEFAULT_SEARCH_RADIUS` when ``None``.

    Returns:
        ``(node, global)``: ``(n, len(NODE_FEATURES))`` and
        ``(len(GLOBAL_FEATURES),)`` float64 arrays in the units of the catalog.

    Raises:
        UnsupportedElementError: If an element has no feature data.
        ValueError: If ``structure`` is disordered.
    """
    if not structure.is_ordered:
        raise ValueError("cannot featurize a disordered structure (partial occupancies)")
    missing = unsupported_elements(structure)
    if missing:
        raise UnsupportedElementError(f"no feature data for element(s) {', '.join(missing)}")
    if roles is None:
        roles = assign_roles(structure)
    n = len(structure)
    z = np.fromiter((site.specie.Z for site in structure), np.int64, n)
    role_codes = np.asarray(roles.roles, dtype=np.int64)
    pairs = _sorted_pairs(structure, neighbors)

    chem = _chemical_matrix(z, roles)
    indicators = np.stack([(role_codes == _ROLE_CODES[r]).astype(np.float64) for r in ROLES], 1)
    electronegativity = element_table().column("electronegativity_pauling")[z]
    node = np.column_stack([chem, indicators, _local_geometry(pairs, electronegativity, n)])

    values: dict[str, float] = {}
    role_means: dict[str, dict[str, float]] = {}
    for role in ROLES:
        mask = role_codes == _ROLE_CODES[role]
        means = chem[mask].mean(axis=0) if mask.any() else np.full(chem.shape[1], np.nan)
        role_means[role] = dict(zip(_CHEMICAL_NAMES, means.tolist(), strict=True))
        for name, value in role_means[role].items():
            values[f"{role}_{name}"] = value
    x_mask = role_codes == ROLE_X
    for name in KEY_PROPERTIES:
        column = chem[:, _CHEMICAL_NAMES.index(name)]
        values[f"X_{name}_std"] = _nanstd(column[x_mask]) if x_mask.any() else math.nan
        values[f"mean_{name}"] = _nanmean(column)
        values[f"std_{name}"] = _nanstd(column)
        for a, b in PAIRS:
            values[f"delta_{a}{b}_{name}"] = role_means[a][name] - role_means[b][name]
    for a, b in (("A", "X"), ("B", "X"), ("A", "B")):
        for name in RADIUS_RATIO_PROPERTIES:
            values[f"ratio_{a}{b}_{name}"] = _divide(role_means[a][name], role_means[b][name])
    values.update(_structural(structure, role_codes, chem, role_means, pairs, z))
    global_vector = np.array([values[name] for name in _GLOBAL_NAMES], dtype=np.float64)
    return node, global_vector


def node_feature_matrix(
    structure: Structure, roles: SiteRoles | None = None, *, neighbors: RawNeighbors | None = None
) -> np.ndarray:
    """``(n, len(NODE_FEATURES))`` node features (see :func:`featurize`)."""
    return featurize(structure, roles, neighbors=neighbors)[0]


def global_feature_vector(
    structure: Structure, roles: SiteRoles | None = None, *, neighbors: RawNeighbors | None = None
) -> np.ndarray:
    """``(len(GLOBAL_FEATURES),)`` global features (see :func:`featurize`)."""
    return featurize(structure, roles, neighbors=neighbors)[1]
