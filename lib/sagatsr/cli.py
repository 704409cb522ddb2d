"""Command-line interface: ``sagatsr <command> ...``.

Each command is a thin wrapper over a library function; heavy imports happen
inside the command so that ``sagatsr --help`` is instant.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

Handler = Callable[[argparse.Namespace], int]


def _cmd_snapshot(args: argparse.Namespace) -> int:
    from sagatsr.config import mirror_root
    from sagatsr.snapshot import snapshot_mirror

    mirror = mirror_root(args.mirror)
    if mirror is None:
        raise SystemExit("no dataset mirror configured: pass --mirror or set SAGATSR_DATA_MIRROR")
    copied = snapshot_mirror(mirror, args.out, datasets=args.datasets or None)
    print(f"snapshot of {mirror} in {args.out}: {len(copied)} file(s) updated")
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


def _cmd_prepare(args: argparse.Namespace) -> int:
    from sagatsr.graphs.neighbors import NeighborConfig
    from sagatsr.prepare import prepare_dataset

    summary = prepare_dataset(
        args.dataset,
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


def _cmd_report(args: argparse.Namespace) -> int:
    from sagatsr.reports import build_reports

    pages = build_reports(args.notebooks, args.out)
    print(f"{len(pages)} page(s) and {Path(args.out) / 'index.html'} written")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sagatsr`` command."""
    parser = argparse.ArgumentParser(prog="sagatsr", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", required=True)

    snapshot = commands.add_parser("snapshot", help="copy the dataset mirror into data/")
    snapshot.add_argument("--mirror", default=None, help="mirror folder ($SAGATSR_DATA_MIRROR)")
    snapshot.add_argument("--out", default="data", help="destination folder (default: data)")
    snapshot.add_argument("--datasets", nargs="*", help="only these dataset folders")
    snapshot.set_defaults(handler=_cmd_snapshot)

    profile = commands.add_parser("profile", help="write params.yaml from a profile")
    profile.add_argument("name", help="profile name, e.g. quick or paper")
    profile.add_argument("--profiles-dir", default="profiles", type=Path)
    profile.add_argument("--params", default="params.yaml", type=Path)
    profile.set_defaults(handler=_cmd_profile)

    features = commands.add_parser("features", help="the feature catalog")
    features_commands = features.add_subparsers(dest="features_command", required=True)
    listing = features_commands.add_parser("list", help="print the feature catalog")
    listing.add_argument("--level", choices=["node", "global"], default=None)
    listing.set_defaults(handler=_cmd_features_list)
    tables = features_commands.add_parser(
        "build-tables", help="rebuild the elemental tables from pymatgen and mendeleev"
    )
    tables.add_argument("--out", default=None, type=Path, help="folder (default: the package's)")
    tables.set_defaults(handler=_cmd_features_build_tables)

    prepare = commands.add_parser(
        "prepare", help="validate a dataset, assign roles, build graphs and splits"
    )
    prepare.add_argument("dataset", help="dataset name, e.g. castelli_perovskites")
    prepare.add_argument("--raw", default=None, help="mirror-layout folder (default: the mirror)")
    prepare.add_argument("--out", required=True, type=Path, help="output folder")
    prepare.add_argument("--cache", default=None, type=Path, help="graph cache (SQLite file)")
    prepare.add_argument("--cutoff", default=8.0, type=float, help="neighbour cutoff, angstrom")
    prepare.add_argument("--max-neighbors", default=12, type=int)
    prepare.add_argument("--seed", default=0, type=int)
    prepare.add_argument("--workers", default=1, type=int)
    prepare.add_argument("--max-entries", default=0, type=int, help="0 = all entries")
    prepare.add_argument("--quiet", action="store_true", help="no progress bars")
    prepare.set_defaults(handler=_cmd_prepare)
    benchmark = commands.add_parser("benchmark", help="measure speed; write reports/metrics")
    benchmarks = benchmark.add_subparsers(dest="benchmark_command", required=True)
    featurize = benchmarks.add_parser("featurize", help="crystal graphs per second")
    featurize.add_argument("dataset", nargs="?", default="castelli_perovskites")
    featurize.add_argument("--raw", default=None, help="mirror root (default: the mirror)")
    featurize.add_argument("--workers", default=2, type=int)
    featurize.add_argument("--max-entries", default=0, type=int, help="0 = all entries")
    featurize.add_argument("--cutoff", default=8.0, type=float, help="angstrom")
    featurize.add_argument("--max-neighbors", default=12, type=int)
    featurize.add_argument("--out", default="reports/metrics/featurize.json", type=Path)
    featurize.set_defaults(handler=_cmd_benchmark_featurize)

    report = commands.add_parser("report", help="render executed notebooks to HTML")
    report.add_argument("--notebooks", default="reports/nb", type=Path)
    report.add_argument("--out", default="reports", type=Path)
    report.set_defaults(handler=_cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI.

    Args:
        argv: Arguments without the program name (``sys.argv[1:]`` when ``None``).

    Returns:
        The process exit status.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.command_line = " ".join(["sagatsr", *argv])
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.handler(args)
    except (FileNotFoundError, ValueError, KeyError, RuntimeError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"sagatsr {args.command}: error: {message}", file=sys.stderr)
        return 2
