import numpy as np
import pytest
import sympy
import torch

from sagatsr.sr.sisso.features import FeatureSpace, evaluate, prune, to_sympy
from sagatsr.sr.sisso.operators import resolve_operators
from sagatsr.sr.units import DIMENSIONLESS, parse_unit, parse_units


def build(x, names, units=None, operators=None, **kwargs):
    unary, binary = resolve_operators(operators)
    space = FeatureSpace(unary, binary, **kwargs)
    return space.build(
        torch.as_tensor(x, dtype=torch.float64), names, parse_units(units, len(names))
    )


@pytest.fixture
def positive_data():
    rng = np.random.default_rng(0)
    return rng.uniform(0.5, 3.0, (40, 3))


def names_of(space):
    return {f.name for f in space.features}


def test_dimension_rules(positive_data):
    space = build(positive_data, ["E", "r", "t"], ["eV", "angstrom", "1"])
    names = names_of(space)
    # never constructed: sums/differences across dimensions, exp/log of dimensioned
    for bad in ["(E + r)", "(E - r)", "abs(E - r)", "log(E)", "exp(r)", "(r + t)"]:
        assert bad not in names
    # constructed: products, quotients, powers, and exp/log of the dimensionless one
    for good in ["(E * r)", "(E / r)", "(r / E)", "sqrt(E)", "E**2", "(1 / r)", "log(t)", "exp(t)"]:
        assert good in names
    by_name = {f.name: f for f in space.features}
    assert by_name["sqrt(E)"].dimension == tuple(x / 2 for x in parse_unit("eV"))
    assert by_name["(E / r)"].dimension == parse_unit("eV/angstrom")
    assert by_name["(1 / r)"].dimension == parse_unit("angstrom^-1")
    assert by_name["r**3"].dimension == parse_unit("angstrom^3")
    assert by_name["log(t)"].dimension == DIMENSIONLESS
    assert all(f.complexity == (0 if f.op is None else 1) for f in space.features)


def test_same_dimension_sums_are_built(positive_data):
    space = build(positive_data, ["a", "b", "r"], ["eV", "J", "angstrom"])
    assert "(a + b)" in names_of(space)  # eV and J: same dimension
    assert "(a + r)" not in names_of(space)


def test_check_units_false_builds_inconsistent_features(positive_data):
    space = build(positive_data, ["E", "r", "t"], ["eV", "angstrom", "1"], check_units=False)
    names = names_of(space)
    for name in ["(E + r)", "log(E)", "exp(r)"]:
        assert name in names
    by_name = {f.name: f for f in space.features}
    assert by_name["(E + r)"].dimension is None
    assert by_name["(E * r)"].dimension == parse_unit("eV angstrom")


def test_invalid_values_are_rejected():
    rng = np.random.default_rng(1)
    x = np.column_stack(
        [
            rng.uniform(0.5, 2, 30),  # a: positive
            rng.uniform(-2, -0.5, 30),  # n: negative
            np.r_[0.0, rng.uniform(0.5, 2, 29)],  # z: has a zero
            np.full(30, 3.0),  # c: constant
            rng.uniform(400, 800, 30),  # h: exp overflows
        ]
    )
    space = build(x, ["a", "n", "z", "c", "h"])
    names = names_of(space)
    assert "c" not in names
    assert 3 not in {f.args[0] for f in space.features if f.op is None}
    assert space.stats["primary_rejected"] == 1
    for bad in ["log(n)", "sqrt(n)", "log(z)", "(1 / z)", "(a / z)", "exp(h)"]:
        assert bad not in names
    for good in ["log(a)", "sqrt(z)", "(z / a)", "n**2", "(1 / n)", "exp(a)"]:
        assert good in names
    values = space.values
    assert torch.isfinite(values).all()
    assert bool((space.norm > 0).all())


def test_duplicates_are_dropped_keeping_the_simpler():
    rng = np.random.default_rng(2)
    a = rng.uniform(0.5, 2, 30)
    b = rng.uniform(0.5, 2, 30)
    x = np.column_stack([a, b, 2.0 * a + 1.0, -a])  # last two: perfectly (anti)correlated copies
    space = build(x, ["a", "b", "a2", "na"], operators=["+", "-", "*", "/", "^2"])
    names = names_of(space)
    assert {"a", "b"} <= names
    assert "a2" not in names and "na" not in names
    # (a - b) kept once; (b - a) is never built (same feature up to sign)
    assert "(a - b)" in names and "(b - a)" not in names
    # both quotient orders are distinct features
    assert {"(a / b)", "(b / a)"} <= names
    z = (space.values - space.mean) / space.norm
    corr = (z.T @ z).abs() - torch.eye(z.shape[1], dtype=z.dtype)
    assert float(corr.max()) <= 1 - 1e-10


def test_level_two_features_and_sympy(positive_data):
    space = build(
        positive_data, ["a", "b", "c"], operators=["*", "/", "sqrt", "^2"], max_complexity=2
    )
    by_name = {f.name: f for f in space.features}
    assert "sqrt((a * b))" in by_name
    f = by_name["sqrt((a * b))"]
    assert (f.complexity, f.size) == (2, 4)
    assert max(g.complexity for g in space.features) == 2
    index = space.features.index(f)
    compact, (root,) = prune(space.features, [index])
    assert len(compact) == 4  # a, b, (a * b), sqrt((a * b))
    symbols = sympy.symbols("a b c")
    assert (
        sympy.simplify(to_sympy(compact, root, symbols) - sympy.sqrt(symbols[0] * symbols[1])) == 0
    )
    x_new = torch.as_tensor(np.random.default_rng(5).uniform(0.5, 3, (7, 3)))
    values = evaluate(compact, [root], x_new)[:, 0].numpy()
    np.testing.assert_allclose(values, np.sqrt(x_new[:, 0].numpy() * x_new[:, 1].numpy()))
    np.testing.assert_allclose(
        space.values[:, index].numpy(), np.sqrt(positive_data[:, 0] * positive_data[:, 1])
    )


def test_top_level_is_streamed_when_over_the_memory_budget(positive_data):
    space = build(positive_data, ["a", "b", "c"], max_complexity=2, max_memory_bytes=20_000)
    assert space.streamed
    assert space.top_blocks and all(block.complexity == 2 for block in space.top_blocks)
    assert max(f.complexity for f in space.features) == 1
    with pytest.raises(ValueError, match="exceeds max_memory"):
        build(positive_data, ["a", "b", "c"], max_complexity=2, max_memory_bytes=100)


def test_all_constant_input_is_an_error():
    with pytest.raises(ValueError, match="no usable primary feature"):
        build(np.ones((10, 2)), ["a", "b"])
