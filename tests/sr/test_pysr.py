import sys
import time

import numpy as np
import pytest
import sympy

from sagatsr.sr import EngineUnavailableError, SymbolicRegressor, pysr_engine
from sagatsr.sr.pysr_engine import find_julia, pysr_operators


@pytest.fixture
def no_julia(monkeypatch, tmp_path):
    """An environment where no Julia executable can be found."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PYTHON_JULIAPKG_EXE", raising=False)
    monkeypatch.delenv("PYTHON_JULIAPKG_PROJECT", raising=False)
    monkeypatch.setattr(sys, "prefix", str(tmp_path))


def data():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 2, (50, 2))
    return x, x[:, 0] * x[:, 1]


def test_missing_julia_fails_fast_with_a_clear_error(no_julia):
    assert find_julia() is None
    x, y = data()
    start = time.perf_counter()
    with pytest.raises(EngineUnavailableError) as info:
        SymbolicRegressor("pysr").fit(x, y)
    assert time.perf_counter() - start < 5
    message = str(info.value)
    assert "Julia" in message and "PySR" in message
    assert "no Julia executable found" in message  # the underlying reason
    assert 'engine="sisso"' in message and 'engine="operon"' in message
    assert isinstance(info.value, RuntimeError)
    assert "juliacall" not in sys.modules


def test_import_failure_is_wrapped_with_its_reason(monkeypatch):
    monkeypatch.setattr(pysr_engine, "find_julia", lambda: "/opt/julia/bin/julia")
    monkeypatch.setitem(sys.modules, "pysr", None)  # makes `import pysr` fail at once
    x, y = data()
    with pytest.raises(
        EngineUnavailableError, match=r"importing pysr failed with ModuleNotFoundError"
    ) as info:
        SymbolicRegressor("pysr").fit(x, y)
    assert isinstance(info.value.__cause__, ImportError)


def test_operator_mapping():
    assert pysr_operators(None) == (["+", "-", "*", "/"], [])
    assert pysr_operators(["*", "^2", "|-|", "sqrt", "inv"]) == (
        ["*", "-"],
        ["square", "abs", "sqrt", "inv"],
    )
    with pytest.raises(ValueError, match="no PySR equivalent"):
        pysr_operators(["tanh"])


@pytest.mark.slow
def test_pysr_sympy_and_latex_agree_with_predict():
    x, y = data()
    try:
        model = SymbolicRegressor("pysr", pysr_options={"niterations": 5}).fit(x, y)
    except EngineUnavailableError as err:
        pytest.skip(
            "PySR cannot run on this machine (no Julia runtime), so sympy()/latex() agreement "
            f"with predict is not checked for pysr: {err}"
        )
    symbols = sympy.symbols("x0 x1")
    for k in range(len(model.equations_)):
        fn = sympy.lambdify(symbols, model.sympy(k), "numpy")
        np.testing.assert_allclose(
            np.broadcast_to(fn(*x.T), (len(x),)), model.predict(x, index=k), rtol=1e-5, atol=1e-6
        )
        assert model.latex(k) == sympy.latex(model.sympy(k))


def test_distill_with_pysr_stops_before_training_fold_models(no_julia, trained_runs, tmp_path):
    from sagatsr.sr.distill import distill_run

    oof = tmp_path / "oof"
    with pytest.raises(EngineUnavailableError, match="no Julia executable found"):
        distill_run(
            trained_runs / "models" / "castelli_e_form", None, oof_root=oof, engines=("pysr",)
        )
    assert not oof.exists()
