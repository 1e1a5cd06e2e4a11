"""`alerts`: email the budget and anomaly alerts due now (each once; docs/budgets.md)."""

from __future__ import annotations

import argparse
import sys

from orchestration.cli.common import add_path_flags, paths_of


def add_parsers(commands) -> None:
    alerts = commands.add_parser(
        "alerts", help="email the budget and anomaly alerts due now (each alert once, to the people it concerns)"
    )
    alerts.add_argument("--org", action="append", metavar="ORG", help="this org only; repeat (default: every org)")
    alerts.add_argument(
        "--anomaly-min-usd",
        type=float,
        help="email anomalies costing at least this (default: SESSION_ANALYTICS_ANOMALY_EMAIL_MIN_USD or 200)",
    )
    add_path_flags(alerts, "outbox", "ledger", "warehouse")
    alerts.add_argument("-v", "--verbose", action="store_true")
    alerts.set_defaults(handler=_alerts)


def _alerts(args: argparse.Namespace) -> int:
    import duckdb

    from reports.analytics.query import AnalyticsQueries, connect_read_only
    from reports.analytics.scope import ScopeError
    from reports.delivery.budget_alerts import send_alerts
    from reports.delivery.mailer import MailConfigError, Mailer

    paths = paths_of(args)
    if not paths.warehouse.exists():
        print(f"error: no warehouse at {paths.warehouse} (run `session-analytics refresh` first)", file=sys.stderr)
        return 2
    try:
        mailer = Mailer.from_env()
        if args.org:
            orgs = args.org
        else:
            with connect_read_only(paths.warehouse) as conn:
                orgs = AnalyticsQueries(conn).org_ids()
        failed = 0
        for org_id in orgs:
            summary = send_alerts(
                paths.warehouse,
                paths.ledger,
                org_id,
                mailer=mailer,
                outbox=paths.outbox,
                anomaly_min_usd=args.anomaly_min_usd,
            )
            print(summary.text())
            failed += len(summary.failed)
    except (ScopeError, MailConfigError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except duckdb.IOException as error:
        print(f"error: cannot read the warehouse {paths.warehouse}: {error}", file=sys.stderr)
        return 1
    print(f"ledger: {paths.ledger}")
    return 1 if failed else 0
