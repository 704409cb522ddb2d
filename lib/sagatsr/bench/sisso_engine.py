"""Benchmark our SISSO engine against TorchSISSO on the same data and settings.

Both runs get the same primary features, operators, complexity (our
``max_complexity = c`` is TorchSISSO's ``n_expansion = c + 1``: its expansion
loop runs ``n_expansion - 1`` times), SIS size (``n_sis`` = TorchSISSO's ``k``,
features added per iteration) and largest descriptor dimension (``max_dim`` =
``n_term``). Units are off (TorchSISSO's non-dimensional mode). For every
dimension the selected descriptors agree when the least-squares RMSEs agree to
a relative ``1e-6`` and either each TorchSISSO feature, evaluated from its
printed expression, matches one of ours (``|corr| > 1 - 1e-9``) or the two
descriptors give the same fitted values (to ``1e-8 std(y)``): different but
linearly equivalent descriptors, such as ``{a + b, a - c}`` and
``{b + c, a - c}``, tie exactly and either engine may list either.

Run ``sagatsr benchmark sisso`` (writes ``reports/metrics/sisso_engine.json``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sympy

BENCH_OPERATORS: tuple[str, ...] = ("+", "-", "*", "/", "^-1", "^2", "^3", "sqrt", "exp", "log")
"""Operators both engines implement identically (TorchSISSO has no ``|a - b|``)."""

TORCHSISSO_OPERATORS: dict[str, str] = {
    "+": "+",
    "-": "-",
    "*": "*",
    "/": "/",
    "^-1": "^-1",
    "^2": "pow(2)",
    "^3": "pow(3)",
    "sqrt": "pow(0.5)",
    "exp": "exp",
    "log": "ln",
}
"""TorchSISSO's name of each operator (its ``log`` is base 10, ``ln`` natural)."""

_INTERCEPT = re.compile(r"[-+]\d+(?:\.\d+)?(?:e[-+]?\d+)?$")


def synthetic_dataset(
    n_samples: int = 500, n_features: int = 20, noise: float = 0.05, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray]:
    """Seeded data with a known 3-term formula and distractor features.

    ``y = 3 x00 / x01 - 0.5 x02^2 + 0.7 sqrt(x03) + 1 + N(0, noise^2)``, all
    features uniform on ``[0.5, 5]``.

    Args:
        n_samples: Rows.
        n_features: Primary features (at least 4).
        noise: Standard deviation of the Gaussian noise.
        seed: Random seed.

    Returns:
        ``(X, y)``: ``(n_samples, n_features)`` DataFrame with columns
        ``x00, x01, ...`` and the ``(n_samples,)`` target.
    """
    if n_features < 4:
        raise ValueError("n_features must be >= 4")
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 5.0, (n_samples, n_features))
    y = 3 * x[:, 0] / x[:, 1] - 0.5 * x[:, 2] ** 2 + 0.7 * np.sqrt(x[:, 3]) + 1.0
    y = y + rng.normal(0.0, noise, n_samples)
    return pd.DataFrame(x, columns=[f"x{i:02d}" for i in range(n_features)]), y


def parse_torchsisso_equation(equation: str) -> tuple[list[float], list[str], float]:
    """Split one of TorchSISSO's printed equations into terms.

    TorchSISSO prints ``c*name+b`` for one dimension and
    ``" + c1*name1  c2*name2  ...+b"`` (terms separated by two spaces, negative
    coefficients without ``+``) for more; feature names contain no spaces.

    Args:
        equation: One entry of the equation list ``SissoModel.fit`` returns.

    Returns:
        ``(coefficients, feature names, intercept)``.
    """
    text = equation.strip()
    if "  " not in text:  # one dimension: coef*name+intercept, no spaces
        match = _INTERCEPT.search(text)
        if match is None:
            raise ValueError(f"cannot parse TorchSISSO equation {equation!r}")
        coef, name = text[: match.start()].split("*", 1)
        return [float(coef)], [name], float(match.group(0))
    pieces = [p.strip() for p in text.split("  ") if p.strip()]
    intercept = float(pieces[-1].replace(" ", ""))
    coefs, names = [], []
    for piece in pieces[:-1]:
        coef, name = piece.removeprefix("+").strip().split("*", 1)
        coefs.append(float(coef))
        names.append(name)
    return coefs, names, intercept


def torchsisso_feature_values(name: str, data: pd.DataFrame) -> np.ndarray:
    """Evaluate a TorchSISSO feature name (e.g. ``"(ln(x01))"``, ``"(x02)**2"``) on ``data``."""
    symbols = {c: sympy.Symbol(c) for c in data.columns}
    expr = sympy.sympify(name.replace("ln(", "log("), locals=symbols)
    used = sorted(expr.free_symbols, key=lambda s: s.name)
    fn = sympy.lambdify(used, expr, "numpy")
    values = fn(*(data[s.name].to_numpy() for s in used))
    return np.broadcast_to(np.asarray(values, dtype=np.float64), (len(data),)).copy()


def _lstsq_fit(features: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Fitted values of the least-squares fit with intercept."""
    design = np.column_stack((np.ones(len(y)), features))
    solution, *_ = np.linalg.lstsq(design, y, rcond=None)
    return design @ solution


def _match(ours: np.ndarray, theirs: np.ndarray, tol: float = 1e-9) -> bool:
    """Whether every column of ``theirs`` matches a distinct column of ``ours`` (|corr|)."""
    if ours.shape[1] != theirs.shape[1]:
        return False
    corr = np.abs(np.corrcoef(np.column_stack((ours, theirs)).T))[: ours.shape[1], ours.shape[1] :]
    free = set(range(ours.shape[1]))
    for j in range(theirs.shape[1]):
        hit = [i for i in free if corr[i, j] > 1 - tol]
        if not hit:
            return False
        free.remove(hit[0])
    return True


def _run_ours(data: pd.DataFrame, y: np.ndarray, settings: dict[str, Any]) -> tuple[float, Any]:
    import sagatsr.sr.sisso.engine  # noqa: F401 - imported before the clock starts, like TorchSISSO
    from sagatsr.sr.estimator import SymbolicRegressor

    model = SymbolicRegressor(
        "sisso",
        operators=settings["operators"],
        max_complexity=settings["max_complexity"],
        n_sis=settings["n_sis"],
        max_dim=settings["max_dim"],
        check_units=False,
        device=settings["device"],
        progress=False,
    )
    start = time.perf_counter()
    model.fit(data, y)
    return time.perf_counter() - start, model


def _run_torchsisso(
    data: pd.DataFrame, y: np.ndarray, settings: dict[str, Any]
) -> tuple[float, list[str], float]:
    from TorchSisso import SissoModel

    frame = pd.concat([pd.Series(y, name="target", index=data.index), data], axis=1)
    model = SissoModel(
        frame,
        operators=[TORCHSISSO_OPERATORS[op] for op in settings["operators"]],
        n_expansion=settings["max_complexity"] + 1,
        n_term=settings["max_dim"],
        k=settings["n_sis"],
        device=settings["device"],
    )
    log = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(log):
        rmse, _, _, equations = model.fit()
    return time.perf_counter() - start, list(equations), float(rmse)


def compare_with_torchsisso(
    data: pd.DataFrame,
    y: np.ndarray,
    *,
    operators: Sequence[str] = BENCH_OPERATORS,
    max_complexity: int = 1,
    max_dim: int = 3,
    n_sis: int = 40,
    device: str = "cpu",
    repeats: int = 1,
    exhaustive: bool = False,
    out: str | Path | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Run both engines on the same inputs, check their descriptors agree, time them.

    Args:
        data: ``(n, p)`` primary features (columns are the names).
        y: ``(n,)`` target.
        operators: Operator names, a subset of :data:`BENCH_OPERATORS`.
        max_complexity: Operators per feature (rung).
        max_dim: Largest descriptor dimension.
        n_sis: Features per SIS iteration (TorchSISSO's ``k``).
        device: Torch device for both.
        repeats: Timed runs of each engine, TorchSISSO first in each round (the
            minimum is reported as ``wall_s``).
        exhaustive: Also time our engine with SIS keeping the whole feature
            space (L0 over every feature; beyond TorchSISSO's memory) and
            record its descriptors under ``ours_whole_space``.
        out: JSON file to write (parents created), or ``None``.
        command: Command recorded in the provenance (``sys.argv`` when ``None``).

    Returns:
        The report: ``settings``, ``dataset``, ``ours`` and ``torchsisso``
        (wall times in seconds, per-dimension descriptors and RMSEs),
        ``speedup`` (TorchSISSO time / our time), ``descriptors_agree``,
        ``per_dimension`` agreement, ``torch_threads``, the machine's load
        averages before and after, ``command`` and ``provenance``.
    """
    import torch

    from sagatsr.provenance import run_info
    from sagatsr.sr.sisso.features import evaluate

    unknown = [op for op in operators if op not in TORCHSISSO_OPERATORS]
    if unknown:
        raise ValueError(f"operators {unknown} have no TorchSISSO equivalent")
    settings = {
        "operators": list(operators),
        "torchsisso_operators": [TORCHSISSO_OPERATORS[op] for op in operators],
        "max_complexity": max_complexity,
        "torchsisso_n_expansion": max_complexity + 1,
        "max_dim": max_dim,
        "n_sis": n_sis,
        "device": device,
        "repeats": repeats,
        "check_units": False,
    }
    y = np.asarray(y, dtype=np.float64)
    load_before = _load_average()
    ours_times, theirs_times = [], []
    for _ in range(repeats):
        elapsed, equations, reported_rmse = _run_torchsisso(data, y, settings)
        theirs_times.append(elapsed)
        elapsed, model = _run_ours(data, y, settings)
        ours_times.append(elapsed)
    load_after = _load_average()

    engine = model.engine_
    table = model.equations_
    per_dim = []
    for d in range(1, max_dim + 1):
        rows = table.index[(table["dimension"] == d) & (table["rank"] == 0)]
        if len(rows) == 0 or d > len(equations):
            per_dim.append({"dimension": d, "agree": False, "reason": "missing"})
            continue
        row = int(rows[0])
        desc = engine.descriptors_[row]
        ours_values = evaluate(
            engine.features_, list(desc.features), torch.as_tensor(data.to_numpy(np.float64))
        ).numpy()
        coefs, names, intercept = parse_torchsisso_equation(equations[d - 1])
        theirs_values = np.column_stack([torchsisso_feature_values(n, data) for n in names])
        ours_rmse = float(table.loc[row, "train_rmse"])
        ours_fit, theirs_fit = _lstsq_fit(ours_values, y), _lstsq_fit(theirs_values, y)
        theirs_rmse = float(np.sqrt(np.mean((y - theirs_fit) ** 2)))
        same_features = _match(ours_values, theirs_values)
        same_fit = float(np.max(np.abs(ours_fit - theirs_fit))) <= 1e-8 * float(np.std(y))
        rmse_close = abs(ours_rmse - theirs_rmse) <= 1e-6 * max(theirs_rmse, 1e-12)
        per_dim.append(
            {
                "dimension": d,
                "ours_descriptor": list(table.loc[row, "descriptor"]),
                "torchsisso_descriptor": names,
                "ours_rmse": ours_rmse,
                "torchsisso_rmse_refit": theirs_rmse,
                "torchsisso_equation": equations[d - 1].strip(),
                "torchsisso_coefficients": coefs,
                "torchsisso_intercept": intercept,
                "same_features": same_features,
                "same_fitted_values": same_fit,
                "rmse_close": rmse_close,
                "agree": bool((same_features or same_fit) and rmse_close),
            }
        )
    ours_wall, theirs_wall = min(ours_times), min(theirs_times)
    report: dict[str, Any] = {
        "benchmark": "sisso_engine_vs_torchsisso",
        "settings": settings,
        "dataset": {
            "n_samples": int(data.shape[0]),
            "n_features": int(data.shape[1]),
            "feature_space_size": int(engine.space_stats_["n_stored_features"]),
        },
        "ours": {
            "wall_s": ours_wall,
            "wall_s_all": ours_times,
            "space_stats": dict(engine.space_stats_),
        },
        "torchsisso": {
            "wall_s": theirs_wall,
            "wall_s_all": theirs_times,
            "reported_final_rmse": reported_rmse,
            "version": _version("TorchSisso"),
        },
        "speedup": theirs_wall / ours_wall if ours_wall > 0 else float("inf"),
        "torch_threads": torch.get_num_threads(),
        "load_average_1_5_15min": {"before": load_before, "after": load_after},
        "descriptors_agree": all(p["agree"] for p in per_dim),
        "per_dimension": per_dim,
    }
    if exhaustive:
        whole = dict(settings, n_sis=10**9)
        elapsed, full = _run_ours(data, y, whole)
        rows = full.equations_[full.equations_["rank"] == 0]
        report["ours_whole_space"] = {
            "wall_s": elapsed,
            "n_sis": "whole feature space",
            "descriptors": [list(d) for d in rows["descriptor"]],
            "rmse": [float(v) for v in rows["train_rmse"]],
            "same_rmse_as_sis_run": bool(
                np.allclose(rows["train_rmse"].to_numpy(), [p["ours_rmse"] for p in per_dim])
            ),
        }
    info = run_info(command)
    report["command"] = info["command"]
    report["provenance"] = info
    if out is not None:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2) + "\n")
    return report


def _load_average() -> list[float] | None:
    """The machine's 1, 5 and 15 minute load averages (other work skews timings)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None
