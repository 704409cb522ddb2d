"""Distill a trained SA-GAT run into short formulas: SR over Ep and the top-IC features.

For one run (a model trained on a split's training part):

1. Ep, the GNN prediction: out-of-fold for the training rows
   (:func:`sagatsr.train.oof.out_of_fold_predictions`, ``k`` fold models), the
   run's own model for the validation and test rows, which it never trained on;
2. the top-``k`` global features of the run's model on the *training* rows,
   ranked by mean importance coefficient (default), permutation importance or
   integrated gradients; features with a missing value or no spread in any
   part are passed over, and listed; with the group rule, at most one feature
   of each group of near-duplicates (|Spearman| >= 0.9 on the training rows)
   is taken, the best-ranked one;
3. symbolic regression on the training rows, model selection on the validation
   rows, and the held-out test MAE / RMSE of the chosen expression next to the
   GNN's own test error;
4. the same without Ep: descriptor-only expressions from the top features.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sagatsr.data.splits import PARTS
from sagatsr.features.catalog import GLOBAL_FEATURES
from sagatsr.interpret.attribution import attribution_ranking, integrated_gradients
from sagatsr.interpret.groups import correlation_groups
from sagatsr.interpret.importance import importance_coefficients
from sagatsr.interpret.permutation import permutation_importance
from sagatsr.model.network import SAGAT
from sagatsr.prepare import PreparedDataset
from sagatsr.sr.estimator import SymbolicRegressor
from sagatsr.sr.formulas import EP
from sagatsr.train.config import TrainConfig
from sagatsr.train.data import LabelledGraphs, load_split_parts
from sagatsr.train.metrics import regression_metrics
from sagatsr.train.oof import OOF_FILE, out_of_fold_predictions
from sagatsr.train.run import Run

#: Feature rankings distillation can take its top features from.
RANKINGS = ("ic", "permutation", "integrated_gradients")
#: Training rows the permutation and gradient rankings are computed on (a seeded sample).
RANKING_ROWS = 1000
_SPECS = {spec.name: spec for spec in GLOBAL_FEATURES}


@dataclass
class DistillData:
    """SR inputs of one run.

    Attributes:
        target: Target name; ``unit`` its unit.
        frame: One row per structure: ``id``, ``part``, the target, ``Ep`` and
            every global feature (raw values, catalog units).
        ranking: Usable global features by the chosen ranking (mean IC by
            default), most important first.
        skipped: Top-ranked features passed over, with the reason.
        extra_units: Units of columns that are not catalog features (e.g. DFT
            quantities added by a benchmark).
        rankings: Usable features by each computed ranking method.
        groups: Near-duplicate group of each feature (correlation on the training rows).
    """

    target: str
    unit: str
    frame: pd.DataFrame
    ranking: list[str]
    skipped: dict[str, str] = field(default_factory=dict)
    extra_units: dict[str, str] = field(default_factory=dict)
    rankings: dict[str, list[str]] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)

    def top_features(
        self, k: int, *, method: str | None = None, grouped: bool = False
    ) -> list[str]:
        """The ``k`` best-ranked usable features.

        Args:
            k: How many.
            method: A ranking of :attr:`rankings` (default: :attr:`ranking`).
            grouped: Take at most one feature per near-duplicate group.
        """
        ranking = self.ranking if method is None else self.rankings[method]
        if not grouped:
            return ranking[:k]
        chosen, seen = [], set()
        for name in ranking:
            group = self.groups.get(name, name)
            if group not in seen:
                seen.add(group)
                chosen.append(name)
            if len(chosen) == k:
                break
        return chosen

    def part(self, name: str) -> pd.DataFrame:
        """Rows of one part."""
        return self.frame[self.frame["part"] == name]


def feature_legend(names: Sequence[str], target: str, unit: str) -> pd.DataFrame:
    """Label and unit of every feature an expression may use (``Ep`` included)."""
    rows = []
    for name in names:
        if name == EP:
            rows.append({"feature": EP, "label": f"GNN prediction of {target}", "unit": unit})
        else:
            spec = _SPECS.get(name)
            rows.append(
                {
                    "feature": name,
                    "label": spec.label if spec else "",
                    "unit": spec.unit if spec else "",
                }
            )
    return pd.DataFrame(rows)


def units_of(names: Sequence[str], unit: str, extra: Mapping[str, str] | None = None) -> list[str]:
    """Units of the SR inputs (``Ep`` has the target's unit; ``extra`` for non-catalog columns)."""
    known = {**{k: s.unit for k, s in _SPECS.items()}, **(extra or {}), EP: unit}
    return [known[name] for name in names]


def _usable(frame: pd.DataFrame, ordered: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Features in order, without those with missing values or no spread on the training rows."""
    usable, skipped = [], {}
    train = frame["part"] == "train"
    for name in ordered:
        values = frame[name]
        if not np.isfinite(values).all():
            skipped[name] = f"{int((~np.isfinite(values)).sum())} missing values"
        elif frame.loc[train, name].nunique() < 2:
            skipped[name] = "constant on the training rows"
        else:
            usable.append(name)
    return usable, skipped


def feature_rankings(
    model: SAGAT, graphs: LabelledGraphs, methods: Sequence[str] = ("ic",), *, seed: int = 0
) -> dict[str, list[str]]:
    """Global features by each ranking method on some structures, most important first.

    Args:
        model: The run's model.
        graphs: The structures (the training rows; permutation and gradients
            use a seeded sample of :data:`RANKING_ROWS`).
        methods: Names of :data:`RANKINGS`.
        seed: Seed of the sample and the permutations.

    Raises:
        ValueError: For an unknown method.
    """
    unknown = sorted(set(methods) - set(RANKINGS))
    if unknown:
        raise ValueError(f"unknown ranking(s) {unknown}; known: {list(RANKINGS)}")
    out = {}
    if "ic" in methods:
        mean_ic = importance_coefficients(model, graphs).global_ic.mean(axis=0)
        out["ic"] = list(mean_ic.sort_values(ascending=False).index)
    if len(graphs.graphs) > RANKING_ROWS:
        rng = np.random.default_rng(seed)
        picks = np.sort(rng.choice(len(graphs.graphs), RANKING_ROWS, replace=False))
        graphs = LabelledGraphs([graphs.ids[i] for i in picks], [graphs.graphs[i] for i in picks])
    if "permutation" in methods:
        out["permutation"] = list(
            permutation_importance(model, graphs, seed=seed, n_repeats=1)["feature"]
        )
    if "integrated_gradients" in methods:
        out["integrated_gradients"] = list(
            attribution_ranking(integrated_gradients(model, graphs)).index
        )
    return {method: out[method] for method in methods}


def build_distill_data(
    run: Run,
    prepared: PreparedDataset,
    oof: pd.DataFrame,
    *,
    model: SAGAT,
    ranking: str = "ic",
    methods: Sequence[str] = ("ic",),
) -> DistillData:
    """Join Ep, targets and raw global features; rank features on the training rows.

    Args:
        run: The run whose model gives the rankings.
        prepared: Its prepared dataset.
        oof: :func:`out_of_fold_predictions` output for the run's split.
        model: The run's model (loaded once by the caller).
        ranking: The ranking :attr:`DistillData.ranking` holds.
        methods: Every ranking to compute (``ranking`` is added when missing).

    Returns:
        The SR inputs.
    """
    metadata = run.metadata()
    target = metadata["target"]
    store = prepared.graphs()
    names = list(prepared.manifest["global_features"])
    features = pd.DataFrame(
        store.global_features[store.index_of(list(oof["id"]))].astype(np.float64),
        columns=names,
    )
    frame = pd.concat(
        [
            oof[["id", "part", target, "ep"]].rename(columns={"ep": EP}).reset_index(drop=True),
            features,
        ],
        axis=1,
    )
    _, parts = load_split_parts(prepared, metadata["subset"], metadata["split"], target)
    wanted = list(dict.fromkeys([ranking, *methods]))
    rankings, skipped = {}, {}
    for method, ordered in feature_rankings(model, parts["train"], wanted).items():
        rankings[method], dropped = _usable(frame, ordered)
        skipped.update(dropped)
    train_rows = frame.loc[frame["part"] == "train", rankings[ranking]]
    return DistillData(
        target,
        metadata.get("unit", ""),
        frame,
        rankings[ranking],
        skipped,
        rankings=rankings,
        groups=correlation_groups(train_rows),
    )


@dataclass
class Expression:
    """A fitted SR model and its held-out errors.

    Attributes:
        run: Run name.
        engine: SR engine.
        mode: ``"Ep + top features"`` or ``"top features only"``.
        inputs: The input features.
        estimator: The fitted :class:`SymbolicRegressor`.
        equations: Its ``equations_`` with ``test_mae`` / ``test_rmse`` added.
        best: The chosen equation (``equations.loc[best]``).
        test: MAE / RMSE / R2 of the chosen equation on the test rows.
        seconds: Wall time of the SR fit.
    """

    run: str
    engine: str
    mode: str
    inputs: list[str]
    estimator: SymbolicRegressor
    equations: pd.DataFrame
    best: int
    test: dict[str, float]
    seconds: float

    @property
    def expression(self) -> str:
        """The chosen expression over feature names."""
        return str(self.equations.loc[self.best, "expression"])

    def latex(self) -> str:
        """The chosen expression in LaTeX."""
        return self.estimator.latex()


def fit_expression(
    data: DistillData,
    inputs: Sequence[str],
    *,
    engine: str,
    run: str,
    mode: str,
    sr_options: Mapping[str, Any] | None = None,
) -> Expression:
    """Fit one SR model on the training rows, select on validation, score on test.

    Args:
        data: SR inputs.
        inputs: Input columns (``Ep`` and/or feature names).
        engine: ``"sisso"``, ``"operon"`` or ``"pysr"``.
        run: Run name (for tables).
        mode: Mode label (for tables).
        sr_options: :class:`SymbolicRegressor` keyword arguments.

    Returns:
        The fitted expression with test errors.
    """
    train, val, test = (data.part(p) for p in PARTS)
    estimator = SymbolicRegressor(engine, **{"progress": False, **(sr_options or {})})
    started = time.perf_counter()
    estimator.fit(
        train[list(inputs)],
        train[data.target].to_numpy(),
        units=units_of(inputs, data.unit, data.extra_units),
        X_val=val[list(inputs)],
        y_val=val[data.target].to_numpy(),
    )
    seconds = time.perf_counter() - started
    equations = estimator.equations_.copy()
    y_test = test[data.target].to_numpy()
    maes, rmses = [], []
    for index in equations.index:
        prediction = estimator.predict(test[list(inputs)], index=index)
        finite = np.isfinite(prediction).all()
        scores = regression_metrics(y_test, prediction) if finite else {}
        maes.append(scores.get("mae", float("nan")))
        rmses.append(scores.get("rmse", float("nan")))
    equations["test_mae"], equations["test_rmse"] = maes, rmses
    best = int(estimator.best_)
    chosen = estimator.predict(test[list(inputs)])
    return Expression(
        run=run,
        engine=engine,
        mode=mode,
        inputs=list(inputs),
        estimator=estimator,
        equations=equations,
        best=best,
        test=regression_metrics(y_test, chosen) if np.isfinite(chosen).all() else {},
        seconds=seconds,
    )


@dataclass
class DistillResult:
    """All expressions of one run.

    Attributes:
        run: Run name; ``metadata`` its dataset, subset, split, target, unit.
        data: The SR inputs.
        gnn_test: MAE / RMSE / R2 of Ep alone on the test rows.
        expressions: One per engine and mode.
    """

    run: str
    metadata: dict[str, Any]
    data: DistillData
    gnn_test: dict[str, float]
    expressions: list[Expression]

    def identity(self) -> dict[str, str]:
        """Run, dataset, subset, target and unit: the key columns of every result row."""
        return {
            "run": self.run,
            "dataset": self.metadata["dataset"],
            "subset": self.metadata["subset"],
            "target": self.data.target,
            "unit": self.data.unit,
        }

    def table(self) -> pd.DataFrame:
        """One row per expression: engine, mode, expression, complexity, test errors."""
        rows = []
        for e in self.expressions:
            chosen = e.equations.loc[e.best]
            rows.append(
                {
                    **self.identity(),
                    "engine": e.engine,
                    "mode": e.mode,
                    "expression": e.expression,
                    "complexity": int(chosen["complexity"]),
                    "test_mae": e.test.get("mae", float("nan")),
                    "test_rmse": e.test.get("rmse", float("nan")),
                    "gnn_test_mae": self.gnn_test["mae"],
                    "sr_seconds": round(e.seconds, 3),
                }
            )
        return pd.DataFrame(rows)


def distill_run(
    run_dir: str | os.PathLike[str],
    prepared_root: str | os.PathLike[str] | None,
    *,
    oof_root: str | os.PathLike[str],
    k_folds: int = 5,
    top_k: int = 5,
    descriptor_k: int = 10,
    engines: Sequence[str] = ("sisso", "operon"),
    sr_options: Mapping[str, Mapping[str, Any]] | None = None,
    fold_epochs: int = 0,
    ranking: str = "ic",
    group_rule: bool = True,
    compare_rankings: Sequence[str] = (),
) -> DistillResult:
    """Out-of-fold Ep, top features and SR for one run.

    Args:
        run_dir: A finished run folder (``sagatsr train`` / notebook 02).
        prepared_root: Folder of the prepared datasets; ``None``: where the run
            recorded it (:meth:`~sagatsr.train.run.Run.prepared_dataset`).
        oof_root: Where the fold models and ``oof_predictions.csv`` go.
        k_folds: Folds for the out-of-fold Ep of the training rows.
        top_k: Top features given to SR together with Ep (the paper: a few).
        descriptor_k: Top features of the descriptor-only expressions.
        engines: SR engines to run.
        sr_options: Per-engine :class:`SymbolicRegressor` options.
        fold_epochs: Epochs of the fold models; ``0`` (the default) keeps the
            run's own training settings (read from its saved model), so that
            the out-of-fold Ep of the training rows comes from models like the
            one that predicts the test rows.
        ranking: The ranking the top features come from (:data:`RANKINGS`).
        group_rule: At most one feature per near-duplicate group in a top list.
        compare_rankings: More rankings whose ``Ep + top-k`` expressions are
            fitted with the first engine, with and without the group rule, to
            show side by side (e.g. ``("ic", "permutation")``).

    Returns:
        The expressions and their held-out errors.
    """
    run = Run(run_dir)
    metadata = run.metadata()
    config, _ = run.model_config()
    prepared = run.prepared_dataset(prepared_root)
    for engine in dict.fromkeys(engines):
        # Before the fold models are trained (minutes), not after.
        SymbolicRegressor(engine, **(sr_options or {}).get(engine, {})).check_engine()
    train_config = replace(TrainConfig.from_dict(metadata["train_config"]), progress_bar=False)
    if fold_epochs:
        train_config = replace(train_config, epochs=fold_epochs)
    dataset_settings = {
        "n_node_features",
        "n_global_features",
        "node_feature_names",
        "global_feature_names",
        "catalog_version",
    }
    settings = {k: v for k, v in config.to_dict().items() if k not in dataset_settings}
    model = run.load_model()
    oof = out_of_fold_predictions(
        prepared.out_dir,
        subset=metadata["subset"],
        split=metadata["split"],
        target=metadata["target"],
        out_root=oof_root,
        k=k_folds,
        model_settings=settings,
        train_config=train_config,
        main_model=model,
    )
    data = build_distill_data(
        run, prepared, oof, model=model, ranking=ranking, methods=(ranking, *compare_rankings)
    )
    test = data.part("test")
    gnn_test = regression_metrics(test[data.target].to_numpy(), test[EP].to_numpy())
    name = run.folder.name
    suffix = f" ({ranking}{', grouped' if group_rule else ''})"
    expressions = []
    for engine in engines:
        options = (sr_options or {}).get(engine, {})
        for inputs, mode in (
            ([EP, *data.top_features(top_k, grouped=group_rule)], "Ep + top features"),
            (data.top_features(descriptor_k, grouped=group_rule), "top features only"),
        ):
            expressions.append(
                fit_expression(
                    data, inputs, engine=engine, run=name, mode=mode + suffix, sr_options=options
                )
            )
    for method in compare_rankings:
        for grouped in (False, True):
            if method == ranking and grouped == group_rule:
                continue  # fitted above
            inputs = [EP, *data.top_features(top_k, method=method, grouped=grouped)]
            mode = f"Ep + top features ({method}{', grouped' if grouped else ''})"
            expressions.append(
                fit_expression(
                    data,
                    inputs,
                    engine=engines[0],
                    run=name,
                    mode=mode,
                    sr_options=(sr_options or {}).get(engines[0], {}),
                )
            )
    return DistillResult(name, metadata, data, gnn_test, expressions)


def load_distilled(
    run_dir: str | os.PathLike[str],
    prepared_root: str | os.PathLike[str] | None,
    oof_root: str | os.PathLike[str],
    *,
    ranking: str = "ic",
) -> DistillResult:
    """The SR inputs of a run already distilled (from its ``oof_predictions.csv``), no expressions.

    Args:
        run_dir: The run folder.
        prepared_root: Folder of the prepared datasets; ``None``: where the run
            recorded it (:meth:`~sagatsr.train.run.Run.prepared_dataset`).
        oof_root: The run's out-of-fold folder (holding ``oof_predictions.csv``).
        ranking: The ranking of the top features.

    Returns:
        A result with ``data`` and ``gnn_test`` and an empty expression list.

    Raises:
        FileNotFoundError: If the run has not been distilled.
    """
    path = Path(oof_root) / OOF_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: distill the run first (notebook 04)")
    run = Run(run_dir)
    metadata = run.metadata()
    prepared = run.prepared_dataset(prepared_root)
    oof = pd.read_csv(path, dtype={"id": str})
    data = build_distill_data(run, prepared, oof, model=run.load_model(), ranking=ranking)
    test = data.part("test")
    gnn_test = regression_metrics(test[data.target].to_numpy(), test[EP].to_numpy())
    return DistillResult(run.folder.name, metadata, data, gnn_test, [])


def pareto_frame(results: Sequence[DistillResult]) -> pd.DataFrame:
    """Every candidate equation: run, engine, mode, complexity, validation and test error."""
    frames = []
    for result in results:
        for e in result.expressions:
            frame = e.equations[["expression", "complexity", "val_rmse", "test_mae"]].copy()
            frame.insert(0, "mode", e.mode)
            frame.insert(0, "engine", e.engine)
            frame.insert(0, "run", result.run)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
