"""Command-line interface: ``sagatsr <command> ...``.

Each command is a thin wrapper over a library function; heavy imports happen
inside the command so that ``sagatsr --help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sagatsr import __version__
from sagatsr.profiles import PARAMS_FILE, PROFILES_DIR
from sagatsr.runtime import LOG_FORMAT

Handler = Callable[[argparse.Namespace], int]


def _at_least_one(text: str) -> int:
    """An argparse type: an integer >= 1 (else a usage error naming the value)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer of at least 1, got {text!r}")
    return value


def _at_least_zero(text: str) -> int:
    """An argparse type: an integer >= 0 (else a usage error naming the value)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer of at least 0, got {text!r}")
    return value


def _path_to_write(text: str, *, folder: bool) -> Path:
    """``text`` as a path to write: refused if it exists as the other kind, or under a file."""
    path = Path(text)
    if path.exists() and path.is_dir() != folder:
        wanted = "a folder" if folder else "a file to write"
        kind = "a folder" if path.is_dir() else "a file"
        raise argparse.ArgumentTypeError(f"{text} is {kind}; give the path of {wanted}")
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            raise argparse.ArgumentTypeError(
                f"cannot write {text}: {parent} is a file, not a folder"
            )
    return path


def _file_to_write(text: str) -> Path:
    """An argparse type: a file path that can be written (not a folder, not under a file)."""
    return _path_to_write(text, folder=False)


def _folder_to_write(text: str) -> Path:
    """An argparse type: a folder path that can be written (not an existing file)."""
    return _path_to_write(text, folder=True)


def _structure_file_name(text: str) -> str:
    """An argparse type: the name of a CIF or VASP file (not a path); ``""``: none."""
    from sagatsr.data.sources import check_structure_file_name

    if text == "":  # the default (argparse applies types to string defaults too)
        return text
    try:
        check_structure_file_name(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("--structure-file ")) from None
    return text


def _fraction(text: str) -> float:
    """An argparse type: a number in (0, 1] (else a usage error naming the value)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}")
    return value


def _cmd_snapshot(args: argparse.Namespace) -> int:
    from sagatsr.config import mirror_root
    from sagatsr.snapshot import snapshot_mirror

    mirror = mirror_root(args.mirror)
    if mirror is None:
        raise SystemExit("no dataset mirror configured: pass --mirror or set SAGATSR_DATA_MIRROR")
    changes = snapshot_mirror(mirror, args.out, datasets=args.datasets or None)
    print(
        f"snapshot of {mirror} in {args.out}: {len(changes.copied)} file(s) updated, "
        f"{len(changes.removed)} removed"
    )
    return 0


def _cmd_profile(args: argparse.Namespace) -> int:
    from sagatsr.profiles import activate_profile

    path = activate_profile(args.name, profiles_dir=args.profiles_dir, params_path=args.params)
    print(f"{path} now holds profile {args.name!r}")
    return 0


def _cmd_features_list(args: argparse.Namespace) -> int:
    from sagatsr.features import format_catalog_table

    print(format_catalog_table(level=args.level))
    return 0


def _cmd_features_build_tables(args: argparse.Namespace) -> int:
    from sagatsr.features.elements import tables_sha256, write_tables

    written = write_tables(args.out)
    for path in written.values():
        print(path)
    print(f"tables sha256 {tables_sha256(args.out)}; bump FEATURIZER_VERSION if it changed")
    return 0


#: ``sagatsr prepare`` options that describe your own data (their group in the parser).
_OWN_DATA_OPTIONS = (
    "name",
    "target",
    "id_column",
    "cif_column",
    "labels",
    "split_column",
    "structure_file",
)


def _cmd_prepare(args: argparse.Namespace) -> int:
    from sagatsr.data.registry import DATASETS
    from sagatsr.graphs.neighbors import NeighborConfig
    from sagatsr.prepare import dataset_spec, prepare_dataset

    if args.dataset in DATASETS:
        defaults = build_parser().parse_args(["prepare", args.dataset, "--out", str(args.out)])
        given = [k for k in _OWN_DATA_OPTIONS if getattr(args, k) != getattr(defaults, k)]
        if given:
            options = ", ".join("--" + k.replace("_", "-") for k in given)
            raise UsageError(
                f"{options}: for your own data; {args.dataset} is a registered dataset, "
                "read with its own columns (give a path to prepare your own file or folder)"
            )

    dataset = dataset_spec(
        args.dataset,
        name=args.name,
        targets=args.target,
        id_column=args.id_column,
        cif_column=args.cif_column,
        labels=args.labels or "",
        split_column=args.split_column,
        structure_file=args.structure_file,
    )
    summary = prepare_dataset(
        dataset,
        raw_root=args.raw,
        out_dir=args.out,
        cache_path=args.cache,
        neighbors=NeighborConfig(cutoff=args.cutoff, max_neighbors=args.max_neighbors),
        seed=args.seed,
        workers=args.workers,
        max_entries=args.max_entries,
        progress=not args.quiet,
    )
    print(summary.describe())
    return 0


def _cmd_benchmark_featurize(args: argparse.Namespace) -> int:
    from sagatsr.bench.featurize import benchmark_featurize
    from sagatsr.graphs.neighbors import NeighborConfig

    result = benchmark_featurize(
        args.dataset,
        raw_root=args.raw,
        neighbors=NeighborConfig(cutoff=args.cutoff, max_neighbors=args.max_neighbors),
        workers=args.workers,
        max_entries=args.max_entries,
        out_path=args.out,
        command=args.command_line,
    )
    print(result["summary"])
    print(f"written to {args.out}")
    return 0


def _cmd_benchmark_training_domain(args: argparse.Namespace) -> int:
    from sagatsr.bench.training_domain import measure_training_domain

    result = measure_training_domain(
        args.prepared_root,
        dataset=args.dataset,
        subset=args.subset,
        split=args.split,
        others=args.others,
        out_path=args.out,
        command=args.command_line,
    )
    print(result["summary"])
    print(f"written to {args.out}")
    return 0


#: Help of the recipe options that need more than their name.
_OPTION_HELP = {
    "size": "named model size (medium, paper); explicit model options override it",
    "encoding": "named SAE variant (sagatsr.model.config.ENCODINGS); explicit options override it",
    "patience": "epochs without a better validation metric before stopping (0: never)",
    "accelerator": "auto, cpu or gpu",
    "devices": "auto or a number (>1: DDP)",
    "max_time_minutes": "minutes of training per run, resumes included (0: none)",
    "loss": "l1 (paper) or mse (for targets that are zero for most structures, e.g. band gaps)",
    "ema_decay": "exponential moving average of the weights, decay per step (0: off)",
    "compile": "compile the training step with torch.compile (about a minute at the start)",
    "threads": "torch threads per training process (0: OMP_NUM_THREADS if set, else the "
    "available cores divided among the processes); 1 for each of two trainings side by side",
}
_OPTION_CHOICES = {
    "size": ["medium", "paper"],
    "encoding": [
        "paper",
        "zero_init",
        "normalized",
        "entropy",
        "feature_dropout",
        "entmax",
        "score_lr",
    ],
    "embedding": ["sae", "fcn", "onehot"],
    "sae_score": ["tanh", "linear"],
    "sae_vectors": ["free", "normalized"],
    "sae_normalizer": ["softmax", "entmax15"],
    "sae_score_init": ["random", "zero"],
    "readout_combine": ["concat", "sum"],
    "loss": ["l1", "mse"],
}


def _recipe(args: argparse.Namespace) -> tuple[dict, object]:
    """Model overrides and TrainConfig from the recipe options (sagatsr.train.recipe)."""
    from sagatsr.train.recipe import RECIPE_OPTIONS, build_configs

    params = {name: getattr(args, name, None) for name in RECIPE_OPTIONS}
    if params["devices"] not in (None, "auto"):
        params["devices"] = int(params["devices"])
    if args.quiet:
        params["progress_bar"] = False
    return build_configs(**params)


def _add_training_options(parser: argparse.ArgumentParser) -> None:
    """Add one option per recipe parameter (sagatsr.train.recipe).

    Defaults: the best measured CPU recipe where it sets the parameter, else the
    library's (ModelConfig / TrainConfig).
    """
    from sagatsr.train.recipe import CPU_RECIPE, MODEL_OPTIONS, RECIPE_OPTIONS, option_types

    types = option_types()
    groups = {
        "model": parser.add_argument_group("model (sagatsr.model.ModelConfig)"),
        "train": parser.add_argument_group("training (sagatsr.train.config.TrainConfig)"),
    }
    for name in RECIPE_OPTIONS:
        group = groups[
            "model" if name in ("size", "encoding") or name in MODEL_OPTIONS else "train"
        ]
        # The underscore spelling too: DVC unpacks a params dictionary into `--name value`.
        flags = list(dict.fromkeys([f"--{name.replace('_', '-')}", f"--{name}"]))
        if name == "max_time_minutes":
            flags.append("--max-time")
        default = CPU_RECIPE.get(name)
        shown = f"default: {default}" if default is not None else "default: the library's"
        text = f"{_OPTION_HELP.get(name, name.replace('_', ' '))} ({shown})"
        if types[name] is bool:
            group.add_argument(
                *flags,
                dest=name,
                action=argparse.BooleanOptionalAction,
                default=default,
                help=text,
            )
        else:
            group.add_argument(
                *flags,
                dest=name,
                type=types[name],
                choices=_OPTION_CHOICES.get(name),
                default=default,
                help=text,
            )
    groups["train"].add_argument("--quiet", action="store_true", help="no progress bars")


def _cmd_train(args: argparse.Namespace) -> int:
    from sagatsr.sr.units import format_quantity
    from sagatsr.train.ensemble import check_ensemble_seeds
    from sagatsr.train.pipeline import train_targets

    targets = None if args.target in (None, ["all"]) else args.target
    model_settings, train_config = _recipe(args)
    options: dict[str, Any] = {
        "model_settings": model_settings,
        "train_config": train_config,
        "command": args.command_line,
    }
    if args.seeds:
        try:
            check_ensemble_seeds(args.seeds)
        except ValueError as error:
            raise UsageError(f"--seeds: {error}") from None
        if args.refit:
            raise UsageError(
                "--refit with --seeds: refit members cannot calibrate their spread on the "
                "validation part they trained on (see `sagatsr benchmark matbench --refit "
                "--calibration-from`)"
            )
        if args.train_fraction != 1.0:
            raise UsageError("--train-fraction is for single runs (learning curves), not --seeds")
    else:
        options.update(train_fraction=args.train_fraction, refit=args.refit)
    results = train_targets(
        args.prepared,
        subset=args.subset,
        split=args.split,
        out_root=args.out,
        targets=targets,
        seeds=args.seeds or None,
        **options,
    )
    for name, result in results.items():
        if not args.seeds:
            print(_validation_summary(result) if args.hide_test else result["summary"])
        elif args.hide_test:
            val = result["metrics"]["val"]["mae"]
            print(
                f"ensemble of {len(args.seeds)} {name} models: validation MAE "
                f"{format_quantity(val, result['unit'])} (test part not shown)"
            )
        else:
            print(result["summary"] + _coverage_text(result["uncertainty"].get("test", {})))
    return 0


def _coverage_text(report: dict[str, Any]) -> str:
    """``"; test coverage of the 68 % / 95 % intervals ..."`` from an uncertainty report."""
    levels = report.get("coverage") or {}
    if not levels:
        return ""
    names = " / ".join(f"{100 * float(level):.0f} %" for level in levels)
    shown = " / ".join(f"{float(value):.2f}" for value in levels.values())
    return f"; observed test coverage of the {names} intervals {shown}"


def _validation_summary(metrics: dict[str, Any]) -> str:
    """A run's line with its best validation MAE and no test figure (``--hide-test``)."""
    from sagatsr.sr.units import format_quantity

    return (
        f"{metrics['dataset']}/{metrics['subset']} {metrics['target']}: best validation MAE "
        f"{format_quantity(metrics['best_val_mae'], metrics['unit'])} (epoch "
        f"{metrics['best_epoch']} of {metrics['epochs_run']}; test part not shown)"
    )


def _cmd_benchmark_matbench(args: argparse.Namespace) -> int:
    from sagatsr.bench.matbench import fold_calibrations, run_matbench
    from sagatsr.bench.results import SUITE_FILES

    if args.refit and args.seeds and args.calibration_from is None:
        raise UsageError(
            "--refit trains the ensemble on its validation slices: give --calibration-from "
            "(the result or parts folder of the same recipe trained without --refit)"
        )
    calibrations = fold_calibrations(args.calibration_from) if args.calibration_from else None
    result = run_matbench(
        args.prepared,
        args.runs,
        folds=args.folds,
        **dict(zip(("model_settings", "train_config"), _recipe(args), strict=True)),
        seeds=tuple(args.seeds),
        out_path=args.out or Path("reports/metrics") / SUITE_FILES["matbench"],
        command=args.command_line,
        parts_dir=args.parts,
        refit=args.refit,
        calibrations=calibrations,
    )
    print(result["summary"])
    return 0


def _cmd_benchmark_matbench_combined(args: argparse.Namespace) -> int:
    from sagatsr.bench.matbench import fold_calibrations
    from sagatsr.bench.matbench_combined import combine_matbench

    result = combine_matbench(
        args.prepared,
        args.parts,
        folds=args.folds,
        out_path=args.out,
        command=args.command_line,
        calibrations=fold_calibrations(args.calibration_from) if args.calibration_from else None,
    )
    print(result["summary"])
    return 0


def _cmd_benchmark_throughput(args: argparse.Namespace) -> int:
    from sagatsr.bench.throughput import DEFAULT_RECIPES, measure_throughput
    from sagatsr.runtime import configure_cpu

    configure_cpu(args.threads)
    recipes = DEFAULT_RECIPES
    if args.recipes:
        by_name = {recipe.name: recipe for recipe in DEFAULT_RECIPES}
        unknown = [name for name in args.recipes if name not in by_name]
        if unknown:
            raise UsageError(f"unknown recipe(s) {unknown}; known: {list(by_name)}")
        recipes = tuple(by_name[name] for name in args.recipes)
    result = measure_throughput(
        args.prepared,
        target=args.target,
        subset=args.subset,
        n_graphs=args.n_graphs,
        repeats=args.repeats,
        sizes=tuple(args.sizes),
        devices=tuple(args.devices),
        recipes=recipes,
        out_path=args.out,
        command=args.command_line,
    )
    print(result["summary"])
    return 0


def _cmd_benchmark_gpu_checks(args: argparse.Namespace) -> int:
    from sagatsr.bench.gpu_checks import collect_gpu_checks

    result = collect_gpu_checks(
        args.results, sent_commit=args.sent_commit, out_path=args.out, command=args.command_line
    )
    print(result["summary"])
    print(f"written to {args.out}")
    return 0


def _cmd_benchmark_determinism(args: argparse.Namespace) -> int:
    from sagatsr.bench.determinism import measure_determinism

    model_settings, train_config = _recipe(args)
    result = measure_determinism(
        args.prepared,
        args.runs,
        subset=args.subset,
        split=args.split,
        target=args.target,
        model_settings=model_settings,
        train_config=train_config,
        seeds=tuple(args.seeds),
        threads=tuple(args.thread_counts),
        out_path=args.out,
        command=args.command_line,
    )
    print(result["summary"])
    return 0


def _cmd_benchmark_worked_example(args: argparse.Namespace) -> int:
    from sagatsr.bench.worked_example import collect_worked_example

    result = collect_worked_example(
        args.run, args.prepared_root, out_path=args.out, command=args.command_line
    )
    print(result["summary"])
    return 0


def _cmd_benchmark_sisso(args: argparse.Namespace) -> int:
    from sagatsr.bench.sisso_engine import compare_with_torchsisso, synthetic_dataset
    from sagatsr.runtime import configure_cpu

    configure_cpu(args.threads)
    data, y = synthetic_dataset(args.samples, args.features, seed=args.seed)
    report = compare_with_torchsisso(
        data,
        y,
        max_complexity=args.max_complexity,
        max_dim=args.max_dim,
        n_sis=args.n_sis,
        device=args.device,
        repeats=args.repeats,
        exhaustive=not args.no_exhaustive,
        out=args.out,
        command=args.command_line,
    )
    ours, theirs = report["ours"]["wall_s"], report["torchsisso"]["wall_s"]
    print(
        f"ours {ours:.2f} s, TorchSISSO {theirs:.2f} s, speedup {report['speedup']:.1f}x, "
        f"descriptors agree: {report['descriptors_agree']}"
    )
    return 0


def _cmd_benchmark_suite(args: argparse.Namespace) -> int:
    from sagatsr.bench.results import SUITE_FILES
    from sagatsr.bench.suites import SUBSET_RUNS, ablation_runs, run_suite

    runs = SUBSET_RUNS if args.suite == "subsets" else ablation_runs(folds=args.folds)
    result = run_suite(
        args.suite,
        runs,
        prepared_root=args.prepared_root,
        runs_root=args.runs / args.suite,
        **dict(zip(("model_settings", "train_config"), _recipe(args), strict=True)),
        out_path=args.out or Path("reports/metrics") / SUITE_FILES[args.suite],
        command=args.command_line,
        parts_dir=args.parts,
    )
    print(result["summary"])
    return 0


def _cmd_benchmark_scaling(args: argparse.Namespace) -> int:
    from sagatsr.bench.scaling import measure_scaling

    result = measure_scaling(
        repetitions=args.repetitions,
        devices=tuple(args.devices),
        repeats=args.repeats,
        fit_min_atoms=args.fit_min_atoms,
        out_path=args.out,
        command=args.command_line,
    )
    print(result["summary"])
    return 0


def _cmd_benchmark_ic_stability(args: argparse.Namespace) -> int:
    from sagatsr.interpret.runs import run_stability
    from sagatsr.io_utils import write_json
    from sagatsr.provenance import run_info

    pairs, summary = run_stability(args.runs, args.prepared_root, part=args.part, k=args.top)
    result = {
        "summary": (
            f"IC ranking across {len(args.runs)} runs: mean Spearman "
            f"{summary['mean_spearman']:.2f}, top-{args.top} overlap "
            f"{summary['mean_top_k_overlap']:.2f}"
        ),
        "runs": [str(r) for r in args.runs],
        "part": args.part,
        "k": args.top,
        **summary,
        "pairs": pairs.to_dict("records"),
        **run_info(args.command_line),
    }
    write_json(args.out, result)
    print(result["summary"])
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    import json

    from sagatsr.cif_files import PendingFiles

    # The workers read the files while this process imports torch and loads the model.
    pending = PendingFiles.for_model(
        args.model,
        args.cifs,
        workers=args.workers,
        id_column=args.id_column,
        cif_column=args.cif_column,
        structure_file=args.structure_file,
    )
    if args.csv is not None and pending.reads(args.csv):
        pending.cancel()
        raise UsageError(f"--csv {args.csv} is one of the inputs: give another file to write")
    try:
        from sagatsr.predict import (
            Predictor,
            format_predictions,
            predictions_as_json,
            write_predictions_csv,
        )

        predictor = Predictor(args.model)
    except BaseException:
        pending.cancel()  # no reading of files that will not be predicted
        raise
    results = predictor.predict_pending(pending, top_k=args.top, batch_size=args.batch_size)
    if args.csv is not None:
        write_predictions_csv(results, args.csv)
    if args.json:
        print(json.dumps(predictions_as_json(results), indent=2))
    else:
        print(format_predictions(results))
    outside = sum(bool(r.outside_training_domain) for r in results)
    if outside:
        print(
            f"sagatsr predict: {outside} of {len(results)} structure(s) outside the model's "
            "training domain (their reasons are listed with them): those predictions are "
            "extrapolations",
            file=sys.stderr,
        )
    return 1 if any(r.error for r in results) else 0


def _benchmark_in_parts(
    benchmark: str, option: str, items: list[str], arguments: list[str], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Run ``items`` of an IC benchmark as ``args.processes`` processes side by side.

    The parts share ``--work-dir`` (each resumes there) and write their results
    under ``<work-dir>/parts`` (a temporary folder without one).
    """
    from sagatsr.bench.ic_faithfulness import work_folder
    from sagatsr.bench.side_by_side import run_benchmark_parts

    if args.work_dir is not None:
        arguments = [*arguments, "--work-dir", str(args.work_dir)]
    with work_folder(args.work_dir) as root:
        return run_benchmark_parts(
            benchmark,
            option,
            items,
            processes=args.processes,
            arguments=arguments,
            parts_dir=root / "parts",
        )


def _cmd_benchmark_ic_faithfulness(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from sagatsr.bench.ic_faithfulness import (
        DATASETS,
        FaithfulnessSettings,
        merge_results,
        run_ic_faithfulness,
    )
    from sagatsr.io_utils import write_json

    if args.merge:
        parts = [json.loads(Path(path).read_text()) for path in args.merge]
        result = merge_results(parts, args.command_line)
        write_json(args.out, result)
        print(result["summary"])
        return 0
    known = [d.name for d in DATASETS]
    unknown = sorted(set(args.datasets or ()) - set(known))
    if unknown:
        raise UsageError(f"unknown dataset(s) {unknown}; the benchmark's datasets are {known}")
    chosen = [d for d in DATASETS if not args.datasets or d.name in args.datasets]
    if args.processes > 1:
        arguments = [
            "--prepared-root",
            str(args.prepared_root),
            "--n-train",
            str(args.n_train),
            "--seeds",
            *map(str, args.seeds),
            "--removal-k",
            str(args.removal_k),
        ]
        parts = _benchmark_in_parts(
            "ic_faithfulness", "--datasets", [d.name for d in chosen], arguments, args
        )
        result = merge_results(parts, args.command_line)
        write_json(args.out, result)
        print(result["summary"])
        return 0
    settings = replace(
        FaithfulnessSettings(),
        n_train=args.n_train,
        seeds=tuple(args.seeds),
        removal_k=args.removal_k,
    )
    result = run_ic_faithfulness(
        args.prepared_root,
        settings=settings,
        datasets=chosen,
        work_dir=args.work_dir,
        out_path=args.out,
        command=args.command_line,
    )
    print(result["summary"])
    return 0


def _cmd_benchmark_ic_encodings(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from sagatsr.bench.ic_encodings import (
        best_encoding,
        comparison_settings,
        fold0_validation,
        merge_encodings,
        run_ic_encodings,
    )
    from sagatsr.io_utils import write_json

    if args.merge:
        parts = [json.loads(Path(path).read_text()) for path in args.merge]
        merged = merge_encodings(parts, args.command_line)
        write_json(args.out, merged)
        print(merged["verdict"])
        return 0
    try:
        if args.fold0:
            best = best_encoding(merge_encodings([json.loads(args.fold0.read_text())]))
            checked = fold0_validation(
                args.prepared_root / "castelli_perovskites",
                list(dict.fromkeys(["paper", best])),
                args.work_dir or Path("models/ic_encodings_fold0"),
                out_path=args.out,
                command=args.command_line,
            )
            print(checked["encodings"])
            return 0
        if args.processes > 1:
            arguments = ["--prepared-root", str(args.prepared_root), "--seeds"]
            arguments += [str(seed) for seed in args.seeds]
            parts = _benchmark_in_parts(
                "ic_encodings", "--encodings", args.encodings, arguments, args
            )
            merged = merge_encodings(parts, args.command_line)
            write_json(args.out, merged)
            print(merged["verdict"])
            return 0
        result = run_ic_encodings(
            args.prepared_root,
            args.encodings,
            settings=replace(comparison_settings(), seeds=tuple(args.seeds)),
            work_dir=args.work_dir,
            out_path=args.out,
            command=args.command_line,
        )
    except KeyError as error:
        raise UsageError(str(error.args[0])) from error
    for name, entry in result["encodings"].items():
        print(name, entry["scores"])
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    from sagatsr.interpret.importance import DESCRIPTION_COLUMNS
    from sagatsr.interpret.runs import analyze_run
    from sagatsr.train.run import Run

    Run(args.run).require_model()
    result = analyze_run(args.run, args.prepared_root, part=args.part)
    columns = ["rank", "feature", "label", "site", "mean_ic", "std_ic"]
    ranking = result.global_ranking[columns]
    if args.out:
        from sagatsr.io_utils import atomic_open

        args.out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(args.out, "w", newline="", encoding="utf-8") as handle:
            ranking.to_csv(handle, index=False)
    uniform = 1.0 / len(ranking)
    print(
        f"{result.label}: mean importance coefficients over {len(result.graphs.ids)} "
        f"{args.part} structures (uniform would be {uniform:.4f})"
    )
    print(ranking.head(args.top).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    node = result.node_ranking
    summary = {*DESCRIPTION_COLUMNS, "mean_ic", "std_ic", "median_ic", "rank"}
    roles = [c for c in node.columns if c not in summary and node[c].notna().any()]
    shown = ["feature", "mean_ic", *roles]
    print("\nnode features (mean IC over atoms, and per site role):")
    print(node[shown].head(args.top).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return 0


def _cmd_distill(args: argparse.Namespace) -> int:
    from sagatsr.sr.display import format_saved_formulas
    from sagatsr.sr.distill import distill_run
    from sagatsr.sr.formulas import save_formulas
    from sagatsr.train.run import Run

    run = Run(args.run)
    run.require_model()
    options = {"sisso": {"n_sis": args.n_sis, "max_dim": args.max_dim}}
    engines = tuple(args.engine or ["sisso"])
    result = distill_run(
        run.folder,
        args.prepared_root,
        oof_root=args.oof_root or run.oof_dir,
        k_folds=args.k_folds,
        top_k=args.top_k,
        descriptor_k=args.descriptor_k,
        engines=engines,
        sr_options=options,
        fold_epochs=args.fold_epochs,
        ranking=args.ranking,
        group_rule=not args.no_group_rule,
    )
    saved = save_formulas(result, run.folder, args.command_line)
    print(format_saved_formulas(saved, run=result.run))
    print(f"written to {run.formulas_path} (constants in full)")
    return 0


def _cmd_benchmark_predict(args: argparse.Namespace) -> int:
    from sagatsr.bench.predict_speed import measure_on_mirror_cifs
    from sagatsr.config import mirror_root

    if args.baseline_cli and args.baseline_commit:
        raise UsageError("give --baseline-cli or --baseline-commit, not both")
    mirror = mirror_root(args.raw)
    if mirror is None:
        raise FileNotFoundError(
            "no dataset mirror configured: pass --raw or set SAGATSR_DATA_MIRROR"
        )
    result = measure_on_mirror_cifs(
        args.model,
        mirror,
        n_files=args.n_files,
        baseline_commit=args.baseline_commit or None,
        workers=args.workers,
        batch_size=args.batch_size,
        baseline_cli=shlex.split(args.baseline_cli) if args.baseline_cli else None,
        baseline_label=args.baseline_label,
        out_path=args.out,
        command=args.command_line,
    )
    print(result["summary"])
    return 0


def _cmd_benchmark_trials(args: argparse.Namespace) -> int:
    from sagatsr.bench.trials import collect_trials

    result = collect_trials(args.runs, out_path=args.out, command=args.command_line)
    print(result["summary"])
    return 0


def _cmd_readme(args: argparse.Namespace) -> int:
    from sagatsr.bench.readme import update_readme

    current = update_readme(args.readme, args.metrics, check=args.check)
    if args.check and not current:
        print(f"{args.readme} disagrees with {args.metrics}: run `sagatsr readme`", file=sys.stderr)
        return 1
    print(f"{args.readme} {'was up to date' if current else 'updated'}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from sagatsr.reports import build_reports

    pages = build_reports(
        args.notebooks, args.out, metrics_dir=args.metrics, mathjax_url=args.mathjax_url
    )
    index = Path(args.out) / "index.html"
    print(
        f"{len(pages)} notebook(s), each as a full and a reader's page, and {index} written "
        f"(headline figures from {args.metrics})"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sagatsr`` command."""
    from sagatsr.graphs.config import NeighborConfig

    parser = argparse.ArgumentParser(
        prog="sagatsr",
        description="SA-GAT-SR: graph attention networks that rank the physical features "
        "they use, and formulas distilled from them, for crystal properties.",
        epilog="A dataset of your own, end to end: sagatsr prepare DATA --name mine --target "
        "COLUMN:UNIT --out prepared/mine; sagatsr train prepared/mine --out models/mine (one "
        "run per target, RUN = models/mine/COLUMN); sagatsr analyze RUN; sagatsr distill RUN; "
        "sagatsr predict RUN STRUCTURES. "
        "'sagatsr COMMAND --help' for each command; the README for the rest.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    snapshot = commands.add_parser("snapshot", help="copy the dataset mirror into data/")
    snapshot.add_argument("--mirror", default=None, help="mirror folder ($SAGATSR_DATA_MIRROR)")
    snapshot.add_argument(
        "--out", default="data", type=_folder_to_write, help="destination folder (default: data)"
    )
    snapshot.add_argument("--datasets", nargs="*", help="only these dataset folders")
    snapshot.set_defaults(handler=_cmd_snapshot)

    profile = commands.add_parser("profile", help="write params.yaml from a profile")
    profile.add_argument("name", help="profile name, e.g. quick or paper")
    profile.add_argument("--profiles-dir", default=PROFILES_DIR, type=Path)
    profile.add_argument("--params", default=PARAMS_FILE, type=_file_to_write)
    profile.set_defaults(handler=_cmd_profile)

    features = commands.add_parser("features", help="the feature catalog")
    features_commands = features.add_subparsers(dest="features_command", required=True)
    listing = features_commands.add_parser("list", help="print the feature catalog")
    listing.add_argument("--level", choices=["node", "global"], default=None)
    listing.set_defaults(handler=_cmd_features_list)
    tables = features_commands.add_parser(
        "build-tables", help="rebuild the elemental tables from pymatgen and mendeleev"
    )
    tables.add_argument(
        "--out", default=None, type=_folder_to_write, help="folder (default: the package's)"
    )
    tables.set_defaults(handler=_cmd_features_build_tables)

    prepare = commands.add_parser(
        "prepare", help="validate a dataset, assign roles, build graphs and splits"
    )
    prepare.add_argument(
        "dataset",
        help="a registered dataset (castelli_perovskites, oqmd_perovskites, mp20_subset, "
        "jarvis_dft_3d) or the path of your own data: a folder or zip of CIF or VASP files "
        "(<id>.cif, <id>.vasp) with a labels CSV, a CSV or JSON with a CIF column, a JSON "
        "list of pymatgen structures, an extended-XYZ file or an ASE database",
    )
    prepare.add_argument("--raw", default=None, help="mirror-layout folder (default: the mirror)")
    prepare.add_argument("--out", required=True, type=_folder_to_write, help="output folder")
    prepare.add_argument(
        "--cache", default=None, type=_file_to_write, help="graph cache (SQLite file)"
    )
    own = prepare.add_argument_group("your own data")
    own.add_argument("--name", default="", help="dataset name (reports, run metadata)")
    own.add_argument(
        "--target",
        action="append",
        default=[],
        help="target column and unit, e.g. band_gap:eV (repeatable; no unit: dimensionless)",
    )
    own.add_argument("--id-column", default="id")
    own.add_argument("--cif-column", default="cif", help="column of CIF text (CSV, JSON)")
    own.add_argument("--labels", default=None, help="labels CSV of a folder or zip of CIFs")
    own.add_argument(
        "--structure-file",
        default="",
        type=_structure_file_name,
        metavar="NAME",
        help="the folder or zip holds calculation folders <id>/NAME (e.g. CONTCAR, POSCAR, "
        "final.vasp, relaxed.cif; .gz too): the id is the folder's name, other files are "
        "left alone",
    )
    own.add_argument(
        "--split-column", default="", help="column of train/val/test values (default: random)"
    )
    prepare.add_argument(
        "--cutoff", default=NeighborConfig.cutoff, type=float, help="neighbour cutoff, angstrom"
    )
    prepare.add_argument("--max-neighbors", default=NeighborConfig.max_neighbors, type=int)
    prepare.add_argument("--seed", default=0, type=int)
    prepare.add_argument("--workers", default=1, type=_at_least_one)
    prepare.add_argument("--max-entries", default=0, type=_at_least_zero, help="0 = all entries")
    prepare.add_argument("--quiet", action="store_true", help="no progress bars")
    prepare.set_defaults(handler=_cmd_prepare)
    train = commands.add_parser("train", help="train SA-GAT models on a prepared dataset")
    train.add_argument("prepared", type=Path, help="prepared dataset folder")
    train.add_argument("--subset", default="all")
    train.add_argument("--split", default="random", help="e.g. random, matbench_fold0")
    train.add_argument(
        "--target", action="append", default=None, help="repeatable; default or 'all': every target"
    )
    train.add_argument(
        "--out", required=True, type=_folder_to_write, help="runs go to OUT/<target>"
    )
    train.add_argument(
        "--train-fraction",
        type=_fraction,
        default=1.0,
        help="train on this share of the training part, sampled with --seed (learning curves; "
        "validation and test stay whole)",
    )
    train.add_argument(
        "--hide-test",
        action="store_true",
        help="print the best validation MAE instead of the test MAE (comparing recipes: choose "
        "on validation without seeing the test part; metrics.json still holds both)",
    )
    train.add_argument(
        "--refit",
        action="store_true",
        help="train on the training and validation parts together for all epochs and keep the "
        "last epoch (a recipe's final model; validation figures are then in-sample; needs "
        "--patience 0)",
    )
    train.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        help="train an ensemble, one member per seed (OUT/<target>/seed<k>/), calibrate its "
        "spread on the validation part and write ensemble.json and predictions.csv; "
        "`sagatsr predict OUT/<target>` then prints value +- uncertainty",
    )
    _add_training_options(train)
    train.set_defaults(handler=_cmd_train, runs_network=True)

    predict = commands.add_parser("predict", help="predict CIF or POSCAR files with a saved model")
    predict.add_argument(
        "model", type=Path, help="a run folder, a model folder (<run>/model) or an ensemble folder"
    )
    predict.add_argument(
        "cifs",
        metavar="structures",
        nargs="+",
        help="CIF files (.cif, .cif.gz), VASP files (POSCAR*, CONTCAR*, *.vasp), files of "
        "many structures (.csv/.json with CIF text, .extxyz, ASE .db, .zip of CIF or VASP files; "
        "every record), folders or glob patterns ('dir/*.cif')",
    )
    predict.add_argument(
        "--workers",
        type=_at_least_one,
        default=2,
        help="processes that parse files and build graphs",
    )
    predict.add_argument(
        "--batch-size", type=_at_least_one, default=256, help="structures per forward pass"
    )
    predict.add_argument(
        "--id-column",
        default="id",
        help="id column or key of the records of a file of many structures (default: id)",
    )
    predict.add_argument(
        "--cif-column", default="cif", help="column of CIF text in a CSV or JSON (default: cif)"
    )
    predict.add_argument(
        "--structure-file",
        default="",
        type=_structure_file_name,
        metavar="NAME",
        help="a folder or zip given holds calculation folders: predict the file NAME of "
        "each (e.g. CONTCAR), named by its folder",
    )
    predict.add_argument(
        "--csv",
        type=_file_to_write,
        default=None,
        help="also write one row per structure to this CSV (value, uncertainty, formula "
        "value, domain warnings, error)",
    )
    predict.add_argument(
        "--top", type=_at_least_zero, default=5, help="top importance coefficients shown"
    )
    predict.add_argument("--json", action="store_true", help="machine-readable output")
    predict.set_defaults(handler=_cmd_predict, runs_network=True)

    analyze = commands.add_parser(
        "analyze", help="the importance coefficients of a trained run, ranked (table or CSV)"
    )
    analyze.add_argument("run", type=Path, help="a finished run folder")
    analyze.add_argument(
        "--prepared-root",
        type=Path,
        help="folder holding the run's prepared dataset as <root>/<dataset name> (default: "
        "the folder the run was trained on, else artifacts/prepared)",
    )
    analyze.add_argument("--part", default="test", choices=["train", "val", "test"])
    analyze.add_argument("--top", type=_at_least_zero, default=15, help="features printed")
    analyze.add_argument(
        "--out", type=_file_to_write, default=None, help="write the whole ranking (CSV)"
    )
    analyze.set_defaults(handler=_cmd_analyze, runs_network=True)

    distill = commands.add_parser(
        "distill", help="symbolic-regression formulas of a trained run (written into the run)"
    )
    distill.add_argument("run", type=Path, help="a finished run folder")
    distill.add_argument(
        "--prepared-root",
        type=Path,
        help="folder holding the run's prepared dataset as <root>/<dataset name> (default: "
        "the folder the run was trained on, else artifacts/prepared)",
    )
    distill.add_argument(
        "--engine",
        action="append",
        choices=["sisso", "operon", "pysr"],
        default=None,
        help="SR engine (repeatable; default sisso)",
    )
    distill.add_argument(
        "--top-k", type=_at_least_one, default=5, help="features given to SR with Ep"
    )
    distill.add_argument(
        "--descriptor-k", type=_at_least_one, default=10, help="features without Ep"
    )
    distill.add_argument(
        "--ranking", choices=["ic", "permutation", "integrated_gradients"], default="ic"
    )
    distill.add_argument(
        "--no-group-rule", action="store_true", help="allow near-duplicate features together"
    )
    distill.add_argument("--k-folds", type=int, default=3, help="fold models for out-of-fold Ep")
    distill.add_argument(
        "--fold-epochs", type=int, default=0, help="epochs of the fold models (0: the run's)"
    )
    distill.add_argument(
        "--oof-root", type=_folder_to_write, default=None, help="default: <run>/oof"
    )
    distill.add_argument("--n-sis", type=int, default=100, help="SISSO screening size")
    distill.add_argument("--max-dim", type=int, default=3, help="SISSO descriptor dimension")
    distill.set_defaults(handler=_cmd_distill, runs_network=True)

    benchmark = commands.add_parser("benchmark", help="measure speed; write reports/metrics")
    benchmarks = benchmark.add_subparsers(dest="benchmark_command", required=True)
    featurize = benchmarks.add_parser("featurize", help="crystal graphs per second")
    featurize.add_argument("dataset", nargs="?", default="castelli_perovskites")
    featurize.add_argument("--raw", default=None, help="mirror root (default: the mirror)")
    featurize.add_argument("--workers", default=2, type=_at_least_one)
    featurize.add_argument("--max-entries", default=0, type=_at_least_zero, help="0 = all entries")
    featurize.add_argument("--cutoff", default=NeighborConfig.cutoff, type=float, help="angstrom")
    featurize.add_argument("--max-neighbors", default=NeighborConfig.max_neighbors, type=int)
    featurize.add_argument("--out", default="reports/metrics/featurize.json", type=_file_to_write)
    featurize.set_defaults(handler=_cmd_benchmark_featurize)

    domain = benchmarks.add_parser(
        "training_domain",
        help="share of a split's test part and of other datasets outside its training domain",
    )
    domain.add_argument("--prepared-root", default="artifacts/prepared", type=Path)
    domain.add_argument("--dataset", default="castelli_perovskites")
    domain.add_argument("--subset", default="all")
    domain.add_argument("--split", default="matbench_fold0")
    domain.add_argument(
        "--others", nargs="*", default=["oqmd_perovskites", "mp20_subset"], help="datasets"
    )
    domain.add_argument(
        "--out", default="reports/metrics/training_domain.json", type=_file_to_write
    )
    domain.set_defaults(handler=_cmd_benchmark_training_domain)
    matbench = benchmarks.add_parser("matbench", help="Matbench perovskites, 5 folds")
    matbench.add_argument(
        "--prepared", default="artifacts/prepared/castelli_perovskites", type=Path
    )
    matbench.add_argument(
        "--runs", default="models/matbench", type=_folder_to_write, help="run folders"
    )
    matbench.add_argument("--folds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    matbench.add_argument(
        "--seeds",
        type=int,
        nargs="*",
        default=[],
        help="two or more seeds: an ensemble per fold, with calibrated uncertainty "
        "(default: one model per fold, seed --seed)",
    )
    matbench.add_argument(
        "--out",
        default=None,
        type=_file_to_write,
        help="default reports/metrics/matbench_perovskites.json",
    )
    matbench.add_argument(
        "--parts",
        default=None,
        type=_folder_to_write,
        help="folder of finished folds and ensemble members: those found there with the same "
        "recipe are read, not trained; every fold and member finished is written there (run "
        "the folds, and the members of a fold, in separate sessions)",
    )
    matbench.add_argument(
        "--refit",
        action="store_true",
        help="train each model on the fold's training and validation parts, for all epochs, "
        "keeping the last (a fixed recipe's final models; validation figures are in-sample)",
    )
    matbench.add_argument(
        "--calibration-from",
        type=Path,
        default=None,
        metavar="RESULT",
        help="calibrate each fold's ensemble spread as in this finished result (or parts "
        "folder) of the same recipe without --refit (required with --refit and --seeds)",
    )
    _add_training_options(matbench)
    matbench.set_defaults(handler=_cmd_benchmark_matbench, runs_network=True)
    combined = benchmarks.add_parser(
        "matbench_combined",
        help="Matbench ensembles of the members of several finished benchmarks (no training)",
    )
    combined.add_argument(
        "parts", type=Path, nargs="+", help="parts folders of finished benchmarks, one recipe each"
    )
    combined.add_argument(
        "--prepared", default="artifacts/prepared/castelli_perovskites", type=Path
    )
    combined.add_argument("--folds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    combined.add_argument("--out", required=True, type=_file_to_write, help="result JSON")
    combined.add_argument(
        "--calibration-from",
        type=Path,
        default=None,
        metavar="RESULT",
        help="calibrate each fold's spread as in this finished ensemble result (or parts "
        "folder) instead of on the validation slice: needed for members trained with --refit",
    )
    combined.set_defaults(handler=_cmd_benchmark_matbench_combined)
    for suite, text in (
        ("subsets", "OQMD ABO3/ABX3 formation energy and band gap, Castelli band gap"),
        ("embedding_ablation", "SAE vs FCN vs one-hot on Matbench fold(s) and AB(OX)3"),
    ):
        suite_parser = benchmarks.add_parser(suite, help=text)
        suite_parser.set_defaults(suite=suite, handler=_cmd_benchmark_suite, runs_network=True)
        suite_parser.add_argument("--prepared-root", default="artifacts/prepared", type=Path)
        suite_parser.add_argument("--runs", default="models/benchmarks", type=_folder_to_write)
        suite_parser.add_argument(
            "--folds", type=int, nargs="+", default=[0], help="ablation folds"
        )
        suite_parser.add_argument(
            "--out", default=None, type=_file_to_write, help="default reports/metrics/"
        )
        suite_parser.add_argument(
            "--parts",
            default=None,
            type=_folder_to_write,
            help="folder of finished runs: those found there with the same recipe are read, "
            "not trained; every run finished is written there (a suite over several sessions)",
        )
        _add_training_options(suite_parser)
    scaling = benchmarks.add_parser("scaling", help="O(n) inference time and memory")
    scaling.add_argument(
        "--repetitions",
        type=int,
        nargs="+",
        default=[1, 2, 3, 4, 6, 8, 11, 16],
        help="r x r x r supercells of 5-atom SrTiO3",
    )
    scaling.add_argument("--devices", nargs="+", default=["cpu", "cuda"])
    scaling.add_argument("--repeats", type=int, default=3)
    scaling.add_argument("--fit-min-atoms", type=int, default=500)
    scaling.add_argument("--out", default="reports/metrics/scaling.json", type=_file_to_write)
    scaling.set_defaults(handler=_cmd_benchmark_scaling)
    stability = benchmarks.add_parser(
        "ic_stability", help="IC ranking stability across finished runs (folds, seeds)"
    )
    stability.add_argument("runs", nargs="+", type=Path, help="run folders")
    stability.add_argument("--prepared-root", default="artifacts/prepared", type=Path)
    stability.add_argument("--part", default="test")
    stability.add_argument("--top", type=_at_least_one, default=10, help="k of the top-k overlap")
    stability.add_argument(
        "--out", default="reports/metrics/ic_stability_folds.json", type=_file_to_write
    )
    stability.set_defaults(handler=_cmd_benchmark_ic_stability)
    throughput = benchmarks.add_parser("throughput", help="training graphs per second")
    throughput.add_argument(
        "--prepared", default="artifacts/prepared/castelli_perovskites", type=Path
    )
    throughput.add_argument("--target", default="e_form")
    throughput.add_argument("--subset", default="all")
    throughput.add_argument("--n-graphs", type=int, default=2048, help="graphs per timed pass")
    throughput.add_argument("--repeats", type=int, default=5, help="timed passes per recipe")
    throughput.add_argument(
        "--sizes", nargs="+", default=["medium", "paper"], help="model sizes (medium, paper)"
    )
    throughput.add_argument("--devices", nargs="+", default=["cpu", "cuda"])
    throughput.add_argument(
        "--recipes",
        nargs="+",
        default=None,
        help="step recipes to time, by name (default: all of "
        "sagatsr.bench.throughput.DEFAULT_RECIPES; 'before' gives the speed-ups)",
    )
    throughput.add_argument(
        "--threads", type=int, default=0, help="torch threads (0: every available core)"
    )
    throughput.add_argument("--out", default="reports/metrics/throughput.json", type=_file_to_write)
    throughput.set_defaults(handler=_cmd_benchmark_throughput, runs_network=True)

    gpu_checks = benchmarks.add_parser(
        "gpu_checks",
        help="join the results of lib/sagatsr/bench/gpu_checks.sh (run on a GPU machine)",
    )
    gpu_checks.add_argument("results", type=Path, help="the script's results folder")
    gpu_checks.add_argument(
        "--sent-commit",
        default=None,
        help="commit of the tree that ran there, if its git state was stale or missing",
    )
    gpu_checks.add_argument("--out", default="reports/metrics/gpu_checks.json", type=_file_to_write)
    gpu_checks.set_defaults(handler=_cmd_benchmark_gpu_checks)

    determinism = benchmarks.add_parser(
        "determinism", help="test MAE against the torch thread count, beside the seed spread"
    )
    determinism.add_argument(
        "--prepared", default="artifacts/prepared/castelli_perovskites", type=Path
    )
    determinism.add_argument("--subset", default="all")
    determinism.add_argument("--split", default="matbench_fold0")
    determinism.add_argument("--target", default="e_form")
    determinism.add_argument("--runs", default="models/determinism", type=_folder_to_write)
    determinism.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    determinism.add_argument("--thread-counts", type=int, nargs="+", default=[1, 2])
    determinism.add_argument(
        "--out", default="reports/metrics/determinism.json", type=_file_to_write
    )
    _add_training_options(determinism)
    determinism.set_defaults(handler=_cmd_benchmark_determinism, runs_network=True)

    example = benchmarks.add_parser(
        "worked_example",
        help="collect a prepared, trained and distilled user run into one result file",
    )
    example.add_argument("run", type=Path, help="a finished, distilled run folder")
    example.add_argument("--prepared-root", default="artifacts/prepared", type=Path)
    example.add_argument(
        "--out", default="reports/metrics/user_data_mp20.json", type=_file_to_write
    )
    example.set_defaults(handler=_cmd_benchmark_worked_example)

    sisso = benchmarks.add_parser(
        "sisso", help="our SISSO against TorchSISSO: same descriptors, wall times"
    )
    sisso.add_argument("--samples", type=int, default=500)
    sisso.add_argument("--features", type=int, default=20)
    sisso.add_argument("--max-complexity", type=int, default=1)
    sisso.add_argument("--max-dim", type=int, default=3)
    sisso.add_argument("--n-sis", type=int, default=40)
    sisso.add_argument("--device", default="cpu")
    sisso.add_argument("--repeats", type=int, default=1)
    sisso.add_argument("--seed", type=int, default=0)
    sisso.add_argument(
        "--no-exhaustive",
        action="store_true",
        help="skip the extra run of our engine over the whole feature space",
    )
    sisso.add_argument(
        "--threads", type=int, default=0, help="torch threads (0: every available core)"
    )
    sisso.add_argument("--out", default="reports/metrics/sisso_engine.json", type=_file_to_write)
    sisso.set_defaults(handler=_cmd_benchmark_sisso)

    faithfulness = benchmarks.add_parser(
        "ic_faithfulness",
        help="do the ICs find planted features, hold across seeds, and matter when removed?",
    )
    faithfulness.add_argument("--prepared-root", default="artifacts/prepared", type=Path)
    faithfulness.add_argument("--n-train", type=int, default=4000, help="training structures")
    faithfulness.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    faithfulness.add_argument("--removal-k", type=int, default=10)
    faithfulness.add_argument(
        "--datasets",
        nargs="+",
        default=None,
        help="only these datasets (default: both)",
    )
    faithfulness.add_argument(
        "--processes",
        type=_at_least_one,
        default=1,
        help="run the datasets as this many processes side by side, each with its share of "
        "the cores, and merge their results (2 on a 2-core machine)",
    )
    faithfulness.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        default=None,
        help="combine result files of runs on different datasets into --out (trains nothing)",
    )
    faithfulness.add_argument(
        "--work-dir",
        type=_folder_to_write,
        default=None,
        help="keep the trained models here, and resume there after an interruption (default: none)",
    )
    faithfulness.add_argument(
        "--out", default="reports/metrics/ic_faithfulness.json", type=_file_to_write
    )
    faithfulness.set_defaults(handler=_cmd_benchmark_ic_faithfulness, runs_network=True)
    encodings = benchmarks.add_parser(
        "ic_encodings",
        help="compare SAE variants on planted-feature recall, seed stability and accuracy",
    )
    encodings.add_argument("--prepared-root", default="artifacts/prepared", type=Path)
    encodings.add_argument(
        "--encodings",
        nargs="+",
        default=_OPTION_CHOICES["encoding"],
        help="names of sagatsr.model.config.ENCODINGS",
    )
    encodings.add_argument(
        "--processes",
        type=_at_least_one,
        default=1,
        help="run the encodings as this many processes side by side, each with its share of "
        "the cores, and merge their results (2 on a 2-core machine)",
    )
    encodings.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    encodings.add_argument(
        "--fold0",
        type=Path,
        default=None,
        metavar="COMPARISON",
        help="instead: Matbench fold-0 validation MAE of the command line's recipe with the "
        "paper's encoding and the best of this comparison file (--work-dir keeps the runs; "
        "default models/ic_encodings_fold0)",
    )
    encodings.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        default=None,
        help="combine result files of runs on different encodings into --out (trains nothing)",
    )
    encodings.add_argument(
        "--work-dir",
        type=_folder_to_write,
        default=None,
        help="keep the trained models here, and resume there after an interruption (default: none)",
    )
    encodings.add_argument(
        "--out", default="reports/metrics/ic_encodings.json", type=_file_to_write
    )
    encodings.set_defaults(handler=_cmd_benchmark_ic_encodings, runs_network=True)
    predict_speed = benchmarks.add_parser(
        "predict", help="sagatsr predict on many CIF files: one at a time against batched"
    )
    predict_speed.add_argument("model", type=Path, help="a run, model or ensemble folder")
    predict_speed.add_argument("--raw", default=None, help="mirror root (default: the mirror)")
    predict_speed.add_argument("--n-files", type=int, default=2000)
    predict_speed.add_argument("--workers", type=_at_least_one, default=2)
    predict_speed.add_argument("--batch-size", type=_at_least_one, default=256)
    predict_speed.add_argument(
        "--baseline-cli",
        default="",
        help="another prediction command (the files are appended), timed end to end "
        "against sagatsr predict, e.g. an earlier release: "
        "'env PYTHONPATH=../old/lib python -m sagatsr predict OLD_MODEL'",
    )
    predict_speed.add_argument(
        "--baseline-label", default="", help="what the baseline is (e.g. its commit)"
    )
    predict_speed.add_argument(
        "--baseline-commit",
        default="",
        help="time this earlier commit's sagatsr predict as the baseline: its lib/ from git, "
        "with a model of MODEL's architecture that it prepares (--n-files Castelli "
        "structures) and trains for one epoch",
    )
    predict_speed.add_argument("--out", default="reports/metrics/predict.json", type=_file_to_write)
    predict_speed.set_defaults(handler=_cmd_benchmark_predict, runs_network=True)
    trials = benchmarks.add_parser(
        "trials", help="training recipes compared on validation (finished run folders)"
    )
    trials.add_argument("runs", nargs="+", type=Path, help="run folders, the reference first")
    trials.add_argument("--out", default="reports/metrics/recipe_trials.json", type=_file_to_write)
    trials.set_defaults(handler=_cmd_benchmark_trials)

    readme = commands.add_parser(
        "readme", help="regenerate the README's result figures from reports/metrics"
    )
    readme.add_argument("--readme", default="README.md", type=Path)
    readme.add_argument("--metrics", default="reports/metrics", type=Path)
    readme.add_argument("--check", action="store_true", help="only compare; exit 1 on a mismatch")
    readme.set_defaults(handler=_cmd_readme)

    report = commands.add_parser(
        "report", help="render executed notebooks to HTML; write the results dashboard"
    )
    report.add_argument("--notebooks", default="reports/nb", type=Path)
    report.add_argument(
        "--metrics",
        default="reports/metrics",
        type=Path,
        help="result files whose figures head reports/index.html (absent: not measured)",
    )
    report.add_argument("--out", default="reports", type=_folder_to_write)
    report.add_argument(
        "--mathjax-url",
        default="",
        help="load MathJax from here (e.g. a local copy); default none: pages read offline",
    )
    report.set_defaults(handler=_cmd_report)
    return parser


class UsageError(Exception):
    """A command-line value that the parser cannot check itself (exit status 2)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI.

    Args:
        argv: Arguments without the program name (``sys.argv[1:]`` when ``None``).

    Returns:
        The process exit status: 0 on success, 1 when the command failed (a bad
        file, a missing folder, invalid data; the message names it), 2 for a
        usage error (argparse's own exit, e.g. an unknown option, or a
        :class:`UsageError`).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.command_line = shlex.join(["sagatsr", *argv])
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format=LOG_FORMAT,
    )
    # The thread choice of training is worth seeing without --verbose.
    logging.getLogger("sagatsr.runtime").setLevel(logging.INFO)
    if getattr(args, "runs_network", False):
        # Large batches and structures on CPU: reuse freed memory instead of
        # faulting in fresh pages for every tensor (see sagatsr.runtime).
        from sagatsr.runtime import retain_freed_memory

        retain_freed_memory()
    try:
        return args.handler(args)
    except UsageError as error:
        print(f"sagatsr {args.command}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # Whoever read the output stopped (`sagatsr features list | head`): no traceback,
        # and no second one when Python flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (
        FileNotFoundError,
        FileExistsError,
        IsADirectoryError,
        NotADirectoryError,
        PermissionError,
        ValueError,
        KeyError,
        RuntimeError,
    ) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"sagatsr {args.command}: error: {message}", file=sys.stderr)
        return 1
