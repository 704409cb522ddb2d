"""A/B/X site roles of perovskite cells (and a generic fallback for any crystal).

Contract used by :mod:`sagatsr.features` and :mod:`sagatsr.graphs`; the
implementation assigns roles by chemistry and geometry, never by the order of
a formula string or of the sites.

Perovskite rules (all must hold, else one of the fallbacks below is used):

1. ``n_sites`` is a multiple of 5.
2. X species: distinct species are taken by descending Pauling
   electronegativity (ties by atomic number) until they fill at least 3/5 of
   the sites; they must fill exactly 3/5. Every X species must be
   anion-forming (:data:`ANION_OXIDATION_STATES`: H, N, O, F, S, Cl, Se, Br,
   Te, I; hydrides included, carbides / borides / pnictides beyond N are not)
   and strictly more electronegative than every cation species. This rejects
   anti-perovskites (Li3OCl, Ca3AsN: the 3/5 species is a cation) and
   intermetallics (Ni3Al-type, Ti3AlC) by chemistry alone.
3. B sites: the ``n_sites / 5`` cation sites with the shortest mean distance
   to their 6 nearest X (periodic images included); A sites: the other
   cations. Their mean 6-X distances must differ by at least
   :data:`A_B_SEPARATION` (5 %).
4. Octahedra: for every B site the 7th nearest X is at least
   :data:`OCTAHEDRAL_GAP` (1.2) times farther than the 6th, and that is the
   largest ratio between consecutive distances among the 7 nearest X (the
   coordination number is 6 by the "largest gap" rule). The ideal cubic ratio
   is sqrt(5) = 2.24; strongly tilted cells (B-X-B down to ~130 deg) pass,
   while pyramidal B (halates such as KClO3, super-tetragonal PbVO3-type
   cells with 5-fold B) do not.
5. Corner sharing: every X site is a vertex of exactly two BX6 octahedra and
   the B-X-B angle is at least :data:`MIN_BXB_ANGLE` (120 deg); this rejects
   face- and edge-sharing networks (hexagonal BaNiO3-type, ilmenite).

Roles are assigned per site, so one element may hold both cation roles
(``NiNiN3`` in Castelli: one Ni is A, the other B).

Oxidation states (perovskite): every X element takes its formal anion state
(O -2, N -3, F/Cl/Br/I -1, S/Se/Te -2, H -1). Each cation *ion* (an element on
one role) takes one positive state from pymatgen's ``oxidation_states``,
``common_oxidation_states`` and ``icsd_oxidation_states``; the assignment that
minimises the net charge is chosen, ties broken by commonness (tier 2 for a
common state, 1 for an ICSD state, 0 otherwise; then the ICSD occurrence counts
shipped in ``data/tables/icsd_oxidation_occurrence.csv``). Results are cached per
reduced (ion, count) pattern. Many hypothetical cells (about 30 % of Castelli,
e.g. ``YHgN3``) admit no charge-balanced assignment; they keep the nearest one (e.g. Ba +2, Ti +4 in
``BaTiO2N``) so the features stay defined, and ``oxidation_states.sum()`` is
then non-zero: that sum is the flag. Cation states are ``nan`` only when an
element has no positive oxidation state at all.

Coordination (perovskite): the Shannon-radius CN, 12 for A, 6 for B and 2 for X
(the two B neighbours of an X).

ABX3 fallback (``method="generic"``): a cell that passes the chemical rules
(1-2) but fails the geometric ones (3-5), e.g. the ~8 % of Castelli cells that
relaxed into layered or planar arrangements, keeps the chemical X sites and
the ABX3 oxidation states; its B site is, for a 5-site cell, the one of the
closest ideal cubic-perovskite arrangement in the cell's fractional
coordinates (B at the origin, X at the three half-axis offsets, A at the body
centre; on Castelli this recovers the intended A and B of every such cell),
and otherwise the cation sites ranked by mean 6-X distance. Coordination is
then the geometric count described below; ``reason`` starts with
``"ABX3 chemistry but not a perovskite geometry"``.

Generic fallback (any other crystal, ``method="generic"``):

* Anions (X): the elements with a negative state in pymatgen's most likely
  charge-balanced guess (``Composition.oxi_state_guesses`` on the reduced
  formula, cached, skipped above :data:`GUESS_MAX_ATOMS` atoms or
  :data:`GUESS_MAX_COMBINATIONS` state combinations); oxidation
  states come from that guess (element averages). Without such a guess, X is
  the single most electronegative species and oxidation states are ``nan``
  (intermetallics: X is then just the most electronegative metal).
* Cations: the species with the largest pymatgen ``atomic_radius`` is A (ties:
  the less electronegative), all others B; a single cation species is B.
* Elemental solids (one species, noble gases included): every site is B with
  oxidation state 0.
* Coordination: the number of counter-ion neighbours (cation-anion pairs; all
  neighbours for elemental solids) within :data:`COORDINATION_TOLERANCE` (1.2)
  times the nearest such distance.

Disordered structures are never perovskites (majority species per site).
"""

from __future__ import annotations

import csv
import functools
import itertools
import logging
import math
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pymatgen.core import Composition, Element, Structure

ROLE_A, ROLE_B, ROLE_X = 0, 1, 2
ROLE_NAMES: tuple[str, str, str] = ("A", "B", "X")


@dataclass(frozen=True)
class SiteRoles:
    """Per-site roles and chemistry of one structure.

    Attributes:
        roles: ``(n_sites,)`` int64 array of ``ROLE_A`` / ``ROLE_B`` / ``ROLE_X``.
        oxidation_states: ``(n_sites,)`` float64 array of formal oxidation
            states (elementary charges); ``nan`` where none could be assigned.
        coordination: ``(n_sites,)`` int64 array, the number of counter-ion
            neighbours used for Shannon radii (12 for A, 6 for B, 2 for X in an
            ideal perovskite; a geometric count for generic structures).
        method: ``"perovskite"`` when the cell passed the ABX3 rules,
            ``"generic"`` when roles were assigned by the fallback rule for
            arbitrary crystals (largest cations A, other cations B, anions X).
        reason: Why the perovskite rules were not met (empty when they were).
    """

    roles: np.ndarray
    oxidation_states: np.ndarray
    coordination: np.ndarray
    method: Literal["perovskite", "generic"]
    reason: str = ""

    @property
    def is_perovskite(self) -> bool:
        """Whether the structure was recognised as an ABX3 perovskite."""
        return self.method == "perovskite"


# --------------------------------------------------------------------------
# Implementation
# --------------------------------------------------------------------------

logger = logging.getLogger(__name__)

#: Anion-forming elements allowed on the perovskite X site, with the formal
#: (most common negative) oxidation state used for charge balance.
ANION_OXIDATION_STATES: dict[str, int] = {
    "H": -1,
    "N": -3,
    "O": -2,
    "F": -1,
    "S": -2,
    "Cl": -1,
    "Se": -2,
    "Br": -1,
    "Te": -2,
    "I": -1,
}

#: Coordination numbers (Shannon-radius CN) of the perovskite roles A, B, X.
PEROVSKITE_COORDINATION: tuple[int, int, int] = (12, 6, 2)

#: The 6 nearest X of every B site must be closer than the 7th by this factor.
OCTAHEDRAL_GAP = 1.2
#: The mean distance of A sites to their 6 nearest X must exceed that of B
#: sites by this factor (A and B geometrically distinct).
A_B_SEPARATION = 1.05
#: Smallest B-X-B angle (degrees) accepted as corner sharing.
MIN_BXB_ANGLE = 120.0
#: Search radius for cation-X pairs, in units of the pseudo-cubic lattice
#: parameter ``(V / n_formula_units) ** (1/3)``.
OCTAHEDRAL_SEARCH = 1.6
#: Start of ``SiteRoles.reason`` for a cell with ABX3 chemistry whose geometry
#: is not a perovskite's (the ABX3 fallback of the module docstring).
ABX3_GEOMETRY_FAILURE = "ABX3 chemistry but not a perovskite geometry"
#: Generic coordination: neighbours within this factor of the nearest one.
COORDINATION_TOLERANCE = 1.2
#: Compositions with more atoms than this (after reduction) skip pymatgen's
#: oxidation-state guess in the generic fallback (its search is exponential).
GUESS_MAX_ATOMS = 30
#: ... or need more per-element oxidation-state combinations than this (pymatgen
#: enumerates them all, ~0.1 ms each; 1.3 % of MP-20 formulas exceed 500).
GUESS_MAX_COMBINATIONS = 500


@dataclass(frozen=True)
class _ElementInfo:
    """Cached element data (Pauling electronegativity, radius in angstrom)."""

    symbol: str
    z: int
    electronegativity: float
    radius: float
    positive_states: tuple[int, ...]
    common_states: frozenset[int]
    icsd_states: frozenset[int]


@functools.cache
def _element_info(symbol: str) -> _ElementInfo:
    """Look up (once) the element data the rules need; unknown symbols get nan."""
    try:
        element = Element(symbol)
    except (ValueError, KeyError):
        return _ElementInfo(symbol, 0, math.nan, math.nan, (), frozenset(), frozenset())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen warns for elements without data
        electronegativity = float(element.X)
        radius = element.atomic_radius
        states = set(element.oxidation_states)
        common = frozenset(element.common_oxidation_states)
        icsd = frozenset(element.icsd_oxidation_states)
    states |= common | icsd
    return _ElementInfo(
        symbol=symbol,
        z=int(element.Z),
        electronegativity=electronegativity,
        radius=math.nan if radius is None else float(radius),
        positive_states=tuple(sorted(q for q in states if q > 0)),
        common_states=common,
        icsd_states=icsd,
    )


#: ICSD occurrence counts of (element, oxidation state), shipped with the package (the
#: table pymatgen keeps in a data file whose place changes between its versions).
ICSD_OCCURRENCE_TABLE = Path(__file__).parent / "tables" / "icsd_oxidation_occurrence.csv"


@functools.lru_cache(maxsize=1)
def _icsd_occurrence() -> dict[tuple[str, int], int]:
    """ICSD occurrence counts of ``(element, oxidation state)`` (:data:`ICSD_OCCURRENCE_TABLE`)."""
    out: dict[tuple[str, int], int] = {}
    with open(ICSD_OCCURRENCE_TABLE, encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        for row in rows:
            out[(row["element"], int(row["oxidation_state"]))] = int(row["count"])
    return out


def _state_score(symbol: str, state: int) -> tuple[int, int]:
    """Commonness of an oxidation state: (tier, ICSD count), larger is likelier.

    Tier 2: pymatgen ``common_oxidation_states``; 1: ``icsd_oxidation_states``; 0: other.
    """
    info = _element_info(symbol)
    tier = 2 if state in info.common_states else 1 if state in info.icsd_states else 0
    return tier, _icsd_occurrence().get((symbol, state), 0)


@functools.lru_cache(maxsize=65536)
def _cation_states(ions: tuple[tuple[str, int], ...], anion_charge: int) -> tuple[int, ...] | None:
    """Choose one positive oxidation state per cation ion.

    Args:
        ions: ``(element, number of sites)`` per cation ion (an element on one role).
        anion_charge: Total formal charge of the X sites (elementary charges, < 0).

    Returns:
        One state per ion minimising the net charge ``|sum(n q) + anion_charge|``
        (zero when charge balance is possible), then maximising commonness;
        ``None`` when some ion has no positive oxidation state at all.
    """
    candidates = [_element_info(symbol).positive_states for symbol, _ in ions]
    if any(len(c) == 0 for c in candidates):
        return None
    best_key: tuple[int, int, int] | None = None
    best: tuple[int, ...] | None = None
    for combo in itertools.product(*candidates):
        net = abs(anion_charge + sum(q * n for q, (_, n) in zip(combo, ions, strict=True)))
        scores = [_state_score(s, q) for q, (s, _) in zip(combo, ions, strict=True)]
        key = (-net, sum(t for t, _ in scores), sum(c for _, c in scores))
        if best_key is None or key > best_key:
            best_key, best = key, combo
    return best


def _site_symbols(structure: Structure) -> list[str]:
    """Element symbol of every site (majority species on a disordered site)."""
    symbols = []
    for site in structure:
        species = max(site.species.items(), key=lambda kv: kv[1])[0]
        symbols.append(str(getattr(species, "symbol", species)))
    return symbols


def _electronegativity_order(symbols: Sequence[str]) -> list[str]:
    """Distinct species by descending Pauling electronegativity (unknown last, ties by Z)."""

    def key(symbol: str) -> tuple[float, int]:
        info = _element_info(symbol)
        en = info.electronegativity
        return (-en if not math.isnan(en) else math.inf, info.z)

    return sorted(set(symbols), key=key)


def _choose_x_species(symbols: Sequence[str]) -> tuple[list[str], str]:
    """Apply the chemical perovskite rules; return ``(X species, "")`` or ``([], reason)``."""
    n_sites = len(symbols)
    if n_sites == 0 or n_sites % 5:
        return [], f"{n_sites} sites is not a multiple of 5"
    counts = Counter(symbols)
    n_x = 3 * n_sites // 5
    x_species: list[str] = []
    steps: list[str] = []
    filled = 0
    for symbol in _electronegativity_order(symbols):
        if filled >= n_x:
            break
        x_species.append(symbol)
        filled += counts[symbol]
        steps.append(f"{'+'.join(x_species)}: {filled}")
    if filled != n_x:
        return [], (
            f"no set of most electronegative species fills exactly 3/5 = {n_x} of the "
            f"{n_sites} sites ({'; '.join(steps)})"
        )
    not_anions = [s for s in x_species if s not in ANION_OXIDATION_STATES]
    if not_anions:
        return [], f"X candidates {', '.join(not_anions)} are not anion-forming elements"
    cations = sorted(set(symbols) - set(x_species))
    cation_en = {s: _element_info(s).electronegativity for s in cations}
    unknown = [s for s, en in cation_en.items() if math.isnan(en)]
    if unknown:
        return [], f"cation species {', '.join(unknown)} have no Pauling electronegativity"
    x_min = min(x_species, key=lambda s: _element_info(s).electronegativity)
    c_max = max(cations, key=lambda s: cation_en[s])
    if _element_info(x_min).electronegativity <= cation_en[c_max]:
        return [], f"X species {x_min} is not more electronegative than cation {c_max}"
    return x_species, ""


@dataclass(frozen=True)
class _Geometry:
    """Outcome of the octahedral analysis (site indices into the structure).

    ``b_sites`` / ``a_sites`` hold the ranking by mean 6-X distance even when
    ``reason`` says the geometry is not a perovskite (empty if not computable).
    """

    b_sites: np.ndarray
    a_sites: np.ndarray
    reason: str


def _bxb_check(
    frac: np.ndarray, matrix: np.ndarray, x_sites: np.ndarray, octahedra: list[np.ndarray]
) -> str:
    """Check that every X is a vertex of two BX6 octahedra at a wide B-X-B angle.

    Args:
        frac: ``(n_sites, 3)`` fractional coordinates.
        matrix: ``(3, 3)`` lattice vectors as rows, angstrom.
        x_sites: Indices of the X sites.
        octahedra: Per B site a ``(6, 5)`` array ``[b, x, image_a, image_b, image_c]``
            of its 6 nearest X (periodic image of x).

    Returns:
        ``""`` when corner sharing holds, else the reason.
    """
    x_to_b: dict[int, list[np.ndarray]] = {int(i): [] for i in x_sites}
    for octahedron in octahedra:
        for row in octahedron:
            b, x, image = int(row[0]), int(row[1]), row[2:]
            x_to_b[x].append((frac[b] - frac[x] - image) @ matrix)  # X -> B, angstrom
    for x_site, vectors in x_to_b.items():
        if len(vectors) != 2:
            return f"X site {x_site} is a vertex of {len(vectors)} BX6 octahedra, not 2"
        v1, v2 = vectors
        cosine = float(v1 @ v2 / (np.linalg.norm(v1) * np.linalg.norm(v2)))
        angle = math.degrees(math.acos(min(1.0, max(-1.0, cosine))))
        if angle < MIN_BXB_ANGLE:
            return (
                f"BX6 octahedra are not corner-sharing (B-X-B angle {angle:.0f} deg at "
                f"site {x_site})"
            )
    return ""


def _octahedral_geometry(structure: Structure, is_x: np.ndarray) -> _Geometry:
    """Find the B sites and check the corner-sharing BX6 network.

    Args:
        structure: The cell, ``n_sites`` sites (a multiple of 5).
        is_x: ``(n_sites,)`` bool mask of the X sites (3/5 of the sites).

    Returns:
        The B / A sites and ``reason == ""`` when the geometry is a perovskite's.
    """
    n_sites = len(structure)
    cation_sites = np.flatnonzero(~is_x)
    a_pc = (structure.volume / (n_sites / 5)) ** (1.0 / 3.0)  # pseudo-cubic a, angstrom
    centers, points, images, dists = structure.get_neighbor_list(OCTAHEDRAL_SEARCH * a_pc)
    keep = ~is_x[centers] & is_x[points]
    order = np.lexsort((dists[keep], centers[keep]))
    centers, points = centers[keep][order], points[keep][order]
    images, dists = images[keep][order], dists[keep][order]
    starts = np.searchsorted(centers, cation_sites, side="left")
    found = np.searchsorted(centers, cation_sites, side="right") - starts
    mean6 = np.array(
        [
            dists[s : s + 6].mean() if k >= 6 else math.inf
            for s, k in zip(starts, found, strict=True)
        ]
    )
    n_b = n_sites // 5
    ranked = np.argsort(mean6, kind="stable")
    b_local, a_local = ranked[:n_b], ranked[n_b:]
    b_sites, a_sites = cation_sites[b_local], cation_sites[a_local]

    def fail(reason: str) -> _Geometry:
        return _Geometry(b_sites, a_sites, reason)

    if np.any(found < 6):
        return fail(f"cation site {int(cation_sites[np.argmax(found < 6)])} has < 6 X neighbours")
    d_b, d_a = mean6[b_local].max(), mean6[a_local].min()
    if d_a < A_B_SEPARATION * d_b:
        return fail(
            f"A and B sites are not geometrically distinct (mean 6-X distance {d_b:.2f} "
            f"vs {d_a:.2f} angstrom)"
        )
    octahedra = []
    for local in b_local:
        start = starts[local]
        d6 = dists[start + 5]
        d7 = dists[start + 6] if found[local] > 6 else math.inf
        inner_gap = float(np.max(dists[start + 1 : start + 6] / dists[start : start + 5]))
        if d7 < OCTAHEDRAL_GAP * d6 or d7 / d6 <= inner_gap:
            return fail(
                f"B site {int(cation_sites[local])} is not octahedral (7th X at {d7:.2f}, "
                f"6th at {d6:.2f} angstrom, largest gap within the 6 nearest x{inner_gap:.2f})"
            )
        rows = slice(start, start + 6)
        octahedra.append(np.column_stack([centers[rows], points[rows], images[rows]]))
    reason = _bxb_check(
        structure.frac_coords, structure.lattice.matrix, np.flatnonzero(is_x), octahedra
    )
    return fail(reason) if reason else _Geometry(b_sites, a_sites, "")


def _prototype_b_site(frac: np.ndarray, is_x: np.ndarray) -> tuple[int, int]:
    """B and A of a 5-site cell from the closest ideal cubic-perovskite arrangement.

    Tries both cations as B and every assignment of the 3 X to the 3 half-axis
    offsets ``(1/2, 0, 0)``, ``(0, 1/2, 0)``, ``(0, 0, 1/2)`` (A at
    ``(1/2, 1/2, 1/2)``), all relative to B in fractional coordinates of the
    cell, and keeps the one with the smallest largest deviation.

    Args:
        frac: ``(5, 3)`` fractional coordinates.
        is_x: ``(5,)`` bool mask of the X sites.

    Returns:
        ``(b_site, a_site)`` indices.
    """
    x_sites = np.flatnonzero(is_x)
    cations = [int(i) for i in np.flatnonzero(~is_x)]
    best = (math.inf, cations[0], cations[1])
    for b in cations:
        a = cations[1] if b == cations[0] else cations[0]
        to_a = frac[a] - frac[b] - 0.5
        a_dev = float(np.abs(to_a - np.round(to_a)).max())
        to_x = frac[x_sites] - frac[b]  # (3, 3)
        for axes in itertools.permutations(range(3)):
            ideal = np.zeros((3, 3))
            ideal[np.arange(3), axes] = 0.5
            delta = to_x - ideal
            deviation = max(a_dev, float(np.abs(delta - np.round(delta)).max()))
            if deviation < best[0]:
                best = (deviation, b, a)
    return best[1], best[2]


def _abx3_oxidation_states(
    symbols: list[str], roles: np.ndarray, x_species: Sequence[str]
) -> np.ndarray:
    """Formal oxidation states of an ABX3 cell (module docstring), ``(n_sites,)``."""
    symbol_array = np.array(symbols)
    oxidation = np.full(len(symbols), math.nan)
    anion_charge = 0
    for symbol in x_species:
        mask = symbol_array == symbol
        oxidation[mask] = ANION_OXIDATION_STATES[symbol]
        anion_charge += ANION_OXIDATION_STATES[symbol] * int(mask.sum())
    ion_counts = Counter((s, int(r)) for s, r in zip(symbols, roles, strict=True) if r != ROLE_X)
    ions = sorted(ion_counts)
    divisor = math.gcd(anion_charge, *ion_counts.values())
    pattern = tuple((s, ion_counts[(s, r)] // divisor) for s, r in ions)
    states = _cation_states(pattern, anion_charge // divisor)
    if states is None:
        return oxidation
    for (symbol, role), state in zip(ions, states, strict=True):
        oxidation[(symbol_array == symbol) & (roles == role)] = state
    if oxidation.sum():
        logger.debug("no charge-balanced assignment for %s (net %+g)", pattern, oxidation.sum())
    return oxidation


def _abx3_roles(structure: Structure, symbols: list[str], x_species: list[str]) -> SiteRoles:
    """Roles of a cell that passed the chemical ABX3 rules (perovskite or not)."""
    n_sites = len(symbols)
    is_x = np.isin(np.array(symbols), x_species)
    geometry = _octahedral_geometry(structure, is_x)
    roles = np.full(n_sites, ROLE_X, dtype=np.int64)
    if not geometry.reason:
        roles[geometry.a_sites] = ROLE_A
        roles[geometry.b_sites] = ROLE_B
        oxidation = _abx3_oxidation_states(symbols, roles, x_species)
        coordination = np.asarray(PEROVSKITE_COORDINATION, dtype=np.int64)[roles]
        return SiteRoles(roles, oxidation, coordination, "perovskite", "")
    if n_sites == 5:
        b_site, a_site = _prototype_b_site(structure.frac_coords, is_x)
        roles[a_site], roles[b_site] = ROLE_A, ROLE_B
    else:
        roles[geometry.a_sites] = ROLE_A
        roles[geometry.b_sites] = ROLE_B
    oxidation = _abx3_oxidation_states(symbols, roles, x_species)
    coordination = _geometric_coordination(structure, is_x)
    reason = f"{ABX3_GEOMETRY_FAILURE}: {geometry.reason}"
    return SiteRoles(roles, oxidation, coordination, "generic", reason)


@functools.lru_cache(maxsize=65536)
def _guess_oxidation_states(formula: str) -> tuple[tuple[str, float], ...] | None:
    """The most likely (pymatgen) charge-balanced oxidation states of a reduced formula."""
    composition = Composition(formula)
    if composition.num_atoms > GUESS_MAX_ATOMS:
        return None
    combinations = 0
    for element, amount in composition.items():
        info = _element_info(element.symbol)
        n_states = len(info.icsd_states or info.common_states)
        combinations += math.comb(n_states + int(amount) - 1, int(amount))
    if combinations > GUESS_MAX_COMBINATIONS:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        guesses = composition.oxi_state_guesses()
    return tuple(sorted(guesses[0].items())) if guesses else None


def _geometric_coordination(structure: Structure, is_anion: np.ndarray | None) -> np.ndarray:
    """Neighbours within ``COORDINATION_TOLERANCE`` x the nearest one, per site.

    Args:
        structure: The cell.
        is_anion: ``(n_sites,)`` bool; when given (and both kinds are present),
            only counter-ions are counted (cation-anion pairs); else all sites.

    Returns:
        ``(n_sites,)`` int64 counts (0 for a site with no neighbour found).
    """
    n_sites = len(structure)
    radius = 2.0 * (structure.volume / n_sites) ** (1.0 / 3.0)
    counter = is_anion is not None and 0 < int(is_anion.sum()) < n_sites
    for _attempt in range(4):
        centers, points, _, dists = structure.get_neighbor_list(radius)
        if counter:
            keep = is_anion[centers] != is_anion[points]
            centers, dists = centers[keep], dists[keep]
        nearest = np.full(n_sites, math.inf)
        np.minimum.at(nearest, centers, dists)
        if np.all(COORDINATION_TOLERANCE * nearest <= radius):
            break
        radius *= 2.0
    within = dists <= COORDINATION_TOLERANCE * nearest[centers] + 1e-6
    return np.bincount(centers[within], minlength=n_sites).astype(np.int64)


def _generic_roles(structure: Structure, symbols: list[str], reason: str) -> SiteRoles:
    """Fallback roles for a crystal that is not ABX3 (see the module docstring)."""
    n_sites = len(symbols)
    if n_sites == 0:
        empty = np.zeros(0, dtype=np.int64)
        return SiteRoles(empty, np.zeros(0), empty, "generic", reason)
    symbol_array = np.array(symbols)
    roles = np.full(n_sites, ROLE_B, dtype=np.int64)
    oxidation = np.full(n_sites, math.nan)
    species = sorted(set(symbols))
    if len(species) == 1:
        oxidation[:] = 0.0
        coordination = _geometric_coordination(structure, None)
        return SiteRoles(roles, oxidation, coordination, "generic", reason)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen warns while sorting noble gases
        formula = Composition(dict(Counter(symbols))).reduced_formula
    guess = dict(_guess_oxidation_states(formula) or ())
    if any(v < 0 for v in guess.values()) and any(v > 0 for v in guess.values()):
        anions = {s for s in species if guess.get(s, 0.0) < 0}
        for symbol in species:
            oxidation[symbol_array == symbol] = guess.get(symbol, math.nan)
    else:
        anions = {_electronegativity_order(symbols)[0]}
    cations = [s for s in species if s not in anions]
    if len(cations) > 1:

        def size(symbol: str) -> tuple[float, float, int]:
            info = _element_info(symbol)
            radius = -math.inf if math.isnan(info.radius) else info.radius
            en = math.inf if math.isnan(info.electronegativity) else info.electronegativity
            return (radius, -en, -info.z)

        roles[symbol_array == max(cations, key=size)] = ROLE_A
    is_anion = np.isin(symbol_array, sorted(anions))
    roles[is_anion] = ROLE_X
    coordination = _geometric_coordination(structure, is_anion)
    return SiteRoles(roles, oxidation, coordination, "generic", reason)


def assign_roles(structure: Structure) -> SiteRoles:
    """Assign A/B/X roles, formal oxidation states and coordination to every site.

    The perovskite rules (module docstring) are tried first; when they fail one
    of the fallbacks is used (``method="generic"``) and ``reason`` says why.
    Never depends on site order or formula order.

    Args:
        structure: Any periodic structure (``n_sites`` >= 0; disordered sites are
            treated as their majority species and never count as perovskite).

    Returns:
        The :class:`SiteRoles` of the structure, arrays of shape ``(n_sites,)``.
    """
    symbols = _site_symbols(structure)
    if not structure.is_ordered:
        return _generic_roles(structure, symbols, "structure is disordered (partial occupancies)")
    x_species, reason = _choose_x_species(symbols)
    if reason:
        return _generic_roles(structure, symbols, reason)
    return _abx3_roles(structure, symbols, x_species)
