"""Shannon ionic radii with an explicit fallback rule."""

from __future__ import annotations

import functools
import math

from sagatsr.features.elements import element_table


@functools.lru_cache(maxsize=16384)
def shannon_radius(z: int, oxidation_state: float, coordination: int) -> float:
    """Shannon effective ionic radius of an ion, in angstrom.

    Fallback rule, first match wins:

    1. the tabulated radius for ``(z, oxidation state, coordination)``;
    2. same element and state, the nearest tabulated coordination (ties: the
       larger one);
    3. same element, the nearest tabulated state of the same sign, then its
       nearest coordination;
    4. ``oxidation_state == 0`` (metallic or elemental site): the empirical
       atomic radius;
    5. otherwise (no Shannon data, or the state is ``nan``): the element's
       average ionic radius.

    Args:
        z: Atomic number.
        oxidation_state: Formal oxidation state; rounded to the nearest integer.
        coordination: Coordination number (non-positive values are treated as 6).

    Returns:
        The radius in angstrom (``nan`` only for an element without feature data).
    """
    table = element_table()
    if not 0 < z < table.values.shape[0]:
        return math.nan
    if math.isnan(oxidation_state):
        return float(table.column("average_ionic_radius")[z])
    state = round(oxidation_state)
    if state == 0:
        return float(table.column("atomic_radius")[z])
    cn = coordination if coordination > 0 else 6
    entries = [(q, c, r) for (_, q, c), r in _by_element().get(z, {}).items()]
    same_state = [(c, r) for q, c, r in entries if q == state]
    if not same_state:
        same_sign = sorted(
            {q for q, _, _ in entries if q * state > 0}, key=lambda q: abs(q - state)
        )
        if same_sign:
            same_state = [(c, r) for q, c, r in entries if q == same_sign[0]]
    if same_state:
        _, radius = min(same_state, key=lambda cr: (abs(cr[0] - cn), -cr[0]))
        return float(radius)
    return float(table.column("average_ionic_radius")[z])


@functools.cache
def _by_element() -> dict[int, dict[tuple[int, int, int], float]]:
    grouped: dict[int, dict[tuple[int, int, int], float]] = {}
    for key, radius in element_table().shannon.items():
        grouped.setdefault(key[0], {})[key] = radius
    return grouped
