"""Perovskite subsets (ABO3, ABX3, AB(OX)3) of the supported datasets.

Every entry is either selected or excluded *with a reason*; nothing is dropped
silently. The subsets per dataset (:data:`SUBSET_TABLE`, :data:`SUBSETS`):

======================  ===========  ==================================================
dataset                 subset       selected entries
======================  ===========  ==================================================
castelli_perovskites    ``ABO3``     ``anion_set`` metadata ``O3``
castelli_perovskites    ``ABX3``     ``anion_set`` ``N3`` (the non-oxide single-anion
                                     family; Castelli has no halide ABX3)
castelli_perovskites    ``AB(OX)3``  ``anion_set`` in ``NO2``, ``N2O``, ``FO2``,
                                     ``O2S``, ``FNO`` (the mixed-anion families)
castelli_perovskites    ``all``      every entry
oqmd_perovskites,       ``ABO3``     perovskites (by :func:`~sagatsr.data.roles.
jarvis_dft_3d                        assign_roles`) whose X sites are all O
(same rules)            ``ABX3``     perovskites whose X sites are all one halogen
                                     (F, Cl, Br or I)
(same rules)            ``AB(OX)3``  the union of ``ABO3`` and ``ABX3`` (the SA-GAT-SR
                                     paper's definition)
(same rules)            ``all``      every entry, perovskite or not
mp20_subset             ``all``      every entry
======================  ===========  ==================================================

For OQMD and JARVIS, anti-perovskites (Li3OCl), intermetallics (Ni3Al-type,
Ti3AlC) and non-corner-sharing ABX3 compounds are excluded by the chemistry and
geometry rules of :mod:`sagatsr.data.roles`, never by matching formula strings.
For Castelli the ``anion_set`` column defines the subsets; the roles are only
cross-checked against it, which does not change the selection: entries whose
X-site chemistry contradicts ``anion_set`` are listed in
:attr:`SubsetSelection.disagreements` (none in the mirror), and the ~8 % of
cells whose relaxed geometry is no longer a perovskite's (ABX3 chemistry kept)
in :attr:`SubsetSelection.not_perovskite`.

Full counts on the dataset mirror (``subset_counts``): Castelli ABO3 2,704,
ABX3 2,704, AB(OX)3 13,520, all 18,928 (1,554 not perovskites geometrically,
0 disagreements); OQMD ABO3 7,473, ABX3 1,005, AB(OX)3 8,478, all 11,265
(2,598 excluded as not perovskites, 189 other perovskites: 179 hydrides and
10 N / S / Se / Te).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pymatgen.core import Composition

from sagatsr.data.roles import ROLE_X, SiteRoles, assign_roles

if TYPE_CHECKING:
    from pymatgen.core import Structure

logger = logging.getLogger(__name__)

PerovskiteClass = Literal["ABO3", "ABX3_halide", "ABX3_other", "mixed_anion"]

HALOGENS: frozenset[str] = frozenset({"F", "Cl", "Br", "I"})

#: Castelli ``anion_set`` families per subset (the ``all`` subset takes every entry).
CASTELLI_ANION_SETS: dict[str, frozenset[str]] = {
    "ABO3": frozenset({"O3"}),
    "ABX3": frozenset({"N3"}),
    "AB(OX)3": frozenset({"NO2", "N2O", "FO2", "O2S", "FNO"}),
}

#: Perovskite classes (:func:`classify_perovskite`) per subset, for datasets
#: selected by structure (OQMD, JARVIS-DFT).
CLASS_SUBSETS: dict[str, frozenset[str]] = {
    "ABO3": frozenset({"ABO3"}),
    "ABX3": frozenset({"ABX3_halide"}),
    "AB(OX)3": frozenset({"ABO3", "ABX3_halide"}),
}

#: How subsets are chosen, by rule: human-readable definition of every subset.
#: ``anion_set``: Castelli's metadata; ``structure``: the perovskite class from the
#: site roles (any dataset with structures, a user's own included); ``none``: only
#: ``all``.
SUBSET_RULES: dict[str, dict[str, str]] = {
    "anion_set": {
        "ABO3": "anion_set == 'O3'",
        "ABX3": "anion_set == 'N3' (non-oxide single-anion family)",
        "AB(OX)3": "anion_set in NO2, N2O, FO2, O2S, FNO (mixed-anion families)",
        "all": "every entry",
    },
    "structure": {
        "ABO3": "perovskite by assign_roles, all X = O",
        "ABX3": "perovskite by assign_roles, all X = one halogen (F, Cl, Br, I)",
        "AB(OX)3": "union of ABO3 and ABX3",
        "all": "every entry (no perovskite filter)",
    },
    "none": {"all": "every entry"},
}

#: The subset rule of each registered dataset.
DATASET_SUBSET_RULES: dict[str, str] = {
    "castelli_perovskites": "anion_set",
    "oqmd_perovskites": "structure",
    "jarvis_dft_3d": "structure",
    "mp20_subset": "none",
}

#: Human-readable definition of every subset of every registered dataset.
SUBSET_TABLE: dict[str, dict[str, str]] = {
    name: SUBSET_RULES[rule] for name, rule in DATASET_SUBSET_RULES.items()
}

#: Valid subset names per registered dataset.
SUBSETS: dict[str, tuple[str, ...]] = {name: tuple(table) for name, table in SUBSET_TABLE.items()}

#: One entry to select from: ``(id, structure, roles, metadata)``. ``roles`` may
#: be ``None`` (then computed with :func:`assign_roles`); ``structure`` may be
#: ``None`` only where the subset does not need it (Castelli, ``all``).
SubsetItem = tuple[str, "Structure | None", "SiteRoles | None", Mapping[str, Any]]


def classify_perovskite(structure: Structure, roles: SiteRoles) -> PerovskiteClass | None:
    """Perovskite family of a structure from its X-site chemistry.

    Args:
        structure: The structure (``n_sites`` sites).
        roles: Its roles from :func:`~sagatsr.data.roles.assign_roles`.

    Returns:
        ``"ABO3"`` (all X = O), ``"ABX3_halide"`` (all X one halogen),
        ``"ABX3_other"`` (one non-O, non-halogen anion, e.g. N or S),
        ``"mixed_anion"`` (more than one X species; mixed halides included), or
        ``None`` when the roles are not those of a perovskite.

    Raises:
        ValueError: If ``roles`` does not have one entry per site.
    """
    if len(roles.roles) != len(structure):
        raise ValueError(f"roles cover {len(roles.roles)} sites, structure has {len(structure)}")
    if not roles.is_perovskite:
        return None
    x_species = _x_species(structure, roles)
    if len(x_species) != 1:
        return "mixed_anion"
    (anion,) = x_species
    if anion == "O":
        return "ABO3"
    return "ABX3_halide" if anion in HALOGENS else "ABX3_other"


def _x_species(structure: Structure, roles: SiteRoles) -> set[str]:
    """Element symbols on the X sites (ordered structure)."""
    return {structure[int(i)].specie.symbol for i in np.flatnonzero(roles.roles == ROLE_X)}


def _x_per_formula_unit(structure: Structure, roles: SiteRoles) -> dict[str, float]:
    """X-site composition per ABX3 formula unit (``n_sites / 5`` units)."""
    symbols = [structure[int(i)].specie.symbol for i in np.flatnonzero(roles.roles == ROLE_X)]
    units = len(structure) / 5
    return {s: n / units for s, n in sorted(Counter(symbols).items())}


@dataclass
class SubsetSelection:
    """Outcome of :func:`select_subset`.

    Attributes:
        dataset: Dataset name.
        subset: Subset name.
        selected: Selected ids, in input order.
        excluded: Reason per excluded id, ``"<kind>: <detail>"``.
        disagreements: Castelli only: ids whose ``anion_set`` disagrees with the
            chemistry of their assigned roles, with the reason (selection unchanged).
        not_perovskite: Castelli only: ids whose ``anion_set`` agrees with their
            ABX3 chemistry but whose relaxed cell is not a perovskite geometrically
            (``SiteRoles.reason``); they stay selected, as in Matbench.
        classes: Perovskite class (:func:`classify_perovskite`) per id where it
            was computed.
    """

    dataset: str
    subset: str
    selected: list[str] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)
    disagreements: dict[str, str] = field(default_factory=dict)
    not_perovskite: dict[str, str] = field(default_factory=dict)
    classes: dict[str, str | None] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        """The selected ids (alias of :attr:`selected`)."""
        return self.selected

    def exclusion_counts(self) -> dict[str, int]:
        """Number of excluded ids per reason kind (the text before the first ``:``)."""
        return dict(Counter(reason.split(":", 1)[0] for reason in self.excluded.values()))

    def summary(self) -> dict[str, int]:
        """Counts: selected, excluded, disagreements, not_perovskite, per exclusion kind."""
        return {
            "selected": len(self.selected),
            "excluded": len(self.excluded),
            "disagreements": len(self.disagreements),
            "not_perovskite": len(self.not_perovskite),
            **self.exclusion_counts(),
        }


def subset_rule(dataset: str, rule: str | None = None) -> str:
    """The subset rule of a dataset: ``rule`` when given, else the registered dataset's.

    Raises:
        ValueError: For an unknown rule, or an unknown dataset without a rule
            (the message lists the valid choices).
    """
    if rule is not None:
        if rule not in SUBSET_RULES:
            raise ValueError(
                f"unknown subset rule {rule!r}; valid rules: {', '.join(SUBSET_RULES)}"
            )
        return rule
    if dataset not in DATASET_SUBSET_RULES:
        raise ValueError(f"unknown dataset {dataset!r}; valid datasets: {', '.join(SUBSETS)}")
    return DATASET_SUBSET_RULES[dataset]


def _check_names(dataset: str, subset: str, rule: str) -> None:
    """Raise ``ValueError`` for an unknown subset of the rule, listing valid choices."""
    if subset not in SUBSET_RULES[rule]:
        valid = ", ".join(SUBSET_RULES[rule])
        raise ValueError(f"unknown subset {subset!r} for {dataset}; valid subsets: {valid}")


def _castelli_disagreement(anion_set: str, structure: Structure, roles: SiteRoles) -> str:
    """Why the roles' chemistry contradicts a Castelli ``anion_set`` ("" if it does not)."""
    n_sites = len(structure)
    counts = np.bincount(roles.roles, minlength=3)[:3].tolist()
    if n_sites % 5 or counts != [n_sites // 5, n_sites // 5, 3 * n_sites // 5]:
        detail = roles.reason or f"A/B/X site counts {counts}"
        return f"anion_set {anion_set} but the roles are not those of an ABX3 cell: {detail}"
    expected = {str(el): float(n) for el, n in Composition(anion_set).items()}
    found = _x_per_formula_unit(structure, roles)
    same = set(found) == set(expected) and all(
        math.isclose(found[s], expected[s], abs_tol=1e-6) for s in expected
    )
    if same:
        return ""
    pretty = " ".join(f"{s}{n:g}" for s, n in found.items())
    return f"anion_set {anion_set} but the X sites hold {pretty} per formula unit"


def _select_castelli(
    subset: str,
    entry_id: str,
    structure: Structure | None,
    roles: SiteRoles | None,
    metadata: Mapping[str, Any],
    out: SubsetSelection,
) -> None:
    """Select one Castelli entry by its ``anion_set`` and cross-check the roles."""
    anion_set = metadata.get("anion_set")
    known = frozenset().union(*CASTELLI_ANION_SETS.values())
    if structure is not None and isinstance(anion_set, str) and anion_set in known:
        roles = roles if roles is not None else assign_roles(structure)
        out.classes[entry_id] = classify_perovskite(structure, roles)
        message = _castelli_disagreement(anion_set, structure, roles)
        if message:
            out.disagreements[entry_id] = message
        elif not roles.is_perovskite:
            out.not_perovskite[entry_id] = roles.reason or "not a perovskite geometry"
    if subset == "all":
        out.selected.append(entry_id)
    elif not isinstance(anion_set, str) or not anion_set:
        out.excluded[entry_id] = "missing metadata: no anion_set"
    elif anion_set not in known:
        out.excluded[entry_id] = f"unknown anion_set: {anion_set!r}"
    elif anion_set in CASTELLI_ANION_SETS[subset]:
        out.selected.append(entry_id)
    else:
        wanted = ", ".join(sorted(CASTELLI_ANION_SETS[subset]))
        out.excluded[entry_id] = f"other anion family: anion_set {anion_set} not in {wanted}"


def _select_by_structure(
    subset: str,
    entry_id: str,
    structure: Structure | None,
    roles: SiteRoles | None,
    metadata: Mapping[str, Any],
    out: SubsetSelection,
) -> None:
    """Select one entry by its perovskite class (OQMD, JARVIS, a user's data)."""
    if subset == "all":
        out.selected.append(entry_id)
        return
    if structure is None:
        out.excluded[entry_id] = "no structure: cannot assign site roles"
        return
    roles = roles if roles is not None else assign_roles(structure)
    kind = classify_perovskite(structure, roles)
    out.classes[entry_id] = kind
    if kind is None:
        out.excluded[entry_id] = f"not a perovskite: {roles.reason}"
    elif kind in CLASS_SUBSETS[subset]:
        out.selected.append(entry_id)
    else:
        out.excluded[entry_id] = f"other perovskite class: {kind}"


def _select_all(
    subset: str,
    entry_id: str,
    structure: Structure | None,
    roles: SiteRoles | None,
    metadata: Mapping[str, Any],
    out: SubsetSelection,
) -> None:
    """Every entry (the ``all`` subset of the ``none`` rule)."""
    out.selected.append(entry_id)


#: The selector of each subset rule.
_SELECTORS = {"anion_set": _select_castelli, "structure": _select_by_structure, "none": _select_all}


def select_subset(
    dataset: str, subset: str, items: Iterable[SubsetItem], *, rule: str | None = None
) -> SubsetSelection:
    """Select the ids of a perovskite subset, with a reason for every exclusion.

    Args:
        dataset: A registered dataset (``"castelli_perovskites"``,
            ``"oqmd_perovskites"``, ``"jarvis_dft_3d"``, ``"mp20_subset"``) or,
            with ``rule``, any dataset name.
        subset: A subset name valid for the rule (see :data:`SUBSET_RULES`).
        items: ``(id, structure, roles, metadata)`` per entry; ``roles=None`` is
            computed on demand; the ``anion_set`` rule needs ``metadata["anion_set"]``.
        rule: A key of :data:`SUBSET_RULES`; default: the registered dataset's.

    Returns:
        The selection: selected ids in input order, excluded ids with reasons,
        and (Castelli) ``anion_set`` / roles disagreements.

    Raises:
        ValueError: For an unknown dataset or subset (the message lists the valid
            choices) or a repeated id.
    """
    rule = subset_rule(dataset, rule)
    _check_names(dataset, subset, rule)
    out = SubsetSelection(dataset=dataset, subset=subset)
    seen: set[str] = set()
    for entry_id, structure, roles, metadata in items:
        if entry_id in seen:
            raise ValueError(f"duplicate id {entry_id!r} in {dataset}")
        seen.add(entry_id)
        _SELECTORS[rule](subset, entry_id, structure, roles, metadata, out)
    if out.disagreements:
        logger.warning(
            "%d %s entries disagree with their anion_set (first: %s)",
            len(out.disagreements),
            dataset,
            next(iter(out.disagreements.items())),
        )
    return out


def subset_counts(
    dataset: str, items: Iterable[SubsetItem], *, rule: str | None = None
) -> dict[str, dict[str, int]]:
    """Sizes of every subset of a dataset, assigning roles once per entry.

    Args:
        dataset: One of :data:`SUBSETS`, or any name with ``rule``.
        items: ``(id, structure, roles, metadata)`` per entry (consumed once).
        rule: A key of :data:`SUBSET_RULES`; default: the registered dataset's.

    Returns:
        ``{subset: SubsetSelection.summary()}`` for every subset of ``dataset``,
        plus ``"classes"``: the number of entries per perovskite class
        (``"none"`` for non-perovskites) where structures were given.

    Raises:
        ValueError: For an unknown dataset.
    """
    rule = subset_rule(dataset, rule)
    prepared: list[SubsetItem] = []
    classes: Counter[str] = Counter()
    for entry_id, structure, roles, metadata in items:
        if structure is not None and roles is None:
            roles = assign_roles(structure)
        if structure is not None and roles is not None:
            classes[str(classify_perovskite(structure, roles) or "none")] += 1
        prepared.append((entry_id, structure, roles, metadata))
    counts = {
        name: select_subset(dataset, name, prepared, rule=rule).summary()
        for name in SUBSET_RULES[rule]
    }
    counts["classes"] = dict(classes)
    return counts
