"""Operators of the SISSO feature space: values, physical dimension, text and sympy.

Names accepted by :func:`resolve_operators` (aliases in brackets):

=======  ==========================  ==================================
name     feature                     dimension rule (``check_units``)
=======  ==========================  ==================================
``+``    ``(a + b)``                 ``a`` and ``b`` same dimension
``-``    ``(a - b)``                 same dimension
``*``    ``(a * b)``                 exponents add
``/``    ``(a / b)`` and ``(b / a)`` exponents subtract
``|-|``  ``abs(a - b)`` [absdiff]    same dimension
``^-1``  ``1/a`` [inv]               exponents negate
``^2``   ``a**2`` [sq, square]       exponents double
``^3``   ``a**3`` [cube]             exponents triple
sqrt     ``sqrt(a)``                 exponents halve
exp      ``exp(a)``                  ``a`` dimensionless
log      ``log(a)`` (natural) [ln]   ``a`` dimensionless
=======  ==========================  ==================================

Binary operators are applied to unordered pairs of distinct features (both
orders for ``/``, whose two orders are not linearly related); ``a * a`` and
``a / a`` are left to ``^2`` and the constant 1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import sympy
import torch
from torch import Tensor

from sagatsr.sr.units import DIMENSIONLESS, Dimension

DimRule = Callable[[Dimension, Dimension], Dimension | None]


def _same(a: Dimension, b: Dimension) -> Dimension | None:
    return a if a == b else None


def _sum(a: Dimension, b: Dimension) -> Dimension | None:
    return tuple(x + y for x, y in zip(a, b, strict=True))


def _diff(a: Dimension, b: Dimension) -> Dimension | None:
    return tuple(x - y for x, y in zip(a, b, strict=True))


def _power(factor: Fraction) -> Callable[[Dimension], Dimension | None]:
    def rule(a: Dimension) -> Dimension | None:
        return tuple(x * factor for x in a)

    return rule


def _dimensionless(a: Dimension) -> Dimension | None:
    return a if a == DIMENSIONLESS else None


def _wrap(text: str) -> str:
    """Parenthesise a feature string unless it already is one token or bracketed."""
    if (text.startswith("(") and text.endswith(")")) or text.replace("_", "").isalnum():
        return text
    return f"({text})"


@dataclass(frozen=True)
class BinaryOp:
    """A two-argument operator.

    Attributes:
        name: Canonical name.
        apply: ``(a, b) -> values``, elementwise on ``(n, m)`` tensors.
        dimension: ``(dim_a, dim_b) -> dim`` or ``None`` when not allowed.
        text: ``(str_a, str_b) -> str``.
        to_sympy: ``(expr_a, expr_b) -> expr``.
        ordered: Whether both ``op(a, b)`` and ``op(b, a)`` are built.
        same_dimension: Whether the operands must share one dimension.
    """

    name: str
    apply: Callable[[Tensor, Tensor], Tensor]
    dimension: DimRule
    text: Callable[[str, str], str]
    to_sympy: Callable[[sympy.Expr, sympy.Expr], sympy.Expr]
    ordered: bool = False
    same_dimension: bool = False


@dataclass(frozen=True)
class UnaryOp:
    """A one-argument operator (fields as in :class:`BinaryOp`)."""

    name: str
    apply: Callable[[Tensor], Tensor]
    dimension: Callable[[Dimension], Dimension | None]
    text: Callable[[str], str]
    to_sympy: Callable[[sympy.Expr], sympy.Expr]


BINARY: dict[str, BinaryOp] = {
    op.name: op
    for op in (
        BinaryOp("+", torch.add, _same, lambda a, b: f"({a} + {b})", sympy.Add, False, True),
        BinaryOp(
            "-", torch.sub, _same, lambda a, b: f"({a} - {b})", lambda a, b: a - b, False, True
        ),
        BinaryOp("*", torch.mul, _sum, lambda a, b: f"({a} * {b})", sympy.Mul),
        BinaryOp("/", torch.div, _diff, lambda a, b: f"({a} / {b})", lambda a, b: a / b, True),
        BinaryOp(
            "|-|",
            lambda a, b: torch.abs(a - b),
            _same,
            lambda a, b: f"abs({a} - {b})",
            lambda a, b: sympy.Abs(a - b),
            False,
            True,
        ),
    )
}

UNARY: dict[str, UnaryOp] = {
    op.name: op
    for op in (
        UnaryOp(
            "^-1", torch.reciprocal, _power(Fraction(-1)), lambda a: f"(1 / {a})", lambda a: 1 / a
        ),
        UnaryOp(
            "^2", torch.square, _power(Fraction(2)), lambda a: f"{_wrap(a)}**2", lambda a: a**2
        ),
        UnaryOp(
            "^3", lambda a: a**3, _power(Fraction(3)), lambda a: f"{_wrap(a)}**3", lambda a: a**3
        ),
        UnaryOp("sqrt", torch.sqrt, _power(Fraction(1, 2)), lambda a: f"sqrt({a})", sympy.sqrt),
        UnaryOp("exp", torch.exp, _dimensionless, lambda a: f"exp({a})", sympy.exp),
        UnaryOp("log", torch.log, _dimensionless, lambda a: f"log({a})", sympy.log),
    )
}

ALIASES: dict[str, str] = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "div": "/",
    "absdiff": "|-|",
    "abs_diff": "|-|",
    "inv": "^-1",
    "sq": "^2",
    "square": "^2",
    "cube": "^3",
    "ln": "log",
}

DEFAULT_OPERATORS: tuple[str, ...] = (*BINARY, *UNARY)
"""All operators: ``+ - * / |-| ^-1 ^2 ^3 sqrt exp log``."""


def resolve_operators(names: Sequence[str] | None) -> tuple[list[UnaryOp], list[BinaryOp]]:
    """Look up operators by name or alias.

    Args:
        names: Operator names (``None`` for :data:`DEFAULT_OPERATORS`).

    Returns:
        ``(unary, binary)`` operators in canonical order, without repeats.

    Raises:
        ValueError: On an unknown name.
    """
    names = DEFAULT_OPERATORS if names is None else names
    if isinstance(names, str):
        names = [names]
    canonical = set()
    for name in names:
        key = ALIASES.get(name, name)
        if key not in BINARY and key not in UNARY:
            known = ", ".join([*DEFAULT_OPERATORS, *ALIASES])
            raise ValueError(f"unknown SISSO operator {name!r}; known: {known}")
        canonical.add(key)
    unary = [op for name, op in UNARY.items() if name in canonical]
    binary = [op for name, op in BINARY.items() if name in canonical]
    return unary, binary
