"""Distillation of a trained run: out-of-fold Ep, top-IC features, SR, held-out errors."""

import numpy as np
import pytest
import sympy

from sagatsr.sr.display import expressions_table
from sagatsr.sr.distill import EP, distill_run, feature_legend, pareto_frame


@pytest.fixture(scope="module")
def result(trained_runs, tmp_path_factory):
    return distill_run(
        trained_runs / "models" / "castelli_gap",
        trained_runs / "prepared",
        oof_root=tmp_path_factory.mktemp("oof"),
        k_folds=2,
        top_k=3,
        descriptor_k=4,
        engines=("sisso", "operon"),
        sr_options={
            "sisso": {"n_sis": 20, "max_dim": 2},
            "operon": {"operon_options": {"generations": 10, "population_size": 50}},
        },
        fold_epochs=1,
        compare_rankings=("ic", "permutation"),
    )


def test_inputs_never_leak_the_test_rows(result, trained_runs) -> None:
    import pandas as pd

    data = result.data
    assert set(data.frame["part"]) == {"train", "val", "test"}
    assert data.frame[EP].notna().all()
    assert len(data.top_features(3)) == 3 and EP not in data.ranking
    for name in data.top_features(4):
        assert np.isfinite(data.frame[name]).all()
    # Ep of the val/test rows is the run's own prediction (it never trained on them);
    # Ep of the training rows comes from fold models, not from the run's model.
    run = pd.read_csv(trained_runs / "models" / "castelli_gap" / "predictions.csv").set_index("id")
    ep = data.frame.set_index("id")
    for part in ("val", "test"):
        ids = ep.index[ep["part"] == part]
        np.testing.assert_allclose(ep.loc[ids, EP], run.loc[ids, "prediction"], rtol=1e-5)
    train_ids = ep.index[ep["part"] == "train"]
    assert not np.allclose(ep.loc[train_ids, EP], run.loc[train_ids, "prediction"])


def test_rankings_and_the_group_rule(result) -> None:
    data = result.data
    assert set(data.rankings) == {"ic", "permutation"} and data.ranking == data.rankings["ic"]
    grouped = data.top_features(4, grouped=True)
    assert len({data.groups[name] for name in grouped}) == len(grouped) == 4
    assert data.top_features(4, method="permutation") == data.rankings["permutation"][:4]
    # the group rule only ever skips features whose group is already represented
    plain = data.top_features(4)
    for name in plain:
        if name not in grouped:
            assert data.groups[name] in {data.groups[g] for g in grouped}


def test_expressions_and_held_out_errors(result) -> None:
    table = result.table()
    main = table[
        table["mode"].isin(["Ep + top features (ic, grouped)", "top features only (ic, grouped)"])
    ]
    assert len(main) == 4 and set(main["engine"]) == {"sisso", "operon"}
    # the comparison: IC and permutation, with and without the group rule, first engine
    assert {
        "Ep + top features (ic)",
        "Ep + top features (permutation)",
        "Ep + top features (permutation, grouped)",
    } <= set(table["mode"])
    assert len(table) == 7
    with_ep = table[table["mode"].str.startswith("Ep + top features")]
    assert all(EP in e.inputs for e in result.expressions if e.mode.startswith("Ep + "))
    assert not any(EP in e.inputs for e in result.expressions if e.mode.startswith("top features"))
    assert np.isfinite(with_ep["test_mae"]).all() and (table["gnn_test_mae"] > 0).all()
    for e in result.expressions:
        # The chosen expression, evaluated through sympy, gives the reported predictions.
        test = result.data.part("test")
        direct = e.estimator.predict(test[e.inputs])
        expr = e.estimator.sympy()
        symbols = sorted(expr.free_symbols, key=lambda s: s.name)
        f = sympy.lambdify(symbols, expr, "numpy")
        values = (
            f(*[test[s.name].to_numpy() for s in symbols])
            if symbols
            else np.full(len(test), float(expr))
        )
        np.testing.assert_allclose(
            np.broadcast_to(values, direct.shape), direct, rtol=1e-4, atol=1e-6
        )
    shown = expressions_table([result]).to_html()
    assert shown.count("data:image/svg+xml;base64,") == len(table)  # one rendered formula each
    assert "$" not in shown  # readable without MathJax
    pareto = pareto_frame([result])
    assert {"engine", "complexity", "val_rmse", "test_mae"} <= set(pareto.columns)
    legend = feature_legend([EP, *result.data.top_features(2)], "gap_gllbsc", "eV")
    assert legend.loc[0, "unit"] == "eV" and legend["label"].str.len().min() > 0
