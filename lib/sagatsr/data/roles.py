"""A/B/X site roles of perovskite cells (and a generic fallback for any crystal).

Contract used by :mod:`sagatsr.features` and :mod:`sagatsr.graphs`; the
implementation assigns roles by chemistry and geometry, never by the order of
a formula string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

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
