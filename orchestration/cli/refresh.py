"""`refresh` and `backfill`: the only commands that write the warehouse."""

from __future__ import annotations

import argparse
import json
import sys

from orchestration import engines
from orchestration.cli.common import add_path_flags, date, logs_on_stderr, paths_of


def add_parsers(commands) -> None:
    refresh = commands.add_parser("refresh", help="load new raw files and the directory, rebuild the marts")
    add_path_flags(refresh, "raw_dir", "directory", "warehouse", "lake_dir", "working_warehouse")
    refresh.add_argument("--full", action="store_true", help="reload every delivery folder, changed or not")
    _add_engine_flag(refresh)
    refresh.add_argument("-v", "--verbose", action="store_true")
    refresh.set_defaults(handler=_refresh)

    backfill = commands.add_parser(
        "backfill", help="(re)load the platform delivery folders of a date range and rebuild what they touch"
    )
    backfill.add_argument("--from", dest="date_from", type=date, required=True, help="first delivery date")
    backfill.add_argument("--to", dest="date_to", type=date, required=True, help="last delivery date, inclusive")
    add_path_flags(backfill, "raw_dir", "directory", "warehouse", "lake_dir", "working_warehouse")
    _add_engine_flag(backfill)
    backfill.add_argument("-v", "--verbose", action="store_true")
    backfill.set_defaults(handler=_backfill)


def _add_engine_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        choices=engines.ENGINES,
        default=None,
        help=f"where dbt builds the marts (default: ${engines.ENGINE_ENV} or duckdb); spark: see docs/spark.md",
    )


def _refresh(args: argparse.Namespace) -> int:
    paths = paths_of(args)
    paths.export_to_environment()
    with logs_on_stderr():
        # Imported here: loading the code location reads the dbt manifest, which only `refresh` needs.
        from orchestration.refresh import run_refresh

        outcome = run_refresh(
            paths, full=args.full, log_level="DEBUG" if args.verbose else "INFO", engine=_engine(args)
        )
    print(json.dumps(outcome, indent=2, default=str))
    return 0 if outcome["success"] else 1


def _backfill(args: argparse.Namespace) -> int:
    if args.date_from > args.date_to:
        print(f"error: --from {args.date_from} is after --to {args.date_to}", file=sys.stderr)
        return 2
    paths = paths_of(args)
    paths.export_to_environment()
    with logs_on_stderr():
        from orchestration.refresh import run_refresh

        outcome = run_refresh(
            paths,
            partition_range=(args.date_from.isoformat(), args.date_to.isoformat()),
            log_level="DEBUG" if args.verbose else "INFO",
            engine=_engine(args),
        )
    print(json.dumps(outcome, indent=2, default=str))
    return 0 if outcome["success"] else 1


def _engine(args: argparse.Namespace) -> str:
    return args.engine or engines.current()
