import time

import numpy as np
import pandas as pd
import pytest
import sympy

from sagatsr.sr import SymbolicRegressor
from sagatsr.sr.operon_engine import operon_symbols

OPTIONS = {"generations": 50, "population_size": 200, "max_length": 20}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.uniform(0.5, 2.0, (200, 3)), columns=["x1", "x2", "x3"])
    return x, 2 * x["x1"].to_numpy() * x["x2"].to_numpy() + 1


@pytest.fixture(scope="module")
def fitted(data):
    x, y = data
    start = time.perf_counter()
    model = SymbolicRegressor("operon", operon_options=OPTIONS, random_state=1).fit(x, y)
    model.elapsed = time.perf_counter() - start
    return model


def test_operon_recovers_simple_formula(fitted):
    assert fitted.elapsed < 10
    best = fitted.equations_.loc[fitted.best_]
    assert best["train_rmse"] < 1e-3
    expr = fitted.sympy()
    x1, x2 = sympy.symbols("x1 x2")
    assert expr.free_symbols == {x1, x2}
    poly = sympy.Poly(sympy.expand(expr), x1, x2).as_dict()
    assert poly[(1, 1)] == pytest.approx(2, rel=1e-3)
    assert poly.get((0, 0), 0) == pytest.approx(1, abs=1e-3)


def test_operon_table_is_the_pareto_front(fitted):
    table = fitted.equations_
    assert {"expression", "complexity", "length", "mdl", "model_string"} <= set(table.columns)
    assert table["complexity"].is_monotonic_increasing
    assert table["val_rmse"].isna().all()
    assert table["model_string"].str.contains("v0").any()


def test_operon_sympy_and_latex_agree_with_predict(data, fitted):
    x, _ = data
    symbols = [sympy.Symbol(c) for c in x.columns]
    for k in range(len(fitted.equations_)):
        fn = sympy.lambdify(symbols, fitted.sympy(k), "numpy")
        via_sympy = np.broadcast_to(fn(*x.to_numpy().T), (len(x),))
        # Operon evaluates in float32
        np.testing.assert_allclose(via_sympy, fitted.predict(x, index=k), rtol=1e-5, atol=1e-5)
        assert fitted.latex(k) == sympy.latex(fitted.sympy(k))


def test_operon_is_deterministic_with_a_seed(data, fitted):
    x, y = data
    again = SymbolicRegressor("operon", operon_options=OPTIONS, random_state=1).fit(x, y)
    pd.testing.assert_frame_equal(again.equations_, fitted.equations_)


def test_operator_mapping():
    assert operon_symbols(None) == "add,sub,mul,div,constant,variable"
    assert operon_symbols(["+", "|-|", "log", "ln"]) == "add,sub,abs,log,constant,variable"
    with pytest.raises(ValueError, match="no Operon equivalent"):
        operon_symbols(["tanh"])


def test_formulas_with_every_operator_pass_the_stored_formula_check(data):
    from sagatsr.sr.formulas import check_expression, evaluate_formula
    from sagatsr.sr.operon_engine import OPERON_SYMBOLS

    x, y = data
    model = SymbolicRegressor(
        "operon", operators=list(OPERON_SYMBOLS), operon_options=OPTIONS, random_state=2
    ).fit(x, y)
    for k in range(len(model.equations_)):
        text = str(model.sympy(k))
        check_expression(text, list(x.columns))
        values = {c: x[c].to_numpy() for c in x.columns}
        got = evaluate_formula({"inputs": list(x.columns), "expression": text}, values)
        np.testing.assert_allclose(got, model.predict(x, index=k), rtol=1e-4, atol=1e-4)
