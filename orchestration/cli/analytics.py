"""`analytics`: one analytics question answered from the warehouse, as JSON, a table or CSV."""

from __future__ import annotations

import argparse
import json
import sys

from orchestration.cli.common import add_path_flags, date, paths_of, render_table

ANALYTICS_QUESTIONS = ("summary", "timeseries", "by-agent", "cost-breakdown")


def add_parsers(commands) -> None:
    analytics = commands.add_parser("analytics", help="answer an analytics question from the warehouse")
    analytics.add_argument("question", choices=ANALYTICS_QUESTIONS)
    analytics.add_argument("--org", required=True)
    analytics.add_argument("--from", dest="date_from", type=date, help="first local date (YYYY-MM-DD)")
    analytics.add_argument("--to", dest="date_to", type=date, help="last local date (YYYY-MM-DD), inclusive")
    for flag in ("project", "repository", "agent", "user"):
        analytics.add_argument(f"--{flag}", action="append", default=[], help="repeat for several (OR)")
    analytics.add_argument("--interval", default="day", choices=("day", "week"))
    analytics.add_argument("--metric", default="sessions", choices=("sessions", "cost", "tokens"))
    analytics.add_argument("--format", default="json", choices=("json", "table", "csv"))
    add_path_flags(analytics, "warehouse")
    analytics.set_defaults(handler=_analytics)


def _analytics(args: argparse.Namespace) -> int:
    from reports.analytics.query import AnalyticsQueries, Filters, QueryError, checked_date, connect_read_only

    paths = paths_of(args)
    if not paths.warehouse.exists():
        print(f"error: no warehouse at {paths.warehouse}; run `session-analytics refresh` first", file=sys.stderr)
        return 2
    try:
        filters = Filters(
            date_from=checked_date("--from", args.date_from),
            date_to=checked_date("--to", args.date_to),
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
    if args.format == "csv":
        from reports.analytics.answers import ANSWER_SHAPES
        from reports.api.answer_csv import answer_csv

        sys.stdout.write(answer_csv(answer, ANSWER_SHAPES[args.question]))
    else:
        print(json.dumps(answer, indent=2) if args.format == "json" else render_table(answer))
    return 0
