"""Feature catalog: every scalar feature the model can see, with unit and source.

Contract shared by :mod:`sagatsr.features` (which computes the values) and the
model / interpretation code (which names importance coefficients).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
    """

    name: str
    label: str
    unit: str
    source: str
    level: FeatureLevel
    site: str = ""
