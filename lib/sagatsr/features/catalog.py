"""Feature catalog: every scalar feature the model can see, with unit and source.

Contract shared by the featurizer (:mod:`sagatsr.features.compute`, which
computes the values in catalog order) and the model / interpretation code
(which names importance coefficients).

Node features (one value per site, :data:`NODE_FEATURES`):

* the elemental properties of :data:`~sagatsr.features.elements.ELEMENT_PROPERTIES`;
* the site's chemistry: formal oxidation state, coordination number and the
  Shannon ionic radius for both (from :func:`~sagatsr.data.roles.assign_roles`);
* the site's role (indicators for A, B, X);
* local geometry: nearest-neighbour distance, mean distance to the 6 nearest
  neighbours, mean electronegativity difference to the first shell.

Global features (one value per structure, :data:`GLOBAL_FEATURES`):

* per role A, B, X: the mean over the role's sites of every chemical node feature;
* the spread (standard deviation) over X sites of the key properties (mixed anions);
* A-B, B-X, A-X differences of the key properties and ratios of radii;
* composition-wide mean and standard deviation over all sites of the key properties;
* structure: cell, density, packing, tolerance / octahedral / tau factors,
  B-X bond lengths and distortion, B-X-B angles and octahedral tilt, A-X
  distances, charge imbalance, ionic character.

Not-applicable values (no A site in a binary compound, no B-X-B angle without
two B neighbours) are ``nan``: the model gives them zero importance for that
item and symbolic regression drops them; they are never silently replaced.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import pandas as pd

from sagatsr.features.elements import ELEMENT_PROPERTIES

FeatureLevel = Literal["node", "global"]


@dataclass(frozen=True)
class FeatureSpec:
    """One named scalar feature.

    Attributes:
        name: Unique machine name, e.g. ``"B_ionization_energy_1"``.
        label: Human-readable name, e.g. ``"B-site first ionization energy"``.
        unit: Physical unit (``"eV"``, ``"angstrom"``, ``"g/cm^3"``, ``"1"``
            for dimensionless).
        source: Where the value comes from, e.g. ``"pymatgen Element.X
            (Pauling)"``, ``"mendeleev"``, ``"computed from structure"``.
        level: ``"node"`` (one value per site) or ``"global"`` (per structure).
        site: Site role the value describes (``"A"``, ``"B"``, ``"X"``, a pair
            such as ``"B-X"``, or ``""`` for node and structure-wide features).
        base: The per-site property the feature is derived from (e.g.
            ``"electron_affinity"`` for ``B_electron_affinity`` and
            ``delta_BX_electron_affinity``); the feature's own name for
            features not derived from a per-site property (structure, geometry).
        operation: How it is derived: ``"site"`` (a node feature),
            ``"role_mean"``, ``"x_spread"``, ``"difference"``, ``"ratio"``,
            ``"composition_mean"``, ``"composition_std"`` or ``"structure"``.
    """

    name: str
    label: str
    unit: str
    source: str
    level: FeatureLevel
    site: str = ""
    base: str = ""
    operation: str = "site"

    def __post_init__(self) -> None:
        if not self.base:
            object.__setattr__(self, "base", self.name)


ROLES = ("A", "B", "X")
PAIRS = (("A", "B"), ("B", "X"), ("A", "X"))

SITE_CHEMISTRY: tuple[FeatureSpec, ...] = (
    FeatureSpec(
        "oxidation_state",
        "formal oxidation state",
        "e",
        "sagatsr.data.roles.assign_roles (charge balance over pymatgen oxidation states)",
        "node",
    ),
    FeatureSpec(
        "coordination_number",
        "coordination number",
        "1",
        "sagatsr.data.roles.assign_roles (12/6/2 for perovskite A/B/X, else geometric)",
        "node",
    ),
    FeatureSpec(
        "shannon_radius",
        "Shannon ionic radius",
        "angstrom",
        "Shannon (1976) via pymatgen, for the site's state and coordination "
        "(fallback: sagatsr.features.radii.shannon_radius)",
        "node",
    ),
)

#: Chemical node features: elemental properties then site chemistry.
CHEMICAL_NODE_FEATURES: tuple[FeatureSpec, ...] = (
    *(FeatureSpec(p.name, p.label, p.unit, p.source, "node") for p in ELEMENT_PROPERTIES),
    *SITE_CHEMISTRY,
)

NODE_FEATURES: tuple[FeatureSpec, ...] = (
    *CHEMICAL_NODE_FEATURES,
    *(
        FeatureSpec(f"is_{role}", f"site is {role}", "1", "sagatsr.data.roles role", "node")
        for role in ROLES
    ),
    FeatureSpec(
        "nearest_neighbor_distance",
        "nearest-neighbour distance",
        "angstrom",
        "computed from structure",
        "node",
    ),
    FeatureSpec(
        "mean_6nn_distance",
        "mean distance to the 6 nearest neighbours",
        "angstrom",
        "computed from structure",
        "node",
    ),
    FeatureSpec(
        "local_electronegativity_difference",
        "mean |Pauling electronegativity difference| to the first neighbour shell "
        "(within 1.2 x the nearest distance)",
        "1",
        "computed from structure and pymatgen Element.X",
        "node",
    ),
)

#: Properties used for differences, spreads and composition statistics.
KEY_PROPERTIES: tuple[str, ...] = (
    "electronegativity_pauling",
    "ionization_energy_1",
    "electron_affinity",
    "atomic_radius",
    "shannon_radius",
    "covalent_radius",
    "atomic_mass",
    "oxidation_state",
    "polarizability",
    "valence_electrons",
)

RADIUS_RATIO_PROPERTIES: tuple[str, ...] = ("shannon_radius", "atomic_radius", "covalent_radius")

_NODE_BY_NAME = {spec.name: spec for spec in CHEMICAL_NODE_FEATURES}

_STRUCTURE = "computed from structure"
_ROLE_RADII = "Shannon radii of the role means (A XII, B VI, X VI)"

STRUCTURAL_FEATURES: tuple[FeatureSpec, ...] = tuple(
    FeatureSpec(name, label, unit, source, "global", site, operation="structure")
    for name, label, unit, source, site in (
        ("n_sites", "sites in the cell", "1", _STRUCTURE, ""),
        ("volume_per_atom", "volume per atom", "angstrom^3", _STRUCTURE, ""),
        ("density", "mass density", "g/cm^3", "pymatgen Structure.density", ""),
        ("lattice_a", "shortest Niggli-reduced lattice vector", "angstrom", _STRUCTURE, ""),
        ("lattice_b", "middle Niggli-reduced lattice vector", "angstrom", _STRUCTURE, ""),
        ("lattice_c", "longest Niggli-reduced lattice vector", "angstrom", _STRUCTURE, ""),
        ("lattice_alpha", "Niggli-reduced cell angle alpha", "deg", _STRUCTURE, ""),
        ("lattice_beta", "Niggli-reduced cell angle beta", "deg", _STRUCTURE, ""),
        ("lattice_gamma", "Niggli-reduced cell angle gamma", "deg", _STRUCTURE, ""),
        ("b_over_a", "lattice ratio b/a", "1", _STRUCTURE, ""),
        ("c_over_a", "lattice ratio c/a", "1", _STRUCTURE, ""),
        (
            "pseudocubic_a",
            "pseudo-cubic lattice parameter (V per ABX3 unit)^(1/3)",
            "angstrom",
            _STRUCTURE,
            "",
        ),
        (
            "packing_fraction",
            "packing fraction of atomic spheres (empirical atomic radii)",
            "1",
            _STRUCTURE,
            "",
        ),
        (
            "tolerance_factor",
            "Goldschmidt tolerance factor (rA + rX) / (sqrt(2) (rB + rX))",
            "1",
            _ROLE_RADII,
            "A-B-X",
        ),
        ("octahedral_factor", "octahedral factor rB / rX", "1", _ROLE_RADII, "B-X"),
        ("mu_over_t", "octahedral factor / tolerance factor", "1", _ROLE_RADII, "A-B-X"),
        (
            "tau_factor",
            "Bartel tolerance factor tau = rX/rB - nA (nA - (rA/rB) / ln(rA/rB))",
            "1",
            "Bartel et al., Sci. Adv. 5, eaav0693 (2019); " + _ROLE_RADII,
            "A-B-X",
        ),
        ("bx_bond_mean", "mean B-X bond length (6 nearest X per B)", "angstrom", _STRUCTURE, "B-X"),
        ("bx_bond_std", "spread of B-X bond lengths", "angstrom", _STRUCTURE, "B-X"),
        ("bx_bond_min", "shortest B-X bond", "angstrom", _STRUCTURE, "B-X"),
        ("bx_bond_max", "longest B-X bond", "angstrom", _STRUCTURE, "B-X"),
        (
            "bond_length_distortion",
            "octahedral bond-length distortion index mean(|d - <d>|) / <d>",
            "1",
            _STRUCTURE,
            "B-X",
        ),
        (
            "bxb_angle_mean",
            "mean B-X-B angle (each X with its 2 nearest B)",
            "deg",
            _STRUCTURE,
            "B-X-B",
        ),
        ("bxb_angle_min", "smallest B-X-B angle", "deg", _STRUCTURE, "B-X-B"),
        ("bxb_angle_std", "spread of B-X-B angles", "deg", _STRUCTURE, "B-X-B"),
        ("cos_bxb_angle", "cosine of the mean B-X-B angle", "1", _STRUCTURE, "B-X-B"),
        (
            "octahedral_tilt",
            "octahedral tilt estimate (180 - mean B-X-B) / 2",
            "deg",
            _STRUCTURE,
            "B-X-B",
        ),
        (
            "ax_distance_mean",
            "mean A-X distance (12 nearest X per A)",
            "angstrom",
            _STRUCTURE,
            "A-X",
        ),
        ("ax_distance_std", "spread of A-X distances", "angstrom", _STRUCTURE, "A-X"),
        ("ax_distance_min", "shortest A-X distance", "angstrom", _STRUCTURE, "A-X"),
        (
            "bx_bond_relative",
            "mean B-X bond / (pseudo-cubic a / 2)",
            "1",
            _STRUCTURE,
            "B-X",
        ),
        (
            "charge_imbalance",
            "net formal charge per atom (0 when charge balanced)",
            "e",
            "sum of assign_roles oxidation states / n_sites",
            "",
        ),
        (
            "ionic_character_ax",
            "Pauling ionic character 1 - exp(-(chi_A - chi_X)^2 / 4)",
            "1",
            "role means of pymatgen Element.X",
            "A-X",
        ),
        (
            "ionic_character_bx",
            "Pauling ionic character 1 - exp(-(chi_B - chi_X)^2 / 4)",
            "1",
            "role means of pymatgen Element.X",
            "B-X",
        ),
        ("mean_nn_distance", "mean nearest-neighbour distance", "angstrom", _STRUCTURE, ""),
        ("n_x_species", "number of distinct X-site elements", "1", _STRUCTURE, "X"),
    )
)


def _role_means() -> list[FeatureSpec]:
    return [
        FeatureSpec(
            f"{role}_{spec.name}",
            f"{role}-site {spec.label}",
            spec.unit,
            f"mean over {role} sites of: {spec.source}",
            "global",
            role,
            base=spec.name,
            operation="role_mean",
        )
        for role in ROLES
        for spec in CHEMICAL_NODE_FEATURES
    ]


def _x_spreads() -> list[FeatureSpec]:
    return [
        FeatureSpec(
            f"X_{name}_std",
            f"spread over X sites of {_NODE_BY_NAME[name].label}",
            _NODE_BY_NAME[name].unit,
            f"standard deviation over X sites of: {_NODE_BY_NAME[name].source}",
            "global",
            "X",
            base=name,
            operation="x_spread",
        )
        for name in KEY_PROPERTIES
    ]


def _differences() -> list[FeatureSpec]:
    return [
        FeatureSpec(
            f"delta_{a}{b}_{name}",
            f"{a}-site minus {b}-site {_NODE_BY_NAME[name].label}",
            _NODE_BY_NAME[name].unit,
            f"difference of role means of: {_NODE_BY_NAME[name].source}",
            "global",
            f"{a}-{b}",
            base=name,
            operation="difference",
        )
        for a, b in PAIRS
        for name in KEY_PROPERTIES
    ]


def _ratios() -> list[FeatureSpec]:
    return [
        FeatureSpec(
            f"ratio_{a}{b}_{name}",
            f"{a}-site / {b}-site {_NODE_BY_NAME[name].label}",
            "1",
            f"ratio of role means of: {_NODE_BY_NAME[name].source}",
            "global",
            f"{a}-{b}",
            base=name,
            operation="ratio",
        )
        for a, b in (("A", "X"), ("B", "X"), ("A", "B"))
        for name in RADIUS_RATIO_PROPERTIES
    ]


def _composition_stats() -> list[FeatureSpec]:
    return [
        FeatureSpec(
            f"{stat}_{name}",
            f"{word} over all sites of {_NODE_BY_NAME[name].label}",
            _NODE_BY_NAME[name].unit,
            f"{word} over all sites of: {_NODE_BY_NAME[name].source}",
            "global",
            "",
            base=name,
            operation=f"composition_{stat}",
        )
        for stat, word in (("mean", "mean"), ("std", "standard deviation"))
        for name in KEY_PROPERTIES
    ]


GLOBAL_FEATURES: tuple[FeatureSpec, ...] = (
    *_role_means(),
    *_x_spreads(),
    *_differences(),
    *_ratios(),
    *_composition_stats(),
    *STRUCTURAL_FEATURES,
)

#: Global features shown by default in distribution plots.
HEADLINE_FEATURES: tuple[str, ...] = (
    "tolerance_factor",
    "octahedral_factor",
    "tau_factor",
    "volume_per_atom",
    "bx_bond_mean",
    "bxb_angle_mean",
    "A_shannon_radius",
    "B_electronegativity_pauling",
    "X_oxidation_state",
)


def feature_specs(level: FeatureLevel | None = None) -> tuple[FeatureSpec, ...]:
    """The catalog, node features first.

    Args:
        level: ``"node"``, ``"global"`` or ``None`` for both.

    Returns:
        The feature specs.

    Raises:
        ValueError: For an unknown level.
    """
    if level is None:
        return (*NODE_FEATURES, *GLOBAL_FEATURES)
    if level == "node":
        return NODE_FEATURES
    if level == "global":
        return GLOBAL_FEATURES
    raise ValueError(f"level must be 'node', 'global' or None, got {level!r}")


def catalog_frame(level: FeatureLevel | None = None) -> pd.DataFrame:
    """The catalog as a DataFrame (columns: name, label, unit, source, level, site)."""
    return pd.DataFrame([asdict(spec) for spec in feature_specs(level)])


def format_catalog_table(level: FeatureLevel | None = None) -> str:
    """The catalog as a plain-text table with a count line, for the terminal.

    Args:
        level: ``"node"``, ``"global"`` or ``None`` for both.

    Returns:
        The table.
    """
    frame = catalog_frame(level)
    columns = ["level", "site", "name", "unit", "label", "source"]
    widths = {c: max(len(c), *(len(str(v)) for v in frame[c])) for c in columns[:-1]}
    lines = ["  ".join(c.ljust(widths.get(c, 0)) for c in columns).rstrip()]
    for row in frame[columns].itertuples(index=False):
        cells = [str(v).ljust(widths.get(c, 0)) for c, v in zip(columns, row, strict=True)]
        lines.append("  ".join(cells).rstrip())
    counts = frame["level"].value_counts()
    header = ", ".join(f"{counts[k]} {k}" for k in ("node", "global") if k in counts)
    return f"{len(frame)} features ({header})\n" + "\n".join(lines)


def spec_by_name(name: str) -> FeatureSpec:
    """Look up a feature by name.

    Raises:
        KeyError: If no feature has that name.
    """
    for spec in feature_specs():
        if spec.name == name:
            return spec
    raise KeyError(f"no feature named {name!r}; see `sagatsr features list`")
