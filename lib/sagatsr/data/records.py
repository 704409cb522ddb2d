"""The record types every dataset source produces.

A *source* only reads bytes (``RawEntry``); parsing, validation and the
construction of :class:`CrystalRecord` objects are shared by all sources (see
:mod:`sagatsr.data.validation`), so every source reports bad input the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pymatgen.core import Structure


@dataclass(frozen=True)
class TargetSpec:
    """A regression target of a dataset.

    Attributes:
        name: Column / key of the target in the source (e.g. ``"e_form"``).
        unit: Physical unit, e.g. ``"eV/cell"``, ``"eV/atom"``, ``"eV"``, ``"GPa"``.
        description: One line for tables and reports.
        valid_range: Inclusive ``(low, high)`` bounds outside of which a value is
            physically absurd and reported by validation (same unit as ``unit``).
    """

    name: str
    unit: str
    description: str
    valid_range: tuple[float, float] = (-math.inf, math.inf)


@dataclass
class RawEntry:
    """One unparsed entry as a source read it.

    Attributes:
        id: Entry id (e.g. ``"mb-perovskites-00001"``); ``""`` when unknown.
        origin: Where the entry came from, for error messages
            (e.g. ``"structures.zip:mb-perovskites-00001.cif"``).
        cif_text: CIF text of the structure, or ``None``.
        structure: An already built pymatgen ``Structure`` (used by sources whose
            native format is not CIF, e.g. JARVIS ``atoms`` dicts), or ``None``.
        structure_error: Set by a source that failed to build ``structure``
            itself (e.g. a malformed JARVIS ``atoms`` dict): the reason.
        labels: Raw label values keyed by target name (strings or numbers as
            read, ``None`` for an absent cell), or ``None`` if the entry has no
            label row at all.
        metadata: Other columns (formula, space group, folds...), unparsed.
    """

    id: str
    origin: str
    cif_text: str | None = None
    structure: Structure | None = None
    structure_error: str | None = None
    labels: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class CrystalRecord:
    """A validated crystal with its targets.

    Attributes:
        id: Unique entry id within its dataset.
        structure: Ordered pymatgen ``Structure`` (every site fully occupied by
            one element).
        targets: Target values keyed by target name, in the units of the
            dataset's :class:`TargetSpec`; ``math.nan`` marks a missing value
            that validation kept under the ``"keep"`` policy.
        metadata: Extra per-entry information (formula, anion family, fold...).
    """

    id: str
    structure: Structure
    targets: dict[str, float]
    metadata: dict[str, Any] = field(default_factory=dict)


def reduced_formula(structure: Structure) -> str:
    """The structure's reduced formula (pymatgen's, elements by electronegativity).

    pymatgen orders the elements by Pauling electronegativity and warns, once
    per process, for each element that has none (the noble gases He, Ne, Ar);
    the order falls back to a stable one and the formula is right, so that
    warning is silenced here and only here.

    Args:
        structure: Any structure.

    Returns:
        E.g. ``"SrTiO3"``.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No Pauling electronegativity")
        return structure.composition.reduced_formula


def structure_problem(structure: Structure) -> tuple[str, str] | None:
    """What makes a parsed structure unusable, as a validation kind and a reason.

    The one check of a structure's sites and cell, shared by ``prepare`` (as
    validation problems) and ``predict`` (as per-file errors).

    Args:
        structure: Any parsed structure.

    Returns:
        ``(kind, reason)`` with ``kind`` one of ``"empty_structure"``,
        ``"disordered_structure"`` and ``"invalid_cell"``, or ``None`` when the
        structure can be featurized as far as its sites and cell go.
    """
    import numpy as np

    if len(structure) == 0:
        return "empty_structure", "the structure has no sites"
    if not structure.is_ordered:
        return (
            "disordered_structure",
            "disordered structure (partial occupancies or mixed-species sites) is not supported",
        )
    matrix = structure.lattice.matrix
    if not (np.isfinite(matrix).all() and np.isfinite(structure.frac_coords).all()):
        return "invalid_cell", "the cell or the coordinates hold nan or infinite values"
    if not abs(float(np.linalg.det(matrix))) > 1e-6:
        return "invalid_cell", "the cell has no volume (its lattice vectors lie in a plane)"
    return None
