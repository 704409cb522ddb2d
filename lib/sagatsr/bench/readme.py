"""The README's result figures, generated from ``reports/metrics`` (never typed by hand).

The README marks each generated block with ``<!-- results:NAME -->`` and
``<!-- /results:NAME -->``; :func:`render_readme` replaces every such block by
the output of its renderer in :data:`SECTIONS`, which reads only the result
files. ``sagatsr readme`` rewrites the README, ``sagatsr readme --check`` (and a
test) fails when README and result files disagree.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sagatsr.bench.gpu_checks import timed_recipes
from sagatsr.sr.display import formula_text
from sagatsr.sr.units import format_quantity, with_unit

Metrics = dict[str, dict[str, Any]]

_BLOCK = re.compile(r"(<!-- results:([a-z0-9_]+) -->\n)(.*?)(<!-- /results:\2 -->)", re.DOTALL)


def load_metrics(directory: str | os.PathLike[str]) -> Metrics:
    """Every result file of a folder, by file stem (``throughput``, ``matbench_perovskites``...).

    Raises:
        ValueError: For a file that is not valid JSON (named).
    """
    out: Metrics = {}
    for path in sorted(Path(directory).glob("*.json")):
        try:
            out[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not a valid result file ({error})") from error
    return out


def _source(result: dict[str, Any], name: str) -> str:
    """One line naming the file, commit, hardware and date of a result."""
    provenance = result.get("provenance", result)
    hardware = provenance.get("hardware") or {}
    cpu = f"{hardware.get('cpu', '?')}, {hardware.get('cpu_cores', '?')} cores"
    gpu = f", GPU {hardware['gpu']}" if hardware.get("gpu") else ""
    commit = str(provenance.get("commit", "?"))[:7]
    date = str(provenance.get("date", "?"))[:10]
    stage = provenance.get("dvc_stage")
    by = f", written by `dvc repro` stage `{stage}`" if stage else ""
    return f"<sub>`reports/metrics/{name}.json`: commit {commit}, {cpu}{gpu}, {date}{by}.</sub>"


def _missing(name: str) -> str:
    return f"*Not measured yet (`reports/metrics/{name}.json` is absent).*"


def reach_text(trial: dict[str, Any]) -> str:
    """When a recipe trial first reached the reference's best validation MAE."""
    reach = trial["reaches_reference"]
    if reach["epoch"] is None:
        return "never"
    return f"epoch {reach['epoch']}, {reach['seconds'] / 60:.1f} min"


def _fmt(value: float, digits: int = 4) -> str:
    return (
        "n/a"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else (f"{value:.{digits}g}")
    )


def featurize_section(metrics: Metrics) -> str:
    """Graph construction time for the Castelli set."""
    result = metrics.get("featurize")
    if not result:
        return _missing("featurize")
    return (
        f"{result['n_graphs']:,} {result['dataset']} graphs in {result['graph_seconds']:.1f} s "
        f"({result['structures_per_second']:.0f} structures/s, {result['workers']} workers).\n"
        + _source(result, "featurize")
    )


def training_domain_section(metrics: Metrics) -> str:
    """Share of a split's test part and of other datasets outside its training domain."""
    result = metrics.get("training_domain")
    if not result:
        return _missing("training_domain")
    reference = result["reference"]
    lines = [
        "| checked against the domain | structures | outside | elements | sites | "
        "perovskite rules | global features | features, no margin |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for entry in result["evaluated"]:
        rules = entry["share_by_rule"]
        shares = [
            entry["share_outside"],
            *(rules[rule] for rule in ("elements", "sites", "perovskite", "features")),
            entry["share_feature_outside_plain_range"],
        ]
        cells = " | ".join(f"{100 * share:.1f} %" for share in shares)
        lines.append(f"| {entry['name']} | {entry['n']:,} | {cells} |")
    return (
        "\n".join(lines) + f"\n\nThe domain: the {reference['n_train']:,} structures of the "
        f"{reference['dataset']} {reference['split']} training part ({reference['elements']} "
        f"elements, {reference['sites'][0]} to {reference['sites'][1]} sites, "
        f"{100 * reference['perovskite_share']:.1f} % perovskites by the role rules); a global "
        f"feature counts when it lies beyond its training range by more than "
        f"{100 * result['margin']:g} % of the range's width (last column: without that margin).\n"
        + _source(result, "training_domain")
    )


def throughput_section(metrics: Metrics) -> str:
    """Graphs per second of each step recipe and model size, with the speed-up over before."""
    result = metrics.get("throughput")
    if not result or "sizes" not in result:
        return _missing("throughput")
    lines = [
        "| model | recipe | batch | processes x threads | compiled | graphs/s | vs before |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    threads = result["torch_threads"]
    for size, entry in result["sizes"].items():
        recipes = entry["devices"].get("cpu", {}).get("recipes", {})
        for name, measured in recipes.items():
            recipe = measured["recipe"]
            processes = recipe.get("processes", 1)
            layout = f"{processes} x 1" if processes > 1 else f"1 x {threads}"
            lines.append(
                f"| {size} ({entry['parameters']:,} parameters) | {name} | {recipe['batch_size']}"
                f" | {layout} | {'yes' if recipe['compile'] else 'no'}"
                f" | {measured['graphs_per_second']:.0f}"
                f" | {measured.get('speedup_over_before', float('nan')):.2f}x |"
            )
    lines.append(
        f"\n{result['n_graphs_per_call']} graphs per timed pass, median of the timed passes; "
        "a data-parallel recipe's batch is split evenly over its processes (DDP over gloo, "
        "one torch thread each). " + _source(result, "throughput")
    )
    return "\n".join(lines)


def _matbench_recipe(model: dict[str, Any], train: dict[str, Any]) -> str:
    """A Matbench recipe in words: the model's shape and the training settings."""
    return (
        f"model hidden {model['hidden']}, {model['layers']} layers, {model['heads']} heads, "
        f"edge dimension {model['edge_dim']}, dropout {model['dropout']}; {train['epochs']} "
        f"epochs, batch {train['batch_size']}, learning rate {train['lr']}, weight decay "
        f"{train['weight_decay']}, EMA {train['ema_decay']}"
        + (", compiled" if train.get("compile") else "")
    )


def matbench_section(metrics: Metrics) -> str:
    """Matbench perovskites: folds, mean, leaderboard position, ensemble uncertainty."""
    return _matbench_block(metrics, "matbench_perovskites")


def matbench_refit_section(metrics: Metrics) -> str:
    """The Matbench ensembles refit on training + validation (``matbench_refit.json``)."""
    return _matbench_block(metrics, "matbench_refit")


def _matbench_block(metrics: Metrics, name: str) -> str:
    result = metrics.get(name)
    if not result:
        return _missing(name)
    folds = ", ".join(f"{f['test_mae']:.4f}" for f in result["folds"])
    seeds = result.get("ensemble_seeds") or []
    recipes = result.get("recipes") or []
    if recipes:  # members of several benchmarks (sagatsr.bench.matbench_combined)
        what = (
            f"An ensemble of {len(seeds)} members per fold from {len(recipes)} recipes: "
            + "; ".join(
                f"({chr(ord('A') + i)}) {len(r['seeds'])} seeds of "
                + _matbench_recipe(r["model_config"], r["train_config"])
                for i, r in enumerate(recipes)
            )
        )
    else:
        what = (
            (f"An ensemble of {len(seeds)} seeds per fold" if seeds else "One model per fold")
            + ", "
            + _matbench_recipe(result["model_config"], result["train_config"])
        )
    better = ", ".join(result.get("better_than", [])) or "none"
    mean = f"{result['mean_mae']:.4f} +- {result['std_mae']:.4f}"
    refit = bool(result.get("refit"))
    validation = (
        "every member refit on the training and validation parts (last epoch), so no "
        "held-out validation figure"
        if refit
        else f"mean validation MAE {result['mean_val_mae']:.4f}"
    )
    lines = [
        f"Mean test MAE **{with_unit(mean, result['unit'])}** over {len(result['folds'])} "
        f"fold(s) (folds: {folds}); {validation}. {what}"
        f". Published entries it is below: {better}.",
    ]
    cpu = result.get("train_cpu_seconds")
    if cpu:
        lines.append(
            f"Training CPU time: {cpu / 3600:.1f} core-hours for the 5 folds "
            f"({cpu / 3600 / max(1, len(result['folds'])):.1f} per fold), wall time of training "
            f"{result.get('train_seconds', 0) / 3600:.1f} h summed over runs."
        )
    summary = result.get("uncertainty_test_mean_over_folds")
    if summary:
        coverage = summary["coverage"]
        where = (
            "with the calibration of the same members' ensemble trained without it"
            if refit
            else "on each fold's validation slice"
        )
        lines.append(
            f"Uncertainty (ensemble spread calibrated {where}): "
            f"observed coverage of the 68 % / 95 % intervals on the test folds "
            f"{coverage['0.68']:.3f} / {coverage['0.95']:.3f}; MAE of the most uncertain "
            f"decile {summary['mae_most_uncertain_decile']:.4f} against "
            f"{summary['mae_other_deciles']:.4f} for the rest."
        )
        sizes = result.get("by_ensemble_size") or []
        if sizes:
            if not refit and all(math.isfinite(s.get("mean_val_mae", math.nan)) for s in sizes):
                label = "Mean MAE by ensemble size, validation / test"
                figures = [f"{s['mean_val_mae']:.4f} / {s['mean_test_mae']:.4f}" for s in sizes]
            else:  # results written before the validation MAE was kept per size
                label = "Mean test MAE by ensemble size"
                figures = [f"{s['mean_test_mae']:.4f}" for s in sizes]
            pairs = ", ".join(f"k={s['members']} {f}" for s, f in zip(sizes, figures, strict=True))
            lines.append(f"{label}: {pairs}.")
    lines.append(_source(result, name))
    return "\n".join(lines)


def _suite_table(result: dict[str, Any]) -> str:
    lines = [
        "| run | data | target | embedding | test MAE | R2 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for run in result.get("runs", []):
        lines.append(
            f"| {run['name']} | {run['dataset']}/{run['subset']} ({run['split']}) | "
            f"{run['target']} | {run['embedding']} | "
            f"{format_quantity(run['test_mae'], run['unit'])} | "
            f"{run['test_r2']:.3f} |"
        )
    return "\n".join(lines)


def subsets_section(metrics: Metrics) -> str:
    """Accuracy on the OQMD subsets and Castelli band gap."""
    result = metrics.get("subsets")
    if not result:
        return _missing("subsets")
    return _suite_table(result) + "\n\n" + _source(result, "subsets")


def ablation_section(metrics: Metrics) -> str:
    """The embedding ablation (SAE / FCN / one-hot)."""
    result = metrics.get("embedding_ablation")
    if not result:
        return _missing("embedding_ablation")
    return _suite_table(result) + "\n\n" + _source(result, "embedding_ablation")


def ic_stability_section(metrics: Metrics) -> str:
    """IC ranking stability across the Matbench fold models."""
    result = metrics.get("ic_stability_folds")
    if not result:
        return _missing("ic_stability_folds")
    return (
        f"Across {len(result['runs'])} runs: mean Spearman {result['mean_spearman']:.2f} "
        f"(min {result['min_spearman']:.2f}), top-{result['k']} overlap "
        f"{result['mean_top_k_overlap']:.2f} (min {result['min_top_k_overlap']:.2f}).\n"
        + _source(result, "ic_stability_folds")
    )


def sr_speedup_section(metrics: Metrics) -> str:
    """Conventional SR against SA-GAT-SR, same engine and settings."""
    result = metrics.get("sr_speedup")
    if not result:
        return _missing("sr_speedup")
    lines = [
        "| run | speed-up | conventional: inputs, s, test MAE | SA-GAT-SR: inputs, s, test MAE |",
        "| --- | --- | --- | --- |",
    ]
    for run in result["runs"]:
        conv, ours = run["conventional"], run["sa_gat_sr"]
        lines.append(
            f"| {run['run']} | {run['speedup']:.0f}x | {conv['n_inputs']}, "
            f"{conv['sr_seconds']:.2f}, {with_unit(_fmt(conv['test_mae']), run['unit'])} | "
            f"{ours['n_inputs']}, {ours['sr_seconds']:.3f}, "
            f"{with_unit(_fmt(ours['test_mae']), run['unit'])} |"
        )
    return "\n".join(lines) + "\n\n" + _source(result, "sr_speedup")


def scaling_section(metrics: Metrics) -> str:
    """Log-log slopes of inference time and memory against atoms."""
    result = metrics.get("scaling")
    if not result:
        return _missing("scaling")
    slopes = result["slopes"]
    parts = []
    for device, label in (
        ("cpu", "default allocator"),
        ("cpu_retained_memory", "freed memory retained"),
    ):
        if device in slopes:
            large = slopes[device]["large_n"]
            parts.append(
                f"{label}: inference time {large['inference_s']:.2f}, with graph construction "
                f"{large['total_s']:.2f}, inference memory {large['inference_peak_bytes']:.2f}"
            )
    return (
        f"Log-log slopes for n >= {result['fit_min_atoms']} atoms ({result['structure']}): "
        + "; ".join(parts)
        + ".\n"
        + _source(result, "scaling")
    )


def sisso_section(metrics: Metrics) -> str:
    """Our SISSO against TorchSISSO."""
    result = metrics.get("sisso_engine")
    if not result:
        return _missing("sisso_engine")
    data = result["dataset"]
    return (
        f"Same best descriptors at every dimension: {result['descriptors_agree']}; "
        f"{result['ours']['wall_s']:.2f} s against {result['torchsisso']['wall_s']:.1f} s "
        f"({result['speedup']:.0f}x) on {data['n_samples']} rows x {data['n_features']} "
        f"features, dimension {result['settings']['max_dim']}.\n" + _source(result, "sisso_engine")
    )


def pipeline_section(metrics: Metrics) -> str:
    """Test MAE of the quick-profile pipeline runs (``train_*.json``)."""
    runs = {name: result for name, result in metrics.items() if name.startswith("train_")}
    if not runs:
        return _missing("train_*")
    lines = ["| run | test MAE | R2 | epochs |", "| --- | --- | --- | --- |"]
    for name, result in runs.items():
        test = result["metrics"]["test"]
        lines.append(
            f"| {name.removeprefix('train_')} | {format_quantity(test['mae'], result['unit'])} | "
            f"{test['r2']:.3f} | {result['epochs_run']} |"
        )
    first = next(iter(runs))
    return "\n".join(lines) + "\n\n" + _source(runs[first], first)


def _trials_table(result: dict[str, Any], name: str) -> str:
    unit = result["unit"]
    lines = [
        "| run | hidden | dropout | feature dropout | batch | lr | weight decay | epochs | seed "
        "| training share | processes x threads | compiled | best val MAE | training time "
        "| reaches the reference's val MAE |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
        "| --- |",
    ]
    for trial in result["trials"]:
        model, train, when = trial["model"], trial["train"], reach_text(trial)
        seed = train.get("seed", "?")  # files written before seeds were recorded
        devices = train.get("devices")
        processes = devices if isinstance(devices, int) else 1  # "auto" on a CPU: one
        lines.append(
            f"| {trial['run']} | {model['hidden']} | {model['dropout']} | "
            f"{model.get('feature_dropout', 0.0)} | {train['batch_size']} | {train['lr']} | "
            f"{train.get('weight_decay', '?')} | {trial['epochs_run']} | {seed} | "
            f"{trial.get('train_fraction', 1.0):g} | "
            f"{processes} x {trial['torch_threads'] or '?'} | "
            f"{'yes' if train.get('compile') else 'no'} | "
            f"{format_quantity(trial['best_val_mae'], unit, '.4f')} "
            f"(epoch {trial['best_epoch']}) | "
            f"{trial['train_seconds'] / 60:.1f} min | {when} |"
        )
    pairs = result.get("pairs") or []  # files written before pairs were kept have none
    if pairs:
        mixed = ", ".join(
            f"{' + '.join(pair['runs'])} {pair['val_mae']:.4f}"
            for pair in sorted(pairs, key=lambda pair: pair["val_mae"])
        )
        lines.append(f"\nValidation MAE of the mean of two runs, best first: {mixed}.")
    return (
        f"{result['dataset']}/{result['subset']} {result['split']} {result['target']}; "
        f"reference recipe: {result['reference']}.\n\n"
        + "\n".join(lines)
        + "\n\n"
        + _source(result, name)
    )


def trials_section(metrics: Metrics) -> str:
    """Recipes compared on a validation slice (no test figures), one table per trials file."""
    names = sorted(name for name in metrics if name.startswith("recipe_trials"))
    if not names:
        return _missing("recipe_trials")
    return "\n\n".join(_trials_table(metrics[name], name) for name in names)


def faithfulness_section(metrics: Metrics) -> str:
    """IC faithfulness: recall of planted features, stability, removal, goals."""
    result = metrics.get("ic_faithfulness")
    if not result:
        return _missing("ic_faithfulness")
    lines = [
        "| dataset | planted target | IC: feature / derivation / correlation | permutation | "
        "integrated gradients | random |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in result["planted_recall_at_5"]:
        recall = row["recall_at_5"]

        def triple(method: str, recall: dict = recall) -> str:
            values = recall[method]
            return " / ".join(f"{values[g]:.2f}" for g in ("feature", "derivation", "correlation"))

        lines.append(
            f"| {row['dataset']} | {row['target']} | {triple('ic')} | {triple('permutation')} | "
            f"{triple('integrated_gradients')} | {triple('random')} |"
        )
    parts = ["\n".join(lines), ""]
    for name, data in result["datasets"].items():
        stability, removal = data["stability"], data["removal"]
        init = [entry["spearman"] for entry in stability["init_vs_trained"]]
        removed = ", ".join(
            f"{method} {entry['val_mae_increase']:+.4g}"
            for method, entry in removal["removed"].items()
        )
        parts.append(
            f"* {name}: seed-to-seed Spearman {stability['mean_spearman']:.2f}, top-10 overlap "
            f"{stability['mean_top10_overlap']:.2f}; trained against initial ranking Spearman "
            f"{min(init):.2f} to {max(init):.2f}; validation MAE after removing the top "
            f"{removal['k']} features ({removal['target']}): {removed}."
        )
    goals = ", ".join(
        f"{goal}: {'met' if met else 'NOT met'}" for goal, met in result["goals"].items()
    )
    parts.append(f"\nGoals: {goals}.\n" + _source(result, "ic_faithfulness"))
    return "\n".join(parts)


def encodings_section(metrics: Metrics) -> str:
    """SAE variants: planted recall, seed stability, concentration, accuracy, verdict."""
    result = metrics.get("ic_encodings")
    if not result:
        return _missing("ic_encodings")
    fold0 = result.get("matbench_fold0", {}).get("encodings", {})
    lines = [
        "| encoding | group recall@5 | feature recall@5 | worst target | seed Spearman | "
        "seed top-10 | trained vs initial Spearman | entropy / uniform | top-10 share | "
        "planted MAE / std | Matbench fold-0 val MAE |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, entry in result["encodings"].items():
        score = entry["scores"]
        init = score["init_vs_trained_spearman"]
        val = fold0.get(name, {}).get("val_mae")
        lines.append(
            f"| {name} | {score['recall_at_5_group']:.2f} | {score['recall_at_5_feature']:.2f} | "
            f"{score['worst_target_group_recall_at_5']:.2f} | {score['seed_spearman']:.2f} | "
            f"{score['seed_top10_overlap']:.2f} | "
            f"{'uniform start' if init is None else f'{init:.2f}'} | "
            f"{score['entropy_ratio']:.1%} | {score['top10_share']:.1%} | "
            f"{score['planted_mae_over_std']:.3f} | "
            f"{'not run' if val is None else f'{val:.4f} eV/cell'} |"
        )
    decision = result["verdict"]
    outcome = (
        f"best by group recall: **{decision['best']}**; "
        + ("it becomes the default." if decision["becomes_default"] else "the default stays paper")
        + (f" ({'; '.join(decision['reasons'])})." if decision["reasons"] else "")
    )
    return "\n".join(lines) + f"\n\n{outcome}\n" + _source(result, "ic_encodings")


def predict_section(metrics: Metrics) -> str:
    """``sagatsr predict`` on many files: one at a time against batched."""
    result = metrics.get("predict")
    if not result:
        return _missing("predict")
    before, after = result["before"], result["after"]
    text = (
        f"{result['n_files']:,} CIF files, in one process: {before['seconds']:.1f} s one at a "
        f"time ({before['files_per_second']:.0f} files/s), {after['seconds']:.1f} s with "
        f"{after['workers']} workers and batches of {after['batch_size']} "
        f"({after['files_per_second']:.0f} files/s): **{result['speedup']:.1f}x**; largest "
        f"difference between the two {result['max_abs_difference']:.1e}; model loaded once in "
        f"{result['model_load_seconds']:.1f} s."
    )
    cli, baseline = result.get("cli"), result.get("baseline_cli")
    if cli:
        text += (
            f" The `sagatsr predict` command on the same files, imports included: "
            f"{cli['seconds']:.1f} s"
        )
        if baseline:
            label = baseline.get("label") or "the baseline command"
            text += (
                f", against {baseline['seconds']:.1f} s for {label}: "
                f"**{result['cli_speedup']:.1f}x** end to end"
            )
        text += "."
    return text + "\n" + _source(result, "predict")


def worked_example_section(metrics: Metrics) -> str:
    """The "your own data" worked example: prepare, train and distill figures."""
    result = metrics.get("user_data_mp20")
    if not result:
        return _missing("user_data_mp20")
    prepare, train = result["prepare"], result["train"]
    unit = train.get("unit") or ""
    test = train["metrics"]["test"]
    cpu = train.get("cpu_seconds")
    cpu_text = f", {cpu / 60:.0f} CPU minutes" if cpu else ""
    lines = [
        f"{prepare['n_entries']:,} entries read, {prepare['n_records']:,} valid, "
        f"{prepare['n_skipped']} skipped, {prepare['n_graph_failures']} graph failures; "
        f"network ({train['epochs_run']} epochs{cpu_text}): test MAE "
        f"**{format_quantity(test['mae'], unit)}** (R2 {test['r2']:.3f}, "
        f"{test['n']:,} test structures).",
        "",
        "| formula (distilled, rounded) | test MAE |",
        "| --- | --- |",
    ]
    for formula in result["distill"]["formulas"]:
        shown = formula_text(formula["expression"])
        lines.append(
            f"| {formula['mode']}: `{shown}` | {format_quantity(formula['test_mae'], unit)} |"
        )
    return "\n".join(lines) + "\n" + _source(result, "user_data_mp20")


def determinism_section(metrics: Metrics) -> str:
    """Test MAE against the thread count, beside the seed spread, on one CPU."""
    result = metrics.get("determinism")
    if not result:
        return _missing("determinism")
    unit = result["unit"]
    lines = [
        "| seed | " + " | ".join(f"{t} thread(s)" for t in result["threads"]) + " |",
        "| --- |" + " --- |" * len(result["threads"]),
    ]
    for seed in result["seeds"]:
        values = [
            format_quantity(r["test_mae"], unit)
            for t in result["threads"]
            for r in result["runs"]
            if r["seed"] == seed and r["threads"] == t
        ]
        lines.append(f"| {seed} | " + " | ".join(values) + " |")
    largest = max(v["rel"] for v in result["thread_spread"].values())
    repeat = "identical" if result["repeat_identical"] else "**different**"
    lines += [
        "",
        f"Thread count: up to {100 * largest:.1f} % of the test MAE; seeds: "
        f"{100 * result['seed_spread']['rel']:.1f} %; the same seed and thread count "
        f"trained again: {repeat}.",
    ]
    return "\n".join(lines) + "\n" + _source(result, "determinism")


def gpu_checks_section(metrics: Metrics) -> str:
    """The checks run on a GPU machine: tests, training step, inference, SISSO, a training."""
    result = metrics.get("gpu_checks")
    if not result:
        return _missing("gpu_checks")
    gpu = (result.get("hardware") or {}).get("gpu") or "no GPU recorded"
    lines = [f"| check | {gpu}, torch {result.get('torch', '?')} |", "| --- | --- |"]
    tests = result.get("tests")
    if tests:
        failed = [c for c in tests["cases"] if c["outcome"] == "failed"]
        text = f"{tests['passed']} passed, {tests['failed']} failed, {tests['skipped']} skipped"
        if failed:
            text += (
                " (failed: "
                + "; ".join(f"`{c['test'].split('.')[-1]}`: {c['message']}" for c in failed)
                + ")"
            )
        lines.append(f"| CUDA tests and the benchmark harnesses' tests | {text} |")

    def rates(entry: dict[str, Any]) -> str:
        return ", ".join(
            f"{name} {r['graphs_per_second']:,.0f}"
            + (f" ({r['speedup_over_before']:.1f}x)" if "speedup_over_before" in r else "")
            for name, r in timed_recipes(entry).items()
        )

    for size, entry in (result.get("throughput") or {}).get("sizes", {}).items():
        lines.append(
            f"| training step, {size} model ({entry['parameters']:,} parameters), "
            f"graphs/s | {rates(entry)} |"
        )
    for size, compiled in (result.get("throughput_compiled") or {}).items():
        if compiled:
            lines.append(
                f"| training step compiled (torch.compile), {size} model, graphs/s | "
                f"{rates(compiled['sizes'][size])} |"
            )
    scaling = result.get("scaling")
    if scaling and scaling["sizes"].get("cuda"):
        rows = scaling["sizes"]["cuda"]
        large = scaling["slopes"]["cuda"]["large_n"]
        lines.append(
            f"| inference, paper-size model, SrTiO3 {rows[0]['n_atoms']:,} to "
            f"{rows[-1]['n_atoms']:,} atoms | {rows[0]['inference_s'] * 1e3:.1f} to "
            f"{rows[-1]['inference_s'] * 1e3:.1f} ms (log-log slope {large['inference_s']:.2f} "
            f"for n >= {scaling['fit_min_atoms']}; memory slope "
            f"{large['inference_peak_bytes']:.2f}, {rows[-1]['inference_peak_bytes'] / 2**20:,.0f}"
            f" MiB at the largest); graph construction on the host CPU "
            f"{rows[-1]['graph_s']:.2f} s at the largest |"
        )
    sisso = result.get("sisso") or {}
    if sisso.get("cuda") and sisso.get("cpu"):
        gpu_run, cpu_run = sisso["cuda"], sisso["cpu"]
        data = gpu_run["dataset"]
        lines.append(
            f"| our SISSO, {data['n_samples']} rows x {data['n_features']} features, dimension "
            f"{gpu_run['settings']['max_dim']} | {gpu_run['ours']['wall_s']:.2f} s on CUDA, "
            f"{cpu_run['ours']['wall_s']:.2f} s on the host CPU; TorchSISSO "
            f"{gpu_run['torchsisso']['wall_s']:.1f} s / {cpu_run['torchsisso']['wall_s']:.1f} s; "
            f"same descriptors as TorchSISSO: {gpu_run['descriptors_agree']} / "
            f"{cpu_run['descriptors_agree']} |"
        )
    training = result.get("training")
    if training:
        config = training["train_config"]
        test = training["metrics"]["test"]
        lines.append(
            f"| Matbench fold 0, paper-size model, batch {config['batch_size']}, "
            f"{config['max_time_minutes']:g} min budget | {training['epochs_run']} epochs of "
            f"{config['epochs']} planned, {training['seconds_per_epoch']:.1f} s per epoch; best "
            f"validation MAE {training['best_val_mae']:.4f} {training['unit']} (epoch "
            f"{training['best_epoch']}), test MAE {test['mae']:.4f} {training['unit']} |"
        )
    fast = result.get("training_fast")
    if fast:
        config = fast["train_config"]
        lines.append(
            f"| the same without deterministic kernels, {config['num_workers']} loader workers, "
            f"{config['max_time_minutes']:g} min | {fast['epochs_run']} epochs, "
            f"{fast['seconds_per_epoch']:.1f} s per epoch; best validation MAE "
            f"{fast['best_val_mae']:.4f} {fast['unit']} |"
        )
    hardware = result.get("hardware") or {}
    commit = str(result.get("commit", "?"))[:7]
    recorded = str(result.get("commit_recorded_there") or "?")[:7]
    source = (
        f"<sub>`reports/metrics/gpu_checks.json`: tree of commit {commit} "
        f"(git state there: {recorded}), {gpu} with {hardware.get('cpu', '?')}, "
        f"{hardware.get('cpu_cores', '?')} cores, {str(result.get('date', '?'))[:10]}.</sub>"
    )
    return "\n".join(lines) + "\n\n" + source


#: Renderer of each README block, by block name.
SECTIONS: dict[str, Callable[[Metrics], str]] = {
    "featurize": featurize_section,
    "training_domain": training_domain_section,
    "throughput": throughput_section,
    "matbench": matbench_section,
    "matbench_refit": matbench_refit_section,
    "recipe_trials": trials_section,
    "ic_faithfulness": faithfulness_section,
    "ic_encodings": encodings_section,
    "predict": predict_section,
    "subsets": subsets_section,
    "embedding_ablation": ablation_section,
    "ic_stability": ic_stability_section,
    "sr_speedup": sr_speedup_section,
    "scaling": scaling_section,
    "sisso_engine": sisso_section,
    "pipeline": pipeline_section,
    "user_data_mp20": worked_example_section,
    "determinism": determinism_section,
    "gpu_checks": gpu_checks_section,
}


def render_readme(text: str, metrics: Metrics) -> str:
    """``text`` with every results block regenerated.

    Raises:
        KeyError: For a block name without a renderer.
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in SECTIONS:
            raise KeyError(f"README block {name!r} has no renderer (known: {sorted(SECTIONS)})")
        return f"{match.group(1)}{SECTIONS[name](metrics).rstrip()}\n{match.group(4)}"

    return _BLOCK.sub(replace, text)


def update_readme(
    readme: str | os.PathLike[str], metrics_dir: str | os.PathLike[str], *, check: bool = False
) -> bool:
    """Regenerate the README's results blocks (or only compare, with ``check``).

    Returns:
        Whether the README was already up to date.
    """
    path = Path(readme)
    text = path.read_text(encoding="utf-8")
    rendered = render_readme(text, load_metrics(metrics_dir))
    if rendered != text and not check:
        path.write_text(rendered, encoding="utf-8")
    return rendered == text
