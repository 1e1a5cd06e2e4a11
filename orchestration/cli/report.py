"""`report` and `deliver`: render an org's weekly reports, and email them."""

from __future__ import annotations

import argparse
import sys

from orchestration.cli.common import add_path_flags, add_reports_dir_flag, paths_of, week
from orchestration.config import Paths


def add_parsers(commands) -> None:
    report = commands.add_parser(
        "report", help="render the weekly HTML and PDF reports of an org (user, manager and org reports)"
    )
    report.add_argument("--org", required=True)
    report.add_argument(
        "--week", type=week, help="ISO week, e.g. 2026-W46 (default: the latest complete week in the org's time zone)"
    )
    who = report.add_mutually_exclusive_group()
    who.add_argument("--user", metavar="ID", help="only this user's personal report")
    who.add_argument("--manager", metavar="ID", help="only this manager's team report")
    who.add_argument("--all", action="store_true", help="every report of the org (the default)")
    report.add_argument("--workers", type=int, help="worker processes (default: one per CPU core)")
    add_reports_dir_flag(report)
    add_path_flags(report, "warehouse")
    report.set_defaults(handler=_report)

    deliver = commands.add_parser(
        "deliver", help="email a week's reports (rendering any that are missing); each report is sent once"
    )
    deliver.add_argument("--org", required=True)
    deliver.add_argument(
        "--week", type=week, help="ISO week, e.g. 2026-W46 (default: the latest complete week in the org's time zone)"
    )
    deliver.add_argument(
        "--resend", action="store_true", help="send again the reports that changed since they were sent"
    )
    deliver.add_argument("--workers", type=int, help="worker processes for rendering (default: one per CPU core)")
    add_reports_dir_flag(deliver)
    add_path_flags(deliver, "outbox", "ledger", "warehouse")
    deliver.add_argument("-v", "--verbose", action="store_true")
    deliver.set_defaults(handler=_deliver)


def _report(args: argparse.Namespace) -> int:
    from reports.weekly.render import render_reports

    def render(paths: Paths) -> int:
        outcome = render_reports(
            paths.warehouse,
            paths.reports_dir,
            args.org,
            week=args.week,
            user_id=args.user,
            manager_id=args.manager,
            workers=args.workers,
        )
        reports = len({(file.audience, file.recipient_user_id) for file in outcome.files})
        print(f"{reports} report(s), {len(outcome.files)} files in {outcome.week_dir}")
        for failed in outcome.failed:  # the other reports are written; the manifest lists these under "failed"
            print(f"  not rendered: {failed.audience} report of {failed.recipient_user_id!r}: {failed.error}")
        print(f"manifest: {outcome.manifest}")
        return 1 if outcome.failed else 0

    return _run_report_command(args, render)


def _deliver(args: argparse.Namespace) -> int:
    from reports.delivery.mailer import Mailer
    from reports.delivery.weekly import deliver_week

    def deliver(paths: Paths) -> int:
        summary = deliver_week(
            paths.warehouse,
            paths.reports_dir,
            paths.ledger,
            args.org,
            args.week,
            mailer=Mailer.from_env(),
            outbox=paths.outbox,
            resend=args.resend,
            workers=args.workers,
        )
        print(summary.text())
        print(f"ledger: {paths.ledger}")
        return 1 if summary.failed else 0

    return _run_report_command(args, deliver)


def _run_report_command(args: argparse.Namespace, run) -> int:
    """`report` and `deliver`: check --workers, and turn the errors a user can fix into messages (exit 2)."""
    import duckdb

    from reports.delivery.mailer import MailConfigError
    from reports.weekly.render import ReportError

    paths = paths_of(args)
    if args.workers is not None and args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    try:
        return run(paths)
    except (ReportError, MailConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except duckdb.IOException as error:  # e.g. a refresh holds the warehouse file's write lock
        print(f"error: cannot read the warehouse {paths.warehouse}: {error}", file=sys.stderr)
        return 1
