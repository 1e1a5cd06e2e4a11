"""`session-analytics`: refresh the warehouse, ask the analytics questions, generate sample data."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from typing import Any, Sequence

from orchestration.config import PATH_SETTINGS, Paths

ANALYTICS_QUESTIONS = ("summary", "timeseries", "by-agent", "cost-breakdown")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING)
    return args.handler(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="session-analytics", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    refresh = commands.add_parser("refresh", help="load new raw files and the directory, rebuild the marts")
    _add_path_flags(refresh, "raw_dir", "directory", "warehouse", "lake_dir", "working_warehouse")
    refresh.add_argument("--full", action="store_true", help="reload every delivery folder, changed or not")
    refresh.add_argument("-v", "--verbose", action="store_true")
    refresh.set_defaults(handler=_refresh)

    backfill = commands.add_parser(
        "backfill", help="(re)load the platform delivery folders of a date range and rebuild what they touch"
    )
    backfill.add_argument("--from", dest="date_from", type=_date, required=True, help="first delivery date")
    backfill.add_argument("--to", dest="date_to", type=_date, required=True, help="last delivery date, inclusive")
    _add_path_flags(backfill, "raw_dir", "directory", "warehouse", "lake_dir", "working_warehouse")
    backfill.add_argument("-v", "--verbose", action="store_true")
    backfill.set_defaults(handler=_backfill)

    analytics = commands.add_parser("analytics", help="answer an analytics question from the warehouse")
    analytics.add_argument("question", choices=ANALYTICS_QUESTIONS)
    analytics.add_argument("--org", required=True)
    analytics.add_argument("--from", dest="date_from", type=_date, help="first local date (YYYY-MM-DD)")
    analytics.add_argument("--to", dest="date_to", type=_date, help="last local date (YYYY-MM-DD), inclusive")
    for flag in ("project", "repository", "agent", "user"):
        analytics.add_argument(f"--{flag}", action="append", default=[], help="repeat for several (OR)")
    analytics.add_argument("--interval", default="day", choices=("day", "week"))
    analytics.add_argument("--metric", default="sessions", choices=("sessions", "cost", "tokens"))
    analytics.add_argument("--format", default="json", choices=("json", "table"))
    _add_path_flags(analytics, "warehouse")
    analytics.set_defaults(handler=_analytics)

    sample = commands.add_parser("generate-sample", help="write a seeded, realistic sample org")
    sample.add_argument("--users", type=int, default=40)
    sample.add_argument("--days", type=int, default=56)
    sample.add_argument("--seed", type=int, default=7)
    sample.add_argument("--end-date", type=_date, help="last activity date (default: yesterday, UTC)")
    sample.add_argument("--if-absent", action="store_true", help="do nothing when raw data is already there")
    _add_path_flags(sample, "raw_dir", "directory")
    sample.set_defaults(handler=_generate_sample)
    return parser


def _add_path_flags(parser: argparse.ArgumentParser, *names: str) -> None:
    for name in names:
        env_var, default = PATH_SETTINGS[name]
        parser.add_argument(
            f"--{name.replace('_', '-')}", dest=name, help=f"default: ${env_var} or {default or '<warehouse folder>/.build/<warehouse file>'}"
        )


def _paths(args: argparse.Namespace) -> Paths:
    return Paths.resolve(**{name: getattr(args, name, None) for name in PATH_SETTINGS})


def _refresh(args: argparse.Namespace) -> int:
    paths = _paths(args)
    paths.export_to_environment()
    # Imported here: loading the code location reads the dbt manifest, which only `refresh` needs.
    from orchestration.refresh import run_refresh

    outcome = run_refresh(paths, full=args.full, log_level="DEBUG" if args.verbose else "INFO")
    print(json.dumps(outcome, indent=2, default=str))
    return 0 if outcome["success"] else 1


def _backfill(args: argparse.Namespace) -> int:
    if args.date_from > args.date_to:
        print(f"error: --from {args.date_from} is after --to {args.date_to}", file=sys.stderr)
        return 2
    paths = _paths(args)
    paths.export_to_environment()
    from orchestration.refresh import run_refresh

    outcome = run_refresh(
        paths,
        partition_range=(args.date_from.isoformat(), args.date_to.isoformat()),
        log_level="DEBUG" if args.verbose else "INFO",
    )
    print(json.dumps(outcome, indent=2, default=str))
    return 0 if outcome["success"] else 1


def _analytics(args: argparse.Namespace) -> int:
    from reports.query import AnalyticsQueries, Filters, QueryError, connect_read_only

    paths = _paths(args)
    if not paths.warehouse.exists():
        print(f"error: no warehouse at {paths.warehouse}; run `session-analytics refresh` first", file=sys.stderr)
        return 2
    try:
        filters = Filters(
            date_from=args.date_from,
            date_to=args.date_to,
            projects=tuple(args.project),
            repositories=tuple(args.repository),
            agents=tuple(args.agent),
            users=tuple(args.user),
        )
        with connect_read_only(paths.warehouse) as conn:
            queries = AnalyticsQueries(conn)
            if args.question == "timeseries":
                answer = queries.timeseries(args.org, filters, interval=args.interval, metric=args.metric)
            else:
                answer = getattr(queries, args.question.replace("-", "_"))(args.org, filters)
    except QueryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(answer, indent=2) if args.format == "json" else render_table(answer))
    return 0


def _generate_sample(args: argparse.Namespace) -> int:
    from orchestration.sample import generate_sample

    paths = _paths(args)
    platform_dir = paths.raw_dir / "platform"
    if args.if_absent and platform_dir.is_dir() and any(platform_dir.iterdir()):
        print(f"sample data already present in {paths.raw_dir}")
        return 0
    summary = generate_sample(
        paths.raw_dir, paths.directory, users=args.users, days=args.days, seed=args.seed, end_date=args.end_date
    )
    print(summary)
    return 0


def render_table(answer: dict[str, Any]) -> str:
    """A plain-text rendering: scalars as `name: value`, each list of objects as an aligned table."""
    blocks: list[str] = []
    scalars = [(key, value) for key, value in answer.items() if not isinstance(value, list)]
    if scalars:
        width = max(len(key) for key, _ in scalars)
        blocks.append("\n".join(f"{key:<{width}}  {_cell(value)}" for key, value in scalars))
    for key, rows in answer.items():
        if not isinstance(rows, list):
            continue
        if not rows:
            blocks.append(f"{key}: (none)")
            continue
        headers = list(rows[0])
        cells = [[_cell(row[h]) for h in headers] for row in rows]
        widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)), "  ".join("-" * w for w in widths)]
        lines += ["  ".join(c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(r, widths)) for r in cells]
        blocks.append(f"{key}:\n" + "\n".join(lines))
    return "\n\n".join(blocks)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.6f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "").replace("-", "").isdigit()


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


if __name__ == "__main__":
    sys.exit(main())
