import itertools

import numpy as np
import pandas as pd
import pytest
import sympy
import torch

from sagatsr.sr import SymbolicRegressor
from sagatsr.sr.sisso.engine import SissoEngine
from sagatsr.sr.sisso.features import FeatureSpace
from sagatsr.sr.sisso.operators import resolve_operators
from sagatsr.sr.sisso.screening import sure_independence_screening
from sagatsr.sr.units import parse_units


def truth(x):
    return 3 * x[:, 0] / x[:, 1] - 0.5 * x[:, 2] ** 2 + 1


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(42)
    x = rng.uniform(0.5, 3.0, (300, 7))  # x1, x2, x3 and four distractors
    y = truth(x) + rng.normal(0, 0.05, 300)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(1, 8)])
    return frame, y


@pytest.fixture(scope="module")
def fitted(data):
    frame, y = data
    return SymbolicRegressor(n_sis=30, max_dim=2, n_top=2, progress=False).fit(frame, y)


def test_sisso_recovers_known_formula(data, fitted):
    table = fitted.equations_
    best = table.loc[fitted.best_]
    assert best["dimension"] == 2 and best["rank"] == 0
    assert set(best["descriptor"]) == {"(x1 / x2)", "x3**2"}
    coefficients = dict(zip(best["descriptor"], best["coefficients"], strict=True))
    assert coefficients["(x1 / x2)"] == pytest.approx(3, abs=0.02)
    assert coefficients["x3**2"] == pytest.approx(-0.5, abs=0.01)
    assert best["intercept"] == pytest.approx(1, abs=0.05)
    assert best["train_rmse"] < 0.06
    x_new = np.random.default_rng(7).uniform(0.5, 3.0, (100, 7))
    frame_new = pd.DataFrame(x_new, columns=data[0].columns)
    np.testing.assert_allclose(fitted.predict(frame_new), truth(x_new), atol=0.05)
    x1, x2, x3, ratio = sympy.symbols("x1 x2 x3 ratio")
    poly = sympy.Poly(sympy.expand(fitted.sympy().subs(x1, ratio * x2)), ratio, x3)
    terms = {k: float(v) for k, v in poly.as_dict().items()}
    assert set(terms) == {(1, 0), (0, 2), (0, 0)}
    assert terms[(1, 0)] == pytest.approx(3, abs=0.02)
    assert terms[(0, 2)] == pytest.approx(-0.5, abs=0.01)


def test_equations_table_layout(fitted):
    table = fitted.equations_
    assert list(table.columns[:6]) == [
        "expression",
        "complexity",
        "train_rmse",
        "train_mae",
        "val_rmse",
        "val_mae",
    ]
    assert list(zip(table["dimension"], table["rank"], strict=True)) == [
        (1, 0),
        (1, 1),
        (2, 0),
        (2, 1),
    ]
    assert table["val_rmse"].isna().all()
    # ranked by training error inside each dimension
    for _, group in table.groupby("dimension"):
        assert group["train_rmse"].is_monotonic_increasing
    assert table["complexity"].dtype.kind == "i"
    # x1 / x2 (3 nodes) + x3**2 (2 nodes) + 3 * 2 + 1
    assert table.loc[fitted.best_, "complexity"] == 3 + 2 + 7


def test_sympy_and_latex_agree_with_predict(data, fitted):
    frame, _ = data
    symbols = [sympy.Symbol(c) for c in frame.columns]
    for k in range(len(fitted.equations_)):
        fn = sympy.lambdify(symbols, fitted.sympy(k), "numpy")
        via_sympy = np.broadcast_to(fn(*frame.to_numpy().T), (len(frame),))
        np.testing.assert_allclose(via_sympy, fitted.predict(frame, index=k), rtol=1e-10)
        local = dict(zip(frame.columns, symbols, strict=True))
        printed = sympy.lambdify(
            symbols, sympy.sympify(fitted.equations_.loc[k, "expression"], locals=local), "numpy"
        )
        np.testing.assert_allclose(
            np.broadcast_to(printed(*frame.to_numpy().T), (len(frame),)), via_sympy, rtol=1e-12
        )
    latex = fitted.latex()
    assert latex.startswith("\\frac{3.00") and "x_{1}}{x_{2}}" in latex and "x_{3}^{2}" in latex


def test_sisso_is_deterministic(data, fitted):
    frame, y = data
    again = SymbolicRegressor(n_sis=30, max_dim=2, n_top=2, progress=False).fit(frame, y)
    pd.testing.assert_frame_equal(again.equations_, fitted.equations_)


def test_units_keep_the_formula_when_consistent(data):
    frame, y = data
    units = ["eV", "eV", "angstrom", "K", "1", "g/cm^3", "amu"]
    model = SymbolicRegressor(n_sis=30, max_dim=2, progress=False).fit(frame, y, units=units)
    assert set(model.equations_.loc[model.best_, "descriptor"]) == {"(x1 / x2)", "x3**2"}
    assert set(model.equations_.loc[model.best_, "feature_units"]) == {"1", "L^2"}


def test_sis_selects_by_correlation_and_skips_selected(data):
    frame, y = data
    x = torch.as_tensor(frame.to_numpy())
    unary, binary = resolve_operators(None)
    space = FeatureSpace(unary, binary).build(x, list(frame.columns), parse_units(None, 7))
    target = torch.as_tensor(y)
    first = sure_independence_screening(space, target, 5)
    z = (space.values - space.mean) / space.norm
    r = (target - target.mean()) / (target - target.mean()).norm()
    scores = (z.T @ r).abs()
    assert first == torch.argsort(scores, descending=True)[:5].tolist()
    second = sure_independence_screening(space, target, 5, first)
    assert not set(first) & set(second)
    assert second == torch.argsort(scores, descending=True)[5:10].tolist()


def test_streamed_top_level_gives_the_same_models(data):
    frame, y = data
    x = frame.to_numpy()[:, :4]
    names = list(frame.columns[:4])
    dims = parse_units(None, 4)
    kwargs = dict(
        operators=["*", "/", "^2", "sqrt"], max_complexity=2, n_sis=15, max_dim=2, progress=False
    )
    stored = SissoEngine(**kwargs).fit(x, y, names, dims)
    streamed = SissoEngine(**kwargs, max_memory_mb=0.5).fit(x, y, names, dims)
    assert not stored.space_stats_["top_level_streamed"]
    assert streamed.space_stats_["top_level_streamed"]
    for k in range(len(stored.descriptors_)):
        np.testing.assert_allclose(streamed.predict(x, k), stored.predict(x, k), rtol=1e-9)
        assert streamed.descriptors_[k].sse == pytest.approx(stored.descriptors_[k].sse, rel=1e-9)


@pytest.mark.parametrize("d", [2, 3])
def test_engine_l0_equals_brute_force_over_the_whole_space(d):
    rng = np.random.default_rng(11)
    x = rng.uniform(0.5, 2.0, (40, 3))
    y = x[:, 0] * x[:, 1] - x[:, 2] / x[:, 0] + rng.normal(0, 0.3, 40)
    names = ["a", "b", "c"]
    engine = SissoEngine(operators=["+", "*", "/"], n_sis=1000, max_dim=d, n_top=3, progress=False)
    engine.fit(x, y, names, parse_units(None, 3))
    unary, binary = resolve_operators(["+", "*", "/"])
    space = FeatureSpace(unary, binary).build(torch.as_tensor(x), names, parse_units(None, 3))
    values = space.values.numpy()
    expected = []
    for subset in itertools.combinations(range(values.shape[1]), d):
        design = np.column_stack([np.ones(40), values[:, subset]])
        solution, *_ = np.linalg.lstsq(design, y, rcond=None)
        names_d = {space.features[i].name for i in subset}
        expected.append((float(np.sum((y - design @ solution) ** 2)), names_d))
    expected.sort(key=lambda t: t[0])
    found = [d_ for d_ in engine.descriptors_ if d_.dimension == d]
    assert [{engine.features_[i].name for i in desc.features} for desc in found] == [
        names_d for _, names_d in expected[:3]
    ]
    sse = [desc.sse for desc in found]
    np.testing.assert_allclose(sse, [e for e, _ in expected[:3]], rtol=1e-9)
