"""The README's figures as rows of a table: value, unit, published anchors, provenance.

Read from the result files of ``reports/metrics`` (loaded with
:func:`sagatsr.bench.readme.load_metrics`, the same files the README's results
blocks are generated from); :func:`headline_figures` turns them into
:class:`Headline` rows, suite by suite, in the order of :data:`SUITES`. A result file that
is absent gives one row whose value is :data:`NOT_MEASURED`; a file whose layout
is not the expected one gives one row whose value is :data:`UNREADABLE`, naming
the missing entry, so the table is always written and never silently short.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sagatsr.bench.gpu_checks import timed_recipes
from sagatsr.bench.readme import Metrics, load_metrics, reach_text
from sagatsr.sr.units import PURE_NUMBER_UNITS

__all__ = [
    "NOT_MEASURED",
    "SUITES",
    "UNREADABLE",
    "Headline",
    "Provenance",
    "Suite",
    "headline_figures",
    "load_metrics",
    "provenance_of",
]

#: Value shown for a figure whose result file is absent.
NOT_MEASURED = "not measured"

#: Value shown for a result file that lacks an entry the table reads.
UNREADABLE = "unreadable"

#: Unit of a ratio of two times or rates.
TIMES = "×"

#: The issue's throughput goal: this speed-up of the training step over the step
#: before the speed work, for this model size (README, "Training throughput").
THROUGHPUT_GOAL = ("medium", 3.0)


@dataclass(frozen=True)
class Provenance:
    """Where a result comes from.

    Attributes:
        date: Day of the measurement, ``YYYY-MM-DD`` (``"?"`` when unrecorded).
        commit: Short git commit (7 characters, ``"?"`` when unrecorded).
        dirty: Whether the work tree had uncommitted changes.
        hardware: CPU model and cores, and the GPU when one was used.
    """

    date: str
    commit: str
    dirty: bool
    hardware: str


@dataclass(frozen=True)
class Headline:
    """One figure of the table.

    Attributes:
        suite: The benchmark or stage it belongs to (a README section).
        figure: What is measured.
        value: The formatted value, :data:`NOT_MEASURED` or :data:`UNREADABLE`.
        unit: Its unit (``""`` for a pure number or a verdict).
        file: The result file it is read from, relative to the metrics folder.
        anchors: Published figures and goals to compare it with, each with its unit.
        detail: One line of context (settings, the other figures of the row).
        source: Date, commit and hardware of the measurement; ``None`` when absent.
    """

    suite: str
    figure: str
    value: str
    unit: str
    file: str
    anchors: tuple[str, ...] = ()
    detail: str = ""
    source: Provenance | None = None

    @property
    def measured(self) -> bool:
        """Whether the value was read from a result file."""
        return self.source is not None and self.value != UNREADABLE


#: A row before the suite, file and provenance are filled in:
#: ``(figure, value, unit, anchors, detail)``.
Row = tuple[str, str, str, tuple[str, ...], str]


@dataclass(frozen=True)
class Suite:
    """A README section: its result file(s) and how its rows are read.

    Attributes:
        title: Heading of the section in the table.
        name: Stem of the result file, or a prefix ending in ``*`` for a family
            of files (``train_*``: one per pipeline run).
        rows: Reads one result into rows.
    """

    title: str
    name: str
    rows: Callable[[dict[str, Any]], list[Row]]


def provenance_of(result: dict[str, Any]) -> Provenance:
    """Date, commit and hardware of a result file.

    The run information sits at the top level of a result, or under its
    ``"provenance"`` entry (``sisso_engine.json``).
    """
    info = result.get("provenance", result)
    hardware = info.get("hardware") or {}
    text = f"{hardware.get('cpu', '?')}, {hardware.get('cpu_cores', '?')} cores"
    if hardware.get("gpu"):
        count = hardware.get("gpu_count") or 1
        text += f", GPU {hardware['gpu']}" + (f" x{count}" if count > 1 else "")
    return Provenance(
        date=str(info.get("date", "?"))[:10],
        commit=str(info.get("commit", "?"))[:7],
        dirty=bool(info.get("dirty", False)),
        hardware=text,
    )


def _num(value: Any, spec: str = ".4g") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return format(value, spec)


def _unit(unit: Any) -> str:
    """A unit for the table: a pure number (``"1"``, ``"-"``...) has none."""
    text = "" if unit is None else str(unit).strip()
    return "" if text in PURE_NUMBER_UNITS else text


def _quantity(value: Any, unit: str, spec: str = ".4g") -> str:
    return f"{_num(value, spec)} {unit}".strip()


def _matbench(result: dict[str, Any]) -> list[Row]:
    unit = _unit(result["unit"])
    folds = result["folds"]
    published = sorted(result.get("published_mae", {}).items(), key=lambda item: item[1])
    anchors = (
        *((f"goal < {_num(result['goal'])} {unit}",) if "goal" in result else ()),
        *(f"{name} {_quantity(mae, unit)}" for name, mae in published),
    )
    seeds = result.get("ensemble_seeds") or []
    each = ", ".join(f"{fold['test_mae']:.4f}" for fold in folds)
    how = f"ensembles of {len(seeds)} seeds" if seeds else "one model per fold"
    complete = "" if result.get("complete", True) else " (incomplete)"
    validation = (
        "members refit on training + validation (no held-out validation figure)"
        if result.get("refit")
        else f"mean validation MAE {result['mean_val_mae']:.4f}"
    )
    rows: list[Row] = [
        (
            f"mean test MAE over {len(folds)} fold(s){complete}",
            f"{result['mean_mae']:.4f} ± {result['std_mae']:.4f}",
            unit,
            anchors,
            f"folds {each}; {validation}; {how}; below "
            f"{', '.join(result.get('better_than', [])) or 'no published entry'}",
        )
    ]
    cpu = result.get("train_cpu_seconds")
    if cpu:
        rows.append(
            (
                "training CPU time, all folds",
                f"{cpu / 3600:.1f}",
                "core-hours",
                (),
                f"{cpu / 3600 / max(1, len(folds)):.1f} per fold; wall time of training "
                f"{result.get('train_seconds', 0) / 3600:.1f} h summed over runs",
            )
        )
    uncertainty = result.get("uncertainty_test_mean_over_folds")
    if uncertainty:
        coverage = uncertainty["coverage"]
        rows.append(
            (
                "coverage of the 68 % / 95 % intervals, test folds",
                f"{coverage['0.68']:.3f} / {coverage['0.95']:.3f}",
                "",
                ("nominal 0.68 / 0.95",),
                "ensemble spread calibrated on each fold's validation slice; MAE of the most "
                f"uncertain decile {_quantity(uncertainty['mae_most_uncertain_decile'], unit)}, "
                f"of the rest {_quantity(uncertainty['mae_other_deciles'], unit)}",
            )
        )
        for size in result.get("by_ensemble_size") or []:
            rows.append(
                (
                    f"mean test MAE, ensemble of {size['members']}",
                    f"{size['mean_test_mae']:.4f}",
                    unit,
                    (),
                    "",
                )
            )
    return rows


def _suite_runs(result: dict[str, Any]) -> list[Row]:
    complete = "" if result.get("complete", True) else "; suite incomplete"
    return [
        (
            f"{run['name']} test MAE",
            _num(run["test_mae"]),
            _unit(run["unit"]),
            (),
            f"{run['dataset']}/{run['subset']} ({run['split']}), {run['target']}, embedding "
            f"{run['embedding']}, R² {_num(run['test_r2'], '.3f')}{complete}",
        )
        for run in result["runs"]
    ]


def _recipe_trials(result: dict[str, Any]) -> list[Row]:
    unit = _unit(result["unit"])
    rows: list[Row] = []
    for trial in result["trials"]:
        train, when = trial["train"], reach_text(trial)
        rows.append(
            (
                f"{trial['run']} best validation MAE",
                f"{trial['best_val_mae']:.4f}",
                unit,
                (),
                f"batch {train['batch_size']}, lr {train['lr']}, {trial['epochs_run']} epochs"
                f"{', compiled' if train.get('compile') else ''}, best at epoch "
                f"{trial['best_epoch']}, {trial['train_seconds'] / 60:.1f} min; reaches the "
                f"val MAE of {result['reference']}: {when}",
            )
        )
    return rows


def _processes(settings: dict[str, Any]) -> str:
    """``", 2 processes x 1 thread"`` for a data-parallel step recipe, else ``""``."""
    processes = settings.get("processes", 1)
    return f", {processes} processes x 1 thread" if processes > 1 else ""


def _throughput(result: dict[str, Any]) -> list[Row]:
    goal_size, goal = THROUGHPUT_GOAL
    rows: list[Row] = []
    for size, entry in result["sizes"].items():
        for device, measured in entry["devices"].items():
            for name, recipe in measured.get("recipes", {}).items():
                if "skipped" in recipe:
                    continue
                settings = recipe["recipe"]
                speedup = recipe.get("speedup_over_before")
                rows.append(
                    (
                        f"{size} model ({entry['parameters']:,} parameters), {name}, {device}",
                        f"{recipe['graphs_per_second']:.0f}",
                        "graphs/s",
                        (f"goal {goal:g}{TIMES} before",)
                        if size == goal_size and name != "before"
                        else (),
                        f"{_num(speedup, '.2f')}{TIMES} the step before the speed work; batch "
                        f"{settings['batch_size']}{', compiled' if settings['compile'] else ''}"
                        f"{_processes(settings)}",
                    )
                )
    return rows


def _featurize(result: dict[str, Any]) -> list[Row]:
    goal = result.get("goal_seconds")
    return [
        (
            f"graph construction, {result['n_graphs']:,} {result['dataset']} graphs",
            f"{result['graph_seconds']:.1f}",
            "s",
            (f"goal < {goal:g} s",) if goal else (),
            f"{result['structures_per_second']:.0f} structures/s, {result['workers']} workers",
        )
    ]


def _training_domain(result: dict[str, Any]) -> list[Row]:
    reference = result["reference"]
    return [
        (
            f"outside the {reference['dataset']} {reference['split']} training domain: "
            f"{entry['name']}",
            f"{100 * entry['share_outside']:.1f}",
            "%",
            (),
            f"{entry['n']:,} structures; with no margin on the feature ranges "
            f"{100 * entry['share_feature_outside_plain_range']:.1f} % have a feature outside",
        )
        for entry in result["evaluated"]
    ]


def _faithfulness(result: dict[str, Any]) -> list[Row]:
    groups = ("feature", "derivation", "correlation")
    rows: list[Row] = []
    for row in result["planted_recall_at_5"]:
        recall = row["recall_at_5"]

        def triple(method: str, recall: dict[str, Any] = recall) -> str:
            return " / ".join(f"{recall[method][g]:.2f}" for g in groups)

        rows.append(
            (
                f"IC recall@5 of planted features, {row['dataset']} {row['target']}",
                triple("ic"),
                "",
                (
                    f"permutation {triple('permutation')}",
                    f"integrated gradients {triple('integrated_gradients')}",
                    f"random (chance) {triple('random')}",
                ),
                "per feature / derivation group / correlation group",
            )
        )
    for name, data in result["datasets"].items():
        stability, removal = data["stability"], data["removal"]
        init = [entry["spearman"] for entry in stability["init_vs_trained"]]
        rows.append(
            (
                f"{name}: IC ranking seed to seed, Spearman / top-10 overlap",
                f"{_num(stability['mean_spearman'], '.2f')} / "
                f"{_num(stability['mean_top10_overlap'], '.2f')}",
                "",
                (),
                f"trained against initial ranking: Spearman {min(init):.2f} to {max(init):.2f}",
            )
        )
        removed = removal["removed"]
        rows.append(
            (
                f"{name}: validation MAE increase after removing the top {removal['k']} "
                f"features by IC ({removal['target']})",
                f"{removed['ic']['val_mae_increase']:+.4g}",
                "",
                tuple(
                    f"{method} {entry['val_mae_increase']:+.4g}"
                    for method, entry in removed.items()
                    if method != "ic"
                ),
                "",
            )
        )
    for goal, met in result["goals"].items():
        rows.append((f"goal: {goal.replace('_', ' ')}", "met" if met else "NOT met", "", (), ""))
    return rows


def _encodings(result: dict[str, Any]) -> list[Row]:
    fold0 = result.get("matbench_fold0", {}).get("encodings", {})
    rows: list[Row] = []
    for name, entry in result["encodings"].items():
        score = entry["scores"]
        val = fold0.get(name, {}).get("val_mae")
        rows.append(
            (
                f"encoding {name}: IC group recall@5 of planted features",
                _num(score["recall_at_5_group"], ".2f"),
                "",
                (),
                f"per feature {score['recall_at_5_feature']:.2f}; seed Spearman "
                f"{_num(score['seed_spearman'], '.2f')}; entropy {score['entropy_ratio']:.1%} "
                f"of uniform; Matbench fold-0 validation MAE "
                f"{'not run' if val is None else f'{val:.4f} eV/cell'}",
            )
        )
    decision = result["verdict"]
    rows.append(
        (
            "encoding that becomes the default",
            decision["best"] if decision["becomes_default"] else "paper (unchanged)",
            "",
            (),
            "; ".join(decision["reasons"]) or f"{decision['best']} passes every condition",
        )
    )
    return rows


def _ic_stability(result: dict[str, Any]) -> list[Row]:
    detail = f"across {len(result['runs'])} runs ({result.get('part', 'test')} part)"
    return [
        (
            "IC ranking, mean Spearman",
            f"{result['mean_spearman']:.2f}",
            "",
            (),
            f"min {result['min_spearman']:.2f}; {detail}",
        ),
        (
            f"IC ranking, mean top-{result['k']} overlap",
            f"{result['mean_top_k_overlap']:.2f}",
            "",
            (),
            f"min {result['min_top_k_overlap']:.2f}; {detail}",
        ),
    ]


def _sr_speedup(result: dict[str, Any]) -> list[Row]:
    goal = result.get("goal_speedup")
    anchors = (f"paper {goal:g}{TIMES}",) if goal else ()
    runs = result["runs"]
    rows: list[Row] = []
    if "median_speedup" in result:
        better = sum(bool(run.get("equal_or_better_accuracy")) for run in runs)
        rows.append(
            (
                f"median SR speed-up over {len(runs)} run(s), same engine and settings",
                f"{result['median_speedup']:.0f}",
                TIMES,
                tuple(f"{a} (goal: at least that, as accurate)" for a in anchors),
                f"SA-GAT-SR as accurate or more in {better} of {len(runs)} run(s)",
            )
        )
    for run in runs:
        conv, ours, unit = run["conventional"], run["sa_gat_sr"], _unit(run["unit"])
        rows.append(
            (
                f"{run['run']}: SR speed-up",
                f"{run['speedup']:.0f}",
                TIMES,
                anchors,
                f"conventional {conv['n_inputs']} inputs, {conv['sr_seconds']:.2f} s, test MAE "
                f"{_quantity(conv['test_mae'], unit)}; SA-GAT-SR {ours['n_inputs']} inputs, "
                f"{ours['sr_seconds']:.3f} s, test MAE {_quantity(ours['test_mae'], unit)}",
            )
        )
    return rows


def _sisso_engine(result: dict[str, Any]) -> list[Row]:
    data = result["dataset"]
    agree = "yes" if result["descriptors_agree"] else "no"
    return [
        (
            "our SISSO against TorchSISSO, speed-up",
            f"{result['speedup']:.0f}",
            TIMES,
            (f"TorchSISSO {_num(result['torchsisso']['wall_s'], '.1f')} s",),
            f"{result['ours']['wall_s']:.2f} s on {data['n_samples']} rows × "
            f"{data['n_features']} features, dimension {result['settings']['max_dim']}; same "
            f"best descriptors at every dimension: {agree}",
        )
    ]


#: Scaling variants, in the README's order: key of ``slopes`` and its label.
_SCALING_VARIANTS = (
    ("cpu", "CPU, default allocator"),
    ("cpu_retained_memory", "CPU, freed memory retained"),
    ("cuda", "GPU"),
)


def _scaling(result: dict[str, Any]) -> list[Row]:
    goal = result.get("goal_slope")
    anchors = (f"O(n): 1; goal ≤ {goal:g}",) if goal else ("O(n): 1",)
    rows: list[Row] = []
    for key, label in _SCALING_VARIANTS:
        large = result["slopes"].get(key, {}).get("large_n")
        if not large or all(_num(v) == "n/a" for v in large.values()):
            continue
        for what, figure in (
            ("inference_s", "inference time"),
            ("total_s", "time with graph construction"),
            ("inference_peak_bytes", "inference memory"),
        ):
            rows.append(
                (
                    f"log-log slope of {figure} against atoms, {label}",
                    _num(large[what], ".2f"),
                    "",
                    anchors,
                    f"n ≥ {result['fit_min_atoms']} atoms, {result['structure']}",
                )
            )
    return rows


def _predict(result: dict[str, Any]) -> list[Row]:
    before, after = result["before"], result["after"]
    rows: list[Row] = [
        (
            f"sagatsr predict on {result['n_files']:,} CIF files, batched against one at a time",
            f"{result['speedup']:.1f}",
            TIMES,
            (),
            f"{before['seconds']:.1f} s one at a time ({before['files_per_second']:.0f} files/s), "
            f"{after['seconds']:.1f} s with {after['workers']} workers and batches of "
            f"{after['batch_size']} ({after['files_per_second']:.0f} files/s); largest "
            f"difference {result['max_abs_difference']:.1e}; model loaded in "
            f"{result['model_load_seconds']:.1f} s",
        )
    ]
    cli, baseline = result.get("cli"), result.get("baseline_cli")
    if cli and baseline:
        rows.append(
            (
                f"sagatsr predict on {result['n_files']:,} CIF files end to end, against "
                f"{baseline.get('label') or 'a baseline command'}",
                f"{result['cli_speedup']:.1f}",
                TIMES,
                ("goal ≥ 10",),
                f"{cli['seconds']:.1f} s against {baseline['seconds']:.1f} s, imports included",
            )
        )
    return rows


def _determinism(result: dict[str, Any]) -> list[Row]:
    largest = max(v["rel"] for v in result["thread_spread"].values())
    repeat = "identical" if result["repeat_identical"] else "DIFFERENT"
    return [
        (
            f"{result['target']} test MAE moved by the torch thread count "
            f"({', '.join(map(str, result['threads']))})",
            f"{100 * largest:.1f}",
            "%",
            (f"seeds {100 * result['seed_spread']['rel']:.1f} %",),
            f"same seed and thread count trained again: {repeat}",
        )
    ]


def _worked_example(result: dict[str, Any]) -> list[Row]:
    train = result["train"]
    test = train["metrics"]["test"]
    return [
        (
            f"{train['dataset']} ({result['prepare']['n_records']:,} structures, your-own-data "
            f"commands) {train['target']}: network test MAE",
            _num(test["mae"]),
            _unit(train.get("unit")),
            (),
            f"R2 {test['r2']:.3f}, {train['epochs_run']} epochs",
        )
    ]


def _pipeline_run(result: dict[str, Any]) -> list[Row]:
    test = result["metrics"]["test"]
    return [
        (
            f"{result['dataset']}/{result['subset']} {result['target']} test MAE",
            _num(test["mae"]),
            _unit(result["unit"]),
            (),
            f"R² {test['r2']:.3f}, {result['epochs_run']} epochs, split {result['split']}",
        )
    ]


def _gpu_checks(result: dict[str, Any]) -> list[Row]:
    gpu = (result.get("hardware") or {}).get("gpu") or "no GPU recorded"
    where = f"{gpu}, torch {result.get('torch', '?')}"
    rows: list[Row] = []
    tests = result.get("tests")
    if tests:
        rows.append(
            (
                "CUDA tests passed",
                f"{tests['passed']} of {tests['passed'] + tests['failed'] + tests['skipped']}",
                "",
                (),
                f"{where}; failed: "
                + (
                    ", ".join(c["test"] for c in tests["cases"] if c["outcome"] == "failed")
                    or "none"
                ),
            )
        )
    for size, entry in (result.get("throughput") or {}).get("sizes", {}).items():
        timed = timed_recipes(entry)
        if timed:
            name = max(timed, key=lambda n: timed[n]["graphs_per_second"])
            rows.append(
                (
                    f"training step, {size} model, on the GPU",
                    _num(timed[name]["graphs_per_second"], ",.0f"),
                    "graphs/s",
                    (),
                    f"{where}; best recipe {name}",
                )
            )
    scaling = result.get("scaling") or {}
    if scaling.get("sizes", {}).get("cuda"):
        largest = scaling["sizes"]["cuda"][-1]
        rows.append(
            (
                f"inference of {largest['n_atoms']:,} atoms on the GPU",
                _num(largest["inference_s"] * 1e3, ".1f"),
                "ms",
                (),
                f"{where}; paper-size model, SrTiO3 supercell",
            )
        )
    training = result.get("training")
    if training:
        rows.append(
            (
                "Matbench fold 0 validation MAE, paper-size model trained on the GPU",
                _num(training["best_val_mae"]),
                _unit(training["unit"]),
                (),
                f"{where}; {training['epochs_run']} epochs in "
                f"{training['train_seconds'] / 60:.1f} min (a check, not a Matbench result)",
            )
        )
    return rows


#: The dashboard's sections, in the order it shows them: accuracy, recipes, speed,
#: importance coefficients and formulas, scale and hardware, prediction, determinism,
#: a user's own data, the quick pipeline's checks (the README orders its sections
#: for reading, and its results blocks live where their methods are described).
SUITES: tuple[Suite, ...] = (
    Suite("Matbench perovskites", "matbench_perovskites", _matbench),
    Suite(
        "Matbench perovskites, members refit on training + validation", "matbench_refit", _matbench
    ),
    Suite("Embedding ablation (SAE / FCN / one-hot)", "embedding_ablation", _suite_runs),
    Suite("Subsets and targets", "subsets", _suite_runs),
    Suite("Recipe trials (validation slice)", "recipe_trials*", _recipe_trials),
    Suite("Recipe trials as DVC experiments", "trial_*", _recipe_trials),
    Suite("Training throughput", "throughput", _throughput),
    Suite("Featurization", "featurize", _featurize),
    Suite("Importance coefficients: faithfulness", "ic_faithfulness", _faithfulness),
    Suite("Importance coefficients: sharper encodings", "ic_encodings", _encodings),
    Suite("IC stability across the Matbench fold models", "ic_stability_folds", _ic_stability),
    Suite("Symbolic regression speed-up (the paper's 23x)", "sr_speedup", _sr_speedup),
    Suite("SISSO engine", "sisso_engine", _sisso_engine),
    Suite("O(n) scaling", "scaling", _scaling),
    Suite("On a GPU", "gpu_checks", _gpu_checks),
    Suite("Prediction of many files", "predict", _predict),
    Suite("Training domain of a model", "training_domain", _training_domain),
    Suite("Determinism: thread count against seed", "determinism", _determinism),
    Suite("Your own data: the MP-20 worked example", "user_data_mp20", _worked_example),
    Suite("Quick pipeline", "train_*", _pipeline_run),
)


def _results(suite: Suite, metrics: Metrics) -> Iterable[tuple[str, dict[str, Any]]]:
    if suite.name.endswith("*"):
        prefix = suite.name[:-1]
        return [(name, result) for name, result in metrics.items() if name.startswith(prefix)]
    return [(suite.name, metrics[suite.name])] if suite.name in metrics else []


def headline_figures(metrics: Metrics, suites: Iterable[Suite] = SUITES) -> list[Headline]:
    """Every figure of the result files, as table rows.

    Args:
        metrics: Result files by stem (:func:`load_metrics`).
        suites: Sections to read (default: the README's, :data:`SUITES`).

    Returns:
        The rows, suite by suite; an absent result file gives one row valued
        :data:`NOT_MEASURED` (no provenance), a file lacking an entry one row
        valued :data:`UNREADABLE` that names the entry.
    """
    out: list[Headline] = []
    for suite in suites:
        found = _results(suite, metrics)
        if not found:
            out.append(
                Headline(
                    suite.title,
                    "all figures",
                    NOT_MEASURED,
                    "",
                    f"{suite.name}.json",
                    detail=f"no result file {suite.name}.json",
                )
            )
            continue
        for name, result in found:
            file, source = f"{name}.json", provenance_of(result)
            try:
                rows = suite.rows(result)
            except (KeyError, TypeError, ValueError, IndexError) as error:
                why = (
                    f"no entry {error.args[0]!r} in the file"
                    if isinstance(error, KeyError)
                    else f"{type(error).__name__}: {error}"
                )
                rows = [("all figures", UNREADABLE, "", (), why)]
            out.extend(
                Headline(suite.title, figure, value, unit, file, anchors, detail, source)
                for figure, value, unit, anchors, detail in rows
            )
    return out
