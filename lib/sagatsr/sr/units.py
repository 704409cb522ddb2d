"""Physical units as exponent vectors over base dimensions.

A unit string such as ``"J/(g K)"`` is parsed into a :class:`Dimension`, the
exponents of the base dimensions (mass, length, time, charge, temperature,
amount, angle).  Only the dimension matters: scale factors are ignored and
values are never converted, so ``"eV"`` and ``"J"`` are the same dimension.

A value is written for a reader with :func:`format_quantity` (or :func:`with_unit`),
which leaves out the unit of a pure number.

Conventions:

* ``"1"``, ``""``, ``"dimensionless"`` and ``"-"`` are dimensionless.
* ``"atom"``, ``"mol"``, ``"f.u."`` and ``"cell"`` are all amounts, so
  ``"eV/atom"``, ``"kJ/mol"`` and ``"eV/cell"`` (Castelli's formation energy)
  have the same dimension (energy per amount), different from ``"eV"``.
* Angles (``"deg"``, ``"rad"``) get their own base dimension, so an angle is
  never added to a pure number nor put into ``exp``/``log``.
* ``"e"`` is the elementary charge.

Grammar: factors joined by ``*``, ``·`` or whitespace (product) and ``/``
(division, binding the next factor only, so ``a/b/c == a/(b c)``); parentheses
group; ``^`` or ``**`` raise a factor to an integer or fractional power
(``"angstrom^3"``, ``"s^-1"``, ``"m^(1/2)"``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction

BASE_DIMENSIONS: tuple[str, ...] = ("M", "L", "T", "Q", "Theta", "N", "angle")
"""Names of the base dimensions, in the order of a :data:`Dimension`'s exponents."""

Dimension = tuple[Fraction, ...]
"""Exponents over :data:`BASE_DIMENSIONS`."""

DIMENSIONLESS: Dimension = tuple(Fraction(0) for _ in BASE_DIMENSIONS)


def _dim(**exponents: int) -> Dimension:
    return tuple(Fraction(exponents.get(name, 0)) for name in BASE_DIMENSIONS)


_ENERGY = {"M": 1, "L": 2, "T": -2}
_PRESSURE = {"M": 1, "L": -1, "T": -2}

_UNITS: dict[str, Dimension] = {
    # dimensionless
    "1": DIMENSIONLESS,
    "dimensionless": DIMENSIONLESS,
    "-": DIMENSIONLESS,
    "%": DIMENSIONLESS,
    # energy
    **{u: _dim(**_ENERGY) for u in ("eV", "meV", "keV", "J", "kJ", "cal", "kcal", "Ha")},
    **{u: _dim(**_ENERGY) for u in ("hartree", "Ry", "rydberg")},
    # length
    **{u: _dim(L=1) for u in ("m", "cm", "mm", "um", "nm", "pm", "angstrom", "Å", "Ang")},
    **{u: _dim(L=1) for u in ("bohr", "a0")},
    # mass
    **{u: _dim(M=1) for u in ("g", "kg", "mg", "amu", "u", "Da")},
    # time, frequency
    **{u: _dim(T=1) for u in ("s", "ms", "us", "ns", "ps", "fs")},
    **{u: _dim(T=-1) for u in ("Hz", "kHz", "MHz", "GHz", "THz")},
    # charge, temperature, amount, angle
    **{u: _dim(Q=1) for u in ("e", "C")},
    "K": _dim(Theta=1),
    **{u: _dim(N=1) for u in ("mol", "atom", "atoms", "f.u.", "fu", "cell", "cells")},
    **{u: _dim(angle=1) for u in ("deg", "degree", "degrees", "rad", "°")},
    # derived
    **{u: _dim(**_PRESSURE) for u in ("Pa", "kPa", "MPa", "GPa", "bar", "kbar", "atm")},
    "N": _dim(M=1, L=1, T=-2),
    "W": _dim(M=1, L=2, T=-3),
    "V": _dim(M=1, L=2, T=-2, Q=-1),
    "D": _dim(Q=1, L=1),
    "debye": _dim(Q=1, L=1),
}

_TOKEN = re.compile(r"\s*(\*\*|[()*/^·]|[^\s()*/^·]+)")


def known_units() -> list[str]:
    """All unit symbols the parser accepts, sorted."""
    return sorted(_UNITS)


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    stripped = text.strip()
    while pos < len(stripped):
        match = _TOKEN.match(stripped, pos)
        if match is None:  # pragma: no cover - the pattern matches any non-space character
            raise ValueError(f"cannot parse unit {text!r} at position {pos}")
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


class _Parser:
    """Recursive-descent parser over the unit grammar of the module docstring."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise ValueError(f"unit {self.text!r} ends unexpectedly")
        self.pos += 1
        return token

    def parse(self) -> Dimension:
        dim = self._product()
        if self._peek() is not None:
            raise ValueError(f"unexpected {self._peek()!r} in unit {self.text!r}")
        return dim

    def _product(self) -> Dimension:
        dim = self._power()
        while (token := self._peek()) is not None and token != ")":
            if token in ("*", "·"):
                self._take()
                dim = _add(dim, self._power())
            elif token == "/":
                self._take()
                dim = _add(dim, _scale(self._power(), Fraction(-1)))
            else:  # juxtaposition is a product
                dim = _add(dim, self._power())
        return dim

    def _power(self) -> Dimension:
        dim = self._atom()
        if self._peek() in ("^", "**"):
            self._take()
            dim = _scale(dim, self._exponent())
        return dim

    def _exponent(self) -> Fraction:
        token = self._take()
        if token == "(":
            parts: list[str] = []
            while (inner := self._take()) != ")":
                parts.append(inner)
            token = "".join(parts)
        try:
            return Fraction(token)
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"bad exponent {token!r} in unit {self.text!r}") from None

    def _atom(self) -> Dimension:
        token = self._take()
        if token == "(":
            dim = self._product()
            if self._take() != ")":  # pragma: no cover - _product stops only at ")" or the end
                raise ValueError(f"unbalanced parentheses in unit {self.text!r}")
            return dim
        if token in _UNITS:
            return _UNITS[token]
        raise ValueError(
            f"unknown unit {token!r} in {self.text!r}; known units: {', '.join(known_units())}"
        )


def _add(a: Dimension, b: Dimension) -> Dimension:
    return tuple(x + y for x, y in zip(a, b, strict=True))


def _scale(a: Dimension, factor: Fraction) -> Dimension:
    return tuple(x * factor for x in a)


def parse_unit(unit: str | None) -> Dimension:
    """Parse a unit string into its dimension.

    Args:
        unit: Unit string, e.g. ``"eV/atom"``, ``"J/(g K)"``, ``"angstrom^3"``;
            ``None``, ``""`` or ``"1"`` for dimensionless.

    Returns:
        Exponents over :data:`BASE_DIMENSIONS`.

    Raises:
        ValueError: On an unknown unit symbol or malformed string.
    """
    if unit is None or not str(unit).strip():
        return DIMENSIONLESS
    return _Parser(str(unit)).parse()


def parse_units(units: Sequence[str | None] | None, n_features: int) -> list[Dimension]:
    """Parse one unit string per feature.

    Args:
        units: ``n_features`` unit strings, or ``None`` (all dimensionless).
        n_features: Number of features.

    Returns:
        One :data:`Dimension` per feature.

    Raises:
        ValueError: On a length mismatch or an unparsable unit (naming the feature index).
    """
    if units is None:
        return [DIMENSIONLESS] * n_features
    if isinstance(units, str) or len(units) != n_features:
        raise ValueError(f"units must be a sequence of {n_features} unit strings, got {units!r}")
    dims = []
    for i, unit in enumerate(units):
        try:
            dims.append(parse_unit(unit))
        except ValueError as err:
            raise ValueError(f"feature {i}: {err}") from None
    return dims


def format_dimension(dim: Dimension) -> str:
    """Human-readable dimension, e.g. ``"M L^2 T^-2"`` (``"1"`` when dimensionless)."""
    parts = [
        name if exp == 1 else f"{name}^{exp}"
        for name, exp in zip(BASE_DIMENSIONS, dim, strict=True)
        if exp != 0
    ]
    return " ".join(parts) or "1"


#: Unit strings that mean "a pure number": shown as no unit at all (``"%"`` is shown).
PURE_NUMBER_UNITS: frozenset[str] = frozenset({"", "1", "dimensionless", "-"})


def with_unit(text: str, unit: str | None) -> str:
    """A formatted value followed by its unit, for a reader.

    The one place that writes a value with its unit: a pure number
    (:data:`PURE_NUMBER_UNITS`) gets no unit, so ``0.5385`` is never shown as
    ``"0.5385 1"``.

    Args:
        text: The value, already formatted (``"0.5385"``, ``"1.2 +- 0.1"``).
        unit: Its unit string (``"eV"``, ``"1"``, ``None``).

    Returns:
        ``"1.2 eV"``, or ``text`` alone for a pure number.
    """
    unit = "" if unit is None else str(unit).strip()
    return text if unit in PURE_NUMBER_UNITS else f"{text} {unit}"


def format_quantity(value: float, unit: str | None, spec: str = ".4g") -> str:
    """``value`` formatted with ``spec``, followed by its unit (see :func:`with_unit`)."""
    return with_unit(format(value, spec), unit)


def unit_label(label: str, unit: str | None) -> str:
    """An axis or column label with its unit in brackets: ``"gap [eV]"``, or ``label`` alone."""
    unit = "" if unit is None else str(unit).strip()
    return label if unit in PURE_NUMBER_UNITS else f"{label} [{unit}]"
