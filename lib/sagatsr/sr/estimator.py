"""One scikit-learn-style estimator over the SISSO, Operon and PySR engines.

Model selection (``best_``):

* with validation data (``X_val``, ``y_val``): the equation with the lowest
  validation RMSE (equations whose validation predictions are not all finite
  are skipped);
* otherwise the engine's own pick: for SISSO the best (lowest training RMSE)
  model of the largest descriptor dimension reached; for Operon the Pareto-front
  member with the lowest minimum description length (``model_selection_criterion``);
  for PySR its ``model_selection`` (``"best"``).

Missing values: by default, ``fit`` raises a :class:`ValueError` when ``X`` or
``y`` (or the validation data) has a NaN or infinite value, saying how many rows
and which columns. With ``drop_nan=True`` those rows are dropped instead and
counted in ``n_dropped_rows_`` (``n_dropped_val_rows_`` for validation data).
``predict`` never raises on missing values: rows with a non-finite feature get a
NaN prediction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import sympy
from sklearn.base import BaseEstimator, RegressorMixin

from sagatsr.sr.base import Engine
from sagatsr.sr.errors import NotFittedError
from sagatsr.sr.units import Dimension, parse_units

EngineName = Literal["sisso", "operon", "pysr"]


def _metrics(y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    """RMSE and MAE (NaN when any prediction is not finite)."""
    if not np.all(np.isfinite(pred)):
        return float("nan"), float("nan")
    err = pred - y
    return float(np.sqrt(np.mean(err**2))), float(np.mean(np.abs(err)))


def _as_matrix(data: Any, names: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
    """``(n, p)`` float64 matrix and feature names (from DataFrame columns if any)."""
    if isinstance(data, pd.DataFrame):
        columns = [str(c) for c in data.columns]
        if names is not None and list(names) != columns:
            raise ValueError("feature_names disagree with the DataFrame columns")
        names = columns
        data = data.to_numpy()
    try:
        matrix = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"X must be numeric: {err}") from None
    if matrix.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {matrix.shape}")
    p = matrix.shape[1]
    names = [f"x{i}" for i in range(p)] if names is None else [str(n) for n in names]
    if len(names) != p:
        raise ValueError(f"{len(names)} feature names for {p} features")
    if len(set(names)) != p:
        raise ValueError("feature names must be unique")
    return matrix, names


def _as_vector(y: Any, n: int, what: str) -> np.ndarray:
    vector = np.asarray(y, dtype=np.float64)
    if vector.ndim == 2 and vector.shape[1] == 1:
        vector = vector[:, 0]
    if vector.shape != (n,):
        raise ValueError(f"{what} must have shape ({n},), got {vector.shape}")
    return vector


def _finite_rows(
    x: np.ndarray, y: np.ndarray, names: Sequence[str], drop: bool, what: str
) -> tuple[np.ndarray, np.ndarray, int]:
    """Drop rows with a non-finite value (``drop``) or raise naming rows and columns."""
    bad_x = ~np.isfinite(x)
    bad_y = ~np.isfinite(y)
    bad = bad_x.any(axis=1) | bad_y
    n_bad = int(bad.sum())
    if n_bad == 0:
        return x, y, 0
    if not drop:
        columns = [names[j] for j in np.flatnonzero(bad_x.any(axis=0))]
        shown = ", ".join(columns[:10]) + (", ..." if len(columns) > 10 else "")
        target = f"; the target has {int(bad_y.sum())}" if bad_y.any() else ""
        raise ValueError(
            f"{what}: {n_bad} of {len(y)} rows have NaN or infinite values "
            f"({len(columns)} feature columns affected: {shown}{target}); "
            "clean them or pass drop_nan=True to drop these rows"
        )
    return x[~bad], y[~bad], n_bad


class SymbolicRegressor(RegressorMixin, BaseEstimator):
    """Symbolic regression with one interface over three engines.

    A scikit-learn regressor: ``__init__`` only stores its arguments (so
    ``get_params``, ``set_params``, ``clone``, pipelines and grid searches work),
    everything happens in :meth:`fit`, and ``score`` is the R^2 of the selected
    equation.

    Args:
        engine: ``"sisso"`` (default, our torch SISSO), ``"operon"`` (pyoperon)
            or ``"pysr"`` (PySR, needs a Julia runtime).
        operators: Operator names shared by the engines: ``+ - * / |-| ^-1 ^2
            ^3 sqrt exp log`` (see :mod:`sagatsr.sr.sisso.operators`; Operon and
            PySR use their nearest equivalents). ``None``: all for SISSO,
            ``+ - * /`` for Operon and PySR.
        max_complexity: SISSO: most operators per feature (rung), as in the
            paper 1 by default.
        n_sis: SISSO: features added per SIS iteration.
        max_dim: SISSO: largest descriptor dimension.
        n_top: SISSO: models kept per dimension (rows of ``equations_``).
        check_units: SISSO: enforce dimensional consistency of the features.
        device: SISSO: torch device of the search (``"cpu"``, ``"cuda"``).
        chunk_size: SISSO: feature pairs per L0 block (bounds memory to about
            ``10 * chunk_size`` floats).
        max_memory_mb: SISSO: largest top level of the feature space kept in
            memory; a larger one is streamed (regenerated per SIS iteration).
        operon_options: Extra keyword arguments for pyoperon's ``SymbolicRegressor``.
        pysr_options: Extra keyword arguments for ``pysr.PySRRegressor``.
        allow_julia_install: PySR: let juliacall install Julia when none is found.
        random_state: Seed of the stochastic engines (SISSO is deterministic).
        drop_nan: Drop rows with NaN/inf instead of raising (see module docs).
        progress: Show progress bars of long searches.

    Attributes:
        equations_: ``pandas.DataFrame``, one row per equation, with columns
            ``expression`` (str over the feature names), ``complexity``,
            ``train_rmse``, ``train_mae``, ``val_rmse``, ``val_mae`` (NaN without
            validation data) and engine-specific columns.
        best_: Row of ``equations_`` used when ``index`` is ``None``.
        feature_names_in_: ``(p,)`` feature names.
        n_features_in_: ``p``.
        units_: Unit strings (or ``None``); ``dimensions_``: their dimensions.
        n_dropped_rows_: Training rows dropped for NaN/inf (``drop_nan=True``).
        n_dropped_val_rows_: Validation rows dropped.
        engine_: The fitted engine object.
    """

    def __init__(
        self,
        engine: EngineName = "sisso",
        *,
        operators: Sequence[str] | None = None,
        max_complexity: int = 1,
        n_sis: int = 3000,
        max_dim: int = 3,
        n_top: int = 1,
        check_units: bool = True,
        device: str = "cpu",
        chunk_size: int = 2**20,
        max_memory_mb: float = 1024.0,
        operon_options: Mapping[str, Any] | None = None,
        pysr_options: Mapping[str, Any] | None = None,
        allow_julia_install: bool = False,
        random_state: int | None = 0,
        drop_nan: bool = False,
        progress: bool = True,
    ) -> None:
        self.engine = engine
        self.operators = operators
        self.max_complexity = max_complexity
        self.n_sis = n_sis
        self.max_dim = max_dim
        self.n_top = n_top
        self.check_units = check_units
        self.device = device
        self.chunk_size = chunk_size
        self.max_memory_mb = max_memory_mb
        self.operon_options = operon_options
        self.pysr_options = pysr_options
        self.allow_julia_install = allow_julia_install
        self.random_state = random_state
        self.drop_nan = drop_nan
        self.progress = progress

    # ------------------------------------------------------------------ fitting
    def check_engine(self) -> None:
        """Raise now, before costly work, when the engine cannot run here.

        Raises:
            ValueError: For an unknown engine.
            EngineUnavailableError: When the engine cannot start (PySR without Julia).
        """
        check = getattr(self._make_engine(), "check_available", None)
        if check is not None:
            check()

    def _make_engine(self) -> Engine:
        try:
            build = ENGINE_BUILDERS[self.engine]
        except (KeyError, TypeError):
            raise ValueError(f"unknown engine {self.engine!r}; choose one of {ENGINES}") from None
        return build(self)

    def fit(
        self,
        X: Any,  # noqa: N803 - scikit-learn naming
        y: Any,
        *,
        feature_names: Sequence[str] | None = None,
        units: Sequence[str | None] | None = None,
        X_val: Any = None,  # noqa: N803 - scikit-learn naming
        y_val: Any = None,
    ) -> SymbolicRegressor:
        """Search equations ``y ~ f(X)``.

        Args:
            X: ``(n, p)`` array or DataFrame (names from its columns).
            y: ``(n,)`` target.
            feature_names: ``p`` names for an array ``X`` (default ``x0..x{p-1}``).
            units: ``p`` unit strings (``"eV"``, ``"angstrom"``, ``"1"``,
                ``"J/(g K)"``, ...; see :mod:`sagatsr.sr.units`); ``None``: all
                dimensionless. Only the SISSO engine uses them.
            X_val: Optional ``(n_val, p)`` validation features.
            y_val: Optional ``(n_val,)`` validation target.

        Returns:
            ``self``.

        Raises:
            ValueError: On bad shapes, unknown units or engine, or NaN/inf
                values without ``drop_nan``.
            EngineUnavailableError: When the engine cannot start (PySR without Julia).
        """
        engine = self._make_engine()
        x_arr, names = _as_matrix(X, feature_names)
        y_arr = _as_vector(y, x_arr.shape[0], "y")
        dims: list[Dimension] = parse_units(units, len(names))
        x_arr, y_arr, dropped = _finite_rows(x_arr, y_arr, names, self.drop_nan, "training data")
        if x_arr.shape[0] < 2:
            raise ValueError(f"need at least 2 usable training rows, got {x_arr.shape[0]}")
        if (X_val is None) != (y_val is None):
            raise ValueError("give both X_val and y_val, or neither")
        validation = None
        dropped_val = 0
        if X_val is not None:
            xv, names_v = _as_matrix(X_val, names if not isinstance(X_val, pd.DataFrame) else None)
            if names_v != names:
                raise ValueError("X_val columns differ from the training features")
            yv = _as_vector(y_val, xv.shape[0], "y_val")
            xv, yv, dropped_val = _finite_rows(xv, yv, names, self.drop_nan, "validation data")
            validation = (xv, yv)

        engine.fit(x_arr, y_arr, names, dims)
        symbols = [sympy.Symbol(name) for name in names]
        table = engine.table().reset_index(drop=True)
        rows = []
        for k in range(len(table)):
            expr = engine.sympy(k, symbols)
            train = _metrics(y_arr, engine.predict(x_arr, k))
            val = (
                _metrics(validation[1], engine.predict(validation[0], k))
                if validation is not None
                else (float("nan"), float("nan"))
            )
            rows.append(
                {
                    "expression": str(expr),
                    "train_rmse": train[0],
                    "train_mae": train[1],
                    "val_rmse": val[0],
                    "val_mae": val[1],
                }
            )
        metrics = pd.DataFrame(rows, index=table.index)
        extra = [c for c in table.columns if c != "complexity"]
        self.equations_ = pd.concat(
            [
                metrics[["expression"]],
                table[["complexity"]].astype(int),
                metrics.drop(columns="expression"),
                table[extra],
            ],
            axis=1,
        )
        self.best_ = engine.default_index
        if validation is not None and np.isfinite(self.equations_["val_rmse"]).any():
            self.best_ = int(np.nanargmin(self.equations_["val_rmse"].to_numpy()))
        self.engine_ = engine
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self.n_features_in_ = len(names)
        self.units_ = None if units is None else list(units)
        self.dimensions_ = dims
        self.n_dropped_rows_ = dropped
        self.n_dropped_val_rows_ = dropped_val
        self._symbols = symbols
        return self

    # ------------------------------------------------------------------ using the fit
    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "equations_")

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(X, y) before "
                "predict, sympy or latex"
            )

    def _index(self, index: int | None) -> int:
        if index is None:
            return int(self.best_)
        n = len(self.equations_)
        if not -n <= index < n:
            raise IndexError(f"equation index {index} out of range for {n} equations")
        return int(index) % n

    def predict(self, X: Any, index: int | None = None) -> np.ndarray:  # noqa: N803
        """Predict with one equation.

        Args:
            X: ``(n, p)`` array or DataFrame with the training columns (any order).
            index: Row of ``equations_`` (default ``best_``).

        Returns:
            ``(n,)`` float64 predictions; NaN for rows with a non-finite feature.

        Raises:
            NotFittedError: Before ``fit``.
        """
        self._check_fitted()
        names = list(self.feature_names_in_)
        data = X
        if isinstance(data, pd.DataFrame):
            missing = [c for c in names if c not in data.columns]
            if missing:
                raise ValueError(f"X lacks the training features {missing}")
            data = data[names]
        x_arr, _ = _as_matrix(data, None if isinstance(data, pd.DataFrame) else names)
        k = self._index(index)
        out = np.full(x_arr.shape[0], np.nan)
        ok = np.isfinite(x_arr).all(axis=1)
        if ok.any():
            out[ok] = self.engine_.predict(x_arr[ok], k)
        return out

    def sympy(self, index: int | None = None) -> sympy.Expr:
        """Equation ``index`` (default ``best_``) as sympy, in symbols named after the features.

        Raises:
            NotFittedError: Before ``fit``.
        """
        self._check_fitted()
        return self.engine_.sympy(self._index(index), self._symbols)

    def latex(self, index: int | None = None) -> str:
        """Equation ``index`` (default ``best_``) as a LaTeX string.

        Raises:
            NotFittedError: Before ``fit``.
        """
        return sympy.latex(self.sympy(index))


def _sisso(params: SymbolicRegressor) -> Engine:
    from sagatsr.sr.sisso.engine import SissoEngine

    return SissoEngine(
        operators=params.operators,
        max_complexity=params.max_complexity,
        n_sis=params.n_sis,
        max_dim=params.max_dim,
        n_top=params.n_top,
        check_units=params.check_units,
        device=params.device,
        chunk_size=params.chunk_size,
        max_memory_mb=params.max_memory_mb,
        progress=params.progress,
    )


def _operon(params: SymbolicRegressor) -> Engine:
    from sagatsr.sr.operon_engine import OperonEngine

    return OperonEngine(
        operators=params.operators,
        random_state=params.random_state,
        options=params.operon_options,
    )


def _pysr(params: SymbolicRegressor) -> Engine:
    from sagatsr.sr.pysr_engine import PySREngine

    return PySREngine(
        operators=params.operators,
        random_state=params.random_state,
        options=params.pysr_options,
        allow_julia_install=params.allow_julia_install,
    )


#: Engine name -> builder from the estimator's parameters (each imports its engine
#: only when used: PySR pulls in Julia).
ENGINE_BUILDERS: dict[str, Callable[[SymbolicRegressor], Engine]] = {
    "sisso": _sisso,
    "operon": _operon,
    "pysr": _pysr,
}
#: The engines by name.
ENGINES: tuple[str, ...] = tuple(ENGINE_BUILDERS)
