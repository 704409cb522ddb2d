import numpy as np
import pandas as pd
import pytest

from sagatsr.sr import NotFittedError, SymbolicRegressor


def make_data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, (n, 3))
    y = 2.0 * x[:, 0] * x[:, 1] + 1.0 + rng.normal(0, 0.01, n)
    return pd.DataFrame(x, columns=["a", "b", "c"]), y


def small(**kwargs):
    return SymbolicRegressor(n_sis=10, max_dim=2, progress=False, **kwargs)


def test_init_only_stores_arguments():
    model = SymbolicRegressor("operon", n_sis=-5, operators=["nonsense"])
    assert model.get_params()["n_sis"] == -5
    assert model.set_params(n_sis=7).n_sis == 7
    assert not hasattr(model, "equations_")
    with pytest.raises(ValueError, match="Invalid parameter 'bogus'"):
        model.set_params(bogus=1)


def test_a_scikit_learn_regressor():
    from sklearn.base import clone, is_regressor
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError
    from sklearn.model_selection import cross_val_score
    from sklearn.utils.validation import check_is_fitted

    model = small()
    assert is_regressor(model)
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(model)
    x, y = make_data()
    fitted = clone(model).fit(x, y)
    check_is_fitted(fitted)
    assert not hasattr(model, "equations_")
    # score is the R^2 of the selected equation
    residual = np.sum((y - fitted.predict(x)) ** 2)
    assert fitted.score(x, y) == pytest.approx(1 - residual / np.sum((y - y.mean()) ** 2))
    assert fitted.score(x, y) > 0.99
    scores = cross_val_score(model, x, y, cv=3)
    assert scores.shape == (3,) and np.all(scores > 0.9)


@pytest.mark.parametrize("method", ["predict", "sympy", "latex"])
def test_not_fitted_error(method):
    model = SymbolicRegressor()
    args = (np.zeros((2, 3)),) if method == "predict" else ()
    with pytest.raises(NotFittedError, match="not fitted"):
        getattr(model, method)(*args)
    assert issubclass(NotFittedError, RuntimeError)


def test_unknown_engine_and_bad_units():
    x, y = make_data()
    with pytest.raises(ValueError, match="unknown engine"):
        SymbolicRegressor("gplearn").fit(x, y)
    with pytest.raises(ValueError, match="'parsec'"):
        small().fit(x, y, units=["eV", "parsec", "1"])
    with pytest.raises(ValueError, match="3 unit strings"):
        small().fit(x, y, units=["eV"])


def test_nan_rows_raise_by_default_with_counts():
    x, y = make_data()
    x.iloc[3, 1] = np.nan
    x.iloc[5, 2] = np.inf
    y[8] = np.nan
    with pytest.raises(
        ValueError, match=r"3 of 60 rows.*2 feature columns affected: b, c.*target has 1"
    ):
        small().fit(x, y)


def test_drop_nan_records_dropped_rows():
    x, y = make_data()
    clean = small().fit(x.iloc[2:], y[2:])
    x.iloc[0, 0] = np.nan
    y[1] = np.nan
    model = small(drop_nan=True).fit(x, y)
    assert model.n_dropped_rows_ == 2
    assert model.n_dropped_val_rows_ == 0
    pd.testing.assert_frame_equal(model.equations_, clean.equations_)
    assert clean.n_dropped_rows_ == 0


def test_predict_gives_nan_for_rows_with_missing_features():
    x, y = make_data()
    model = small().fit(x, y)
    x_new = x.iloc[:4].copy()
    x_new.iloc[2, 0] = np.nan
    pred = model.predict(x_new)
    assert np.isnan(pred[2]) and np.isfinite(pred[[0, 1, 3]]).all()
    # columns are matched by name, not position
    np.testing.assert_allclose(
        model.predict(x.iloc[:4][["c", "a", "b"]]), model.predict(x.iloc[:4])
    )
    with pytest.raises(ValueError, match="lacks"):
        model.predict(x.iloc[:4][["a", "b"]])
    with pytest.raises(IndexError):
        model.predict(x, index=99)


def test_validation_data_selects_lowest_validation_rmse():
    x, y = make_data(80)
    xv, yv = make_data(40, seed=1)
    model = small(n_top=3).fit(x, y, X_val=xv, y_val=yv)
    table = model.equations_
    assert table["val_rmse"].notna().all()
    assert model.best_ == int(table["val_rmse"].to_numpy().argmin())
    expected = np.sqrt(np.mean((model.predict(xv, index=0) - yv) ** 2))
    assert table.loc[0, "val_rmse"] == pytest.approx(expected)
    with pytest.raises(ValueError, match="both X_val and y_val"):
        small().fit(x, y, X_val=xv)


def test_array_input_names_and_attributes():
    x, y = make_data()
    model = small().fit(x.to_numpy(), y, feature_names=["p", "q", "r"])
    assert list(model.feature_names_in_) == ["p", "q", "r"]
    assert model.n_features_in_ == 3
    assert set(str(s) for s in model.sympy().free_symbols) <= {"p", "q", "r"}
    default = small().fit(x.to_numpy(), y)
    assert list(default.feature_names_in_) == ["x0", "x1", "x2"]
    with pytest.raises(ValueError, match="unique"):
        small().fit(x.to_numpy(), y, feature_names=["p", "p", "r"])
